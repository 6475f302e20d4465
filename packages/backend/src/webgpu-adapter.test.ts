import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deviceLayerDir, probeWebgpu } from './webgpu';
import { adapterRequestFromEnv, chooseAdapter, layerEnv, parseAdapterList, type DawnAdapter } from './webgpu-adapter';

const h200 = (n: number): DawnAdapter[] => Array.from({ length: n }, () => ({ backend: 'vulkan', name: 'NVIDIA H200' }));

describe('choosing a Dawn adapter', () => {
  it('parses the adapter list dawn.node prints when no adapter matches', () => {
    const msg = "no adapter with name '\u0001' found\nAvailable adapters:\n * backend: 'vulkan', name: 'NVIDIA H200'\n * backend: 'vulkan', name: 'NVIDIA L4'";
    expect(parseAdapterList(msg)).toEqual([
      { backend: 'vulkan', name: 'NVIDIA H200' },
      { backend: 'vulkan', name: 'NVIDIA L4' },
    ]);
    expect(parseAdapterList('')).toEqual([]);
  });

  it('lists the null adapter through the real dawn.node (DAWNNODE_BACKEND=null), in a child process', () => {
    const probe = probeWebgpu({ ...process.env, DAWNNODE_BACKEND: 'null' });
    expect(probe.error).toBeUndefined();
    expect(probe.adapters).toEqual([{ backend: 'null', name: 'Null backend' }]);
    expect(chooseAdapter(probe.adapters, { index: 0 })).toMatchObject({ ok: true, index: 0, flags: ['adapter=Null backend'], via: 'name' });
    expect(chooseAdapter(probe.adapters, { index: 1 })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('GPU 1 was asked for (ABLATE_GPU, set by --gpus) but Dawn sees 0: Null backend (null)'),
    });
  });

  it('without a request takes what Dawn would: the first adapter', () => {
    expect(chooseAdapter(h200(2), {})).toMatchObject({ ok: true, index: 0, flags: [], via: 'first' });
    expect(chooseAdapter([], {})).toEqual({ ok: false, reason: 'Dawn found no usable adapter' });
  });

  it('selects GPU i by name when its name is unique, with the adapter= flag', () => {
    const mixed: DawnAdapter[] = [
      { backend: 'vulkan', name: 'NVIDIA H200' },
      { backend: 'vulkan', name: 'NVIDIA L4' },
    ];
    expect(chooseAdapter(mixed, { index: 1 })).toMatchObject({ ok: true, index: 1, flags: ['adapter=NVIDIA L4'], via: 'name' });
    expect(chooseAdapter(mixed, { name: 'L4' })).toMatchObject({ ok: true, index: 1, flags: ['adapter=L4'] });
    expect(chooseAdapter(mixed, { name: 'A100' })).toMatchObject({
      ok: false,
      reason: 'WEBGPU_ADAPTER=A100 matches no adapter; Dawn sees 0: NVIDIA H200 (vulkan), 1: NVIDIA L4 (vulkan)',
    });
  });

  it('refuses an index whose name an earlier adapter also matches, unless the device-index layer is there', () => {
    // dawn.node returns the FIRST adapter whose name contains the flag: 'NVIDIA H200' would always give GPU 0.
    const refused = chooseAdapter(h200(2), { index: 1 });
    expect(refused).toMatchObject({ ok: false, reason: expect.stringContaining("adapters 0 and 1 are both named 'NVIDIA H200'") });
    expect(chooseAdapter(h200(2), { index: 0 })).toMatchObject({ ok: true, via: 'name' });
    expect(chooseAdapter(h200(2), { index: 1 }, { layerAvailable: true })).toMatchObject({ ok: true, index: 1, flags: [], via: 'layer' });
    // A name that is a prefix of an earlier one's is not unique either.
    const prefix: DawnAdapter[] = [
      { backend: 'vulkan', name: 'NVIDIA H200 NVL' },
      { backend: 'vulkan', name: 'NVIDIA H200' },
    ];
    expect(chooseAdapter(prefix, { index: 1 })).toMatchObject({ ok: false });
    expect(layerEnv('/opt/layer', 1)).toEqual({
      VK_ADD_LAYER_PATH: '/opt/layer',
      VK_INSTANCE_LAYERS: 'VK_LAYER_ABLATE_device_index',
      ABLATE_VK_DEVICE_INDEX: '1',
    });
  });

  it('reads ABLATE_GPU and WEBGPU_ADAPTER, and names a bad ABLATE_GPU', () => {
    expect(adapterRequestFromEnv({ ABLATE_GPU: '1', WEBGPU_ADAPTER: 'H200' })).toEqual({ index: 1, name: 'H200' });
    expect(adapterRequestFromEnv({})).toEqual({});
    expect(adapterRequestFromEnv({ ABLATE_GPU: 'GPU-1' })).toEqual({ error: 'ABLATE_GPU=GPU-1: expected a GPU index (0, 1, …), as given to --gpus' });
  });

  it('finds the device-index layer where ABLATE_VK_LAYER_DIR says, by its manifest', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vk-layer-'));
    expect(deviceLayerDir({ ABLATE_VK_LAYER_DIR: dir })).toBeNull();
    writeFileSync(path.join(dir, 'VkLayer_ABLATE_device_index.json'), '{}');
    expect(deviceLayerDir({ ABLATE_VK_LAYER_DIR: dir })).toBe(dir);
  });
});
