import { describe, expect, it } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { BackendError, selectBackend } from './select-backend';

describe('selectBackend', () => {
  it('auto prefers tensorflow, falls back to wasm here, and says why tensorflow was skipped', async () => {
    const choice = await selectBackend({ env: {} });
    expect(choice.source).toBe('auto');
    const tfAttempt = choice.attempts[0];
    expect(tfAttempt?.name).toBe('tensorflow');
    if (tfAttempt?.ok) {
      expect(choice.name).toBe('tensorflow');
    } else {
      expect(tfAttempt?.detail).toMatch(/tfjs-node/);
      expect(tfAttempt?.fix).toMatch(/TFJS_NODE_CDN_STORAGE/);
      expect(choice.name).toBe('wasm');
      expect(choice.device).toMatch(/wasm/);
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
    await expect(selectBackend({ env: { TFJS_BACKEND: 'gpu' } })).rejects.toThrow('TFJS_BACKEND=gpu: expected one of auto, tensorflow, wasm, cpu, got "gpu"');
    await expect(selectBackend({ env: { TFJS_BACKEND: 'gpu' } })).rejects.toBeInstanceOf(BackendError);
  });
});
