import { describe, expect, it } from '@jest/globals';
import { probeWebgpu, selectBackend } from '@ablate/backend';
import { checkModelProperties, maxRelativeDiff, trainingLosses, type PropertyResult } from './model-properties';

const failed = (rs: PropertyResult[]) => rs.filter((r) => !r.ok);

describe('model properties, measured with async reads only', () => {
  it('hold on the cpu backend (the same checks scripts/gpu-check.sh runs on webgpu)', async () => {
    await selectBackend({ requested: 'cpu' });
    const rs = await checkModelProperties();
    expect(rs.length).toBe(10);
    expect(failed(rs)).toEqual([]);
  });

  it('training losses are reproducible and compared step by step', async () => {
    await selectBackend({ requested: 'cpu' });
    const a = await trainingLosses('test', 3, 8);
    expect(a).toHaveLength(3);
    expect(maxRelativeDiff(a, await trainingLosses('test', 3, 8))).toBe(0);
    expect(maxRelativeDiff([1, 2], [1, 2.5])).toBeCloseTo(0.25, 6);
  });
});

// On webgpu: only where Dawn has a real adapter. Dawn's null adapter computes nothing, so numeric checks would fail
// for no reason of ours; the kernels and shaders are checked on it by webgpu-kernels.test.ts instead.
const probe = probeWebgpu(process.env);
const real = probe.adapters.filter((a) => a.backend !== 'null');
const reason =
  real.length > 0
    ? ''
    : probe.adapters.length > 0
      ? "only Dawn's null adapter, which computes nothing"
      : (probe.warnings.find((w) => /Vulkan|driver/.test(w)) ?? probe.error ?? 'Dawn found no GPU adapter');
(real.length > 0 ? describe : describe.skip)(`model properties on webgpu${reason ? ` (skipped: ${reason})` : ` (${real[0]?.name})`}`, () => {
  it('hold on a real GPU adapter', async () => {
    await selectBackend({ requested: 'webgpu' });
    expect(failed(await checkModelProperties())).toEqual([]);
  });

  it("the tiny preset's first 50 steps track wasm's loss within float32 tolerance", async () => {
    await selectBackend({ requested: 'wasm' });
    const wasm = await trainingLosses('tiny', 50);
    await selectBackend({ requested: 'webgpu' });
    expect(maxRelativeDiff(wasm, await trainingLosses('tiny', 50))).toBeLessThan(1e-3);
  });
});
