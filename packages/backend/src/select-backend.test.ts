import { isBlasInstalled, loadAddon } from '@ablate/blas';
import { describe, expect, it } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { BackendError, selectBackend } from './select-backend';

/** wasm's reported name here: 'wasm+blas' where pnpm build made the OpenBLAS addon (setup installs OpenBLAS). */
const WASM = 'error' in loadAddon() ? 'wasm' : 'wasm+blas';

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
        expect(choice.name).toBe(WASM);
        expect(choice.device).toMatch(/wasm/);
      }
    }
    expect(tf.getBackend()).toBe(choice.name.replace('+blas', ''));
  });

  it('TFJS_BACKEND picks the backend, and a flag overrides it', async () => {
    expect((await selectBackend({ env: { TFJS_BACKEND: 'cpu' } })).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    const flagged = await selectBackend({ requested: 'wasm', env: { TFJS_BACKEND: 'cpu' } });
    expect(flagged).toMatchObject({ name: WASM, source: '--backend wasm' });
    expect(tf.getBackend()).toBe('wasm');
    // The backend computes: a small matmul on wasm gives the right answer.
    expect(Array.from(tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync())).toEqual([11]);
  });

  it('an explicit backend that cannot load is an error that names the fix', async () => {
    const auto = await selectBackend({ env: {} });
    if (auto.name === 'tensorflow') return; // this machine has libtensorflow: nothing to refuse
    await expect(selectBackend({ requested: 'tensorflow' })).rejects.toThrow(
      /--backend tensorflow: the tensorflow backend is not available: .*tfjs-node[\s\S]*fix: .*TFJS_NODE_CDN_STORAGE/,
    );
  });

  it('rejects an unknown backend name with the expected values', async () => {
    await expect(selectBackend({ env: { TFJS_BACKEND: 'gpu' } })).rejects.toThrow(
      'TFJS_BACKEND=gpu: expected one of auto, tensorflow, webgpu, wasm, cpu, got "gpu"',
    );
    await expect(selectBackend({ env: { TFJS_BACKEND: 'gpu' } })).rejects.toBeInstanceOf(BackendError);
  });

  describe('wasm with OpenBLAS matmuls', () => {
    it('is the default on wasm where the addon is built, and says so in the name and the device', async () => {
      const choice = await selectBackend({ requested: 'wasm', env: { BLAS_THREADS: '1' } });
      if (WASM === 'wasm') return; // no addon here: the fallback tests below cover this machine
      expect(choice.name).toBe('wasm+blas');
      expect(choice.device).toMatch(/^CPU \(wasm, SIMD, 1 thread; matmuls on OpenBLAS [\d.]+ and fused native kernels, 1 thread\)$/);
      expect(isBlasInstalled()).toBe(true);
      expect(tf.getBackend()).toBe('wasm');
      expect(Array.from(tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync())).toEqual([11]);
    });

    it('WASM_BLAS=0 keeps plain wasm (its own kernels)', async () => {
      const choice = await selectBackend({ requested: 'wasm', env: { WASM_BLAS: '0' } });
      expect(choice.name).toBe('wasm');
      expect(choice.device).not.toMatch(/OpenBLAS/);
      expect(isBlasInstalled()).toBe(false);
      expect(Array.from(tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync())).toEqual([11]);
    });

    it('rejects a BLAS_THREADS that is not a positive integer', async () => {
      await expect(selectBackend({ requested: 'wasm', env: { BLAS_THREADS: '0' } })).rejects.toThrow('BLAS_THREADS: expected a positive integer, got "0"');
    });

    it('falls back to plain wasm with one log line saying why when the addon cannot load', () => {
      // A child process, so the line is the process's own (built dist, as the worker runs it); selectBackend twice.
      const dist = path.join(__dirname, '..', 'dist', 'index.js');
      const script = `const { selectBackend } = require(${JSON.stringify(dist)});
        (async () => { for (let i = 0; i < 2; i++) { const c = await selectBackend({ requested: 'wasm' }); console.log(JSON.stringify({ chosen: c.name })); } })();`;
      const r = spawnSync(process.execPath, ['-e', script], {
        encoding: 'utf8',
        env: { ...process.env, LOG_FORMAT: 'json', WASM_BLAS_ADDON: '/nonexistent/ablate_blas.node' },
        timeout: 60_000,
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { msg?: string; level?: number; chosen?: string });
      const warnings = lines.filter((l) => l.msg !== undefined);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({
        level: 40,
        msg: 'wasm without OpenBLAS (plain wasm matmuls): the native addon is not built: /nonexistent/ablate_blas.node does not exist; run pnpm build',
      });
      expect(lines.filter((l) => l.chosen !== undefined).map((l) => l.chosen)).toEqual(['wasm', 'wasm']);
    });
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
