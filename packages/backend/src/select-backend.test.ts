import { describe, expect, it } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { BackendError, selectBackend } from './select-backend';

describe('selectBackend', () => {
  it('auto prefers tensorflow, falls back to wasm here, and says why tensorflow was skipped', async () => {
    const choice = await selectBackend({ env: {} });
    expect(choice.source).toBe('auto');
    const tfAttempt = choice.attempts[0];
    expect(tfAttempt?.name).toBe('tensorflow');
    expect(choice.attempts.map((a) => a.name).slice(0, 2)).toEqual(['tensorflow', 'webgpu']);
    if (tfAttempt?.ok) {
      expect(choice.name).toBe('tensorflow');
    } else {
      expect(tfAttempt?.detail).toMatch(/tfjs-node/);
      expect(tfAttempt?.fix).toMatch(/TFJS_NODE_CDN_STORAGE/);
      const gpuAttempt = choice.attempts[1];
      if (gpuAttempt?.ok) {
        expect(choice.name).toBe('webgpu');
      } else {
        // Why not, in words a user can act on: no libvulkan.so.1, no Vulkan driver, an adapter Dawn rejects, no GPU.
        expect(gpuAttempt?.detail).toMatch(/Vulkan|Dawn/);
        expect(gpuAttempt?.fix).toBeDefined();
        expect(choice.name).toBe('wasm');
        expect(choice.device).toMatch(/wasm/);
      }
    }
    expect(tf.getBackend()).toBe(choice.name);
  });

  it('TFJS_BACKEND picks the backend, and a flag overrides it', async () => {
    expect((await selectBackend({ env: { TFJS_BACKEND: 'cpu' } })).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    const flagged = await selectBackend({ requested: 'wasm', env: { TFJS_BACKEND: 'cpu' } });
    expect(flagged).toMatchObject({ name: 'wasm', source: '--backend wasm' });
    expect(tf.getBackend()).toBe('wasm');
    // The backend computes: a small matmul on wasm gives the right answer.
    expect(Array.from(tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync())).toEqual([11]);
  });

  it('an explicit backend that cannot load is an error that names the fix', async () => {
    const auto = await selectBackend({ env: {} });
    if (auto.name === 'tensorflow') return; // this machine has libtensorflow: nothing to refuse
    await expect(selectBackend({ requested: 'tensorflow' })).rejects.toThrow(/--backend tensorflow: the tensorflow backend is not available: .*tfjs-node[\s\S]*fix: .*TFJS_NODE_CDN_STORAGE/);
  });

  it('rejects an unknown backend name with the expected values', async () => {
    await expect(selectBackend({ env: { TFJS_BACKEND: 'gpu' } })).rejects.toThrow('TFJS_BACKEND=gpu: expected one of auto, tensorflow, webgpu, wasm, cpu, got "gpu"');
    await expect(selectBackend({ env: { TFJS_BACKEND: 'gpu' } })).rejects.toBeInstanceOf(BackendError);
  });

  it("--backend webgpu runs on Dawn's null adapter when DAWNNODE_BACKEND=null, and auto never picks it", async () => {
    const auto = await selectBackend({ env: { DAWNNODE_BACKEND: 'null' } });
    expect(auto.name).not.toBe('webgpu');
    if (auto.name !== 'tensorflow') expect(auto.attempts.find((a) => a.name === 'webgpu')?.detail).toMatch(/null adapter, which computes nothing/);
    const choice = await selectBackend({ requested: 'webgpu', env: { DAWNNODE_BACKEND: 'null' } });
    expect(choice).toMatchObject({ name: 'webgpu', source: '--backend webgpu' });
    expect(choice.device).toMatch(/null adapter/);
    expect(tf.getBackend()).toBe('webgpu');
    // Kernels run (the null adapter returns no real numbers: only shapes are checked).
    const y = tf.matMul(tf.ones([3, 4]), tf.ones([4, 2]));
    expect(y.shape).toEqual([3, 2]);
    expect((await y.data()).length).toBe(6);
    y.dispose();
    await tf.setBackend('cpu');
  });
});
