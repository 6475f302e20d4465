import { describe, expect, it, beforeAll, afterAll } from '@jest/globals';
import { seededRandom as rng } from '@ablate/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BLAS_BACKEND_NAME, blasThreadsFromEnv, installBlasKernels, isBlasInstalled, loadAddon, uninstallBlasKernels } from './index';

/** Runs f with the OpenBLAS kernels and with wasm's own, and returns both results. */
function both(f: () => tf.Tensor): { blas: Float32Array; wasm: Float32Array; shape: number[] } {
  expect(isBlasInstalled()).toBe(true);
  const tb = f();
  const blas = tb.dataSync() as Float32Array;
  uninstallBlasKernels();
  try {
    const tw = f();
    expect(tw.shape).toEqual(tb.shape);
    const wasm = tw.dataSync() as Float32Array;
    tf.dispose([tb, tw]);
    return { blas, wasm, shape: tb.shape };
  } finally {
    expect(installBlasKernels().ok).toBe(true);
  }
}

function expectClose(actual: Float32Array, expected: Float32Array, k: number): void {
  expect(actual.length).toBe(expected.length);
  // float32 sums of k products of unit-scale numbers: summation order alone moves them by ~k·2⁻²⁴·|terms|.
  const tol = 1e-5 * Math.max(1, Math.sqrt(k)) * 4;
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!));
    if (!(err <= worst)) worst = err; // NaN propagates into worst
  }
  expect(worst).toBeLessThanOrEqual(tol);
}

beforeAll(async () => {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  expect(await tf.setBackend('wasm')).toBe(true);
  const status = installBlasKernels({ threads: 1 });
  if (!status.ok) throw new Error(status.reason);
  expect(status.name).toBe(BLAS_BACKEND_NAME);
  expect(status.threads).toBe(1);
});
afterAll(() => uninstallBlasKernels());

describe('BatchMatMul on OpenBLAS', () => {
  it('matches wasm for random shapes and all four transpose combinations, rank 2 and 3', () => {
    const r = rng(1);
    const dim = () => 1 + Math.floor(r() * 70);
    for (let c = 0; c < 40; c++) {
      const [m, n, k, batch] = [dim(), dim(), dim(), 1 + Math.floor(r() * 4)];
      const ta = c % 2 === 1;
      const tb = Math.floor(c / 2) % 2 === 1;
      const rank3 = c % 3 !== 0;
      const aShape = ta ? [k, m] : [m, k];
      const bShape = tb ? [n, k] : [k, n];
      const seed = c + 1; // tfjs treats seed 0 as 'no seed'
      const { blas, wasm } = both(() =>
        tf.tidy(() => {
          const a = tf.randomNormal(rank3 ? [batch, ...aShape] : aShape, 0, 1, 'float32', seed);
          const b = tf.randomNormal(rank3 ? [batch, ...bShape] : bShape, 0, 1, 'float32', seed + 1000);
          return tf.matMul(a, b, ta, tb);
        }),
      );
      expectClose(blas, wasm, k);
    }
  });

  it('broadcasts a single matrix across the batch, on either side, with transposes (as wasm does)', () => {
    for (const [aShape, bShape, ta, tb] of [
      [[1, 5, 7], [6, 7, 3], false, false],
      [[6, 7, 5], [1, 7, 3], true, false],
      [[4, 5, 7], [3, 7], false, true],
      [[2, 3, 8, 1], [1, 9], false, false],
    ] as const) {
      const { blas, wasm } = both(() =>
        tf.tidy(() => tf.matMul(tf.randomNormal([...aShape], 0, 1, 'float32', 3), tf.randomNormal([...bShape], 0, 1, 'float32', 4), ta, tb)),
      );
      expectClose(blas, wasm, 8);
    }
  });

  it('broadcasts batch dimensions elementwise ([2,1] × [1,3] → [2,3]), checked against the cpu backend', async () => {
    const a = tf.randomNormal([2, 1, 4, 5], 0, 1, 'float32', 5);
    const b = tf.randomNormal([1, 3, 5, 6], 0, 1, 'float32', 6);
    const got = tf.matMul(a, b);
    expect(got.shape).toEqual([2, 3, 4, 6]);
    const [av, bv, gv] = [a.dataSync(), b.dataSync(), got.dataSync()];
    const want = new Float32Array(gv.length);
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++)
        for (let r = 0; r < 4; r++)
          for (let c = 0; c < 6; c++) {
            let s = 0;
            for (let q = 0; q < 5; q++) s += av[i * 20 + r * 5 + q]! * bv[j * 30 + q * 6 + c]!;
            want[((i * 3 + j) * 4 + r) * 6 + c] = s;
          }
    expectClose(gv as Float32Array, want, 5);
    tf.dispose([a, b, got]);
  });

  it('handles empty and degenerate shapes (k = 0 gives zeros, m = 1 and n = 1)', () => {
    expect(Array.from(tf.matMul(tf.zeros([2, 0]), tf.zeros([0, 3])).dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
    expect(tf.matMul(tf.zeros([0, 4]), tf.zeros([4, 3])).shape).toEqual([0, 3]);
    for (const [aShape, bShape, ta, tb] of [
      [[3, 1, 9], [3, 9, 5], false, false],
      [[3, 9, 1], [3, 9, 5], true, false],
      [[3, 1, 9], [3, 5, 9], false, true],
      [[3, 9, 1], [3, 5, 9], true, true],
      [[4, 9], [9, 1], false, false],
    ] as const) {
      const { blas, wasm } = both(() =>
        tf.tidy(() => tf.matMul(tf.randomNormal([...aShape], 0, 1, 'float32', 7), tf.randomNormal([...bShape], 0, 1, 'float32', 8), ta, tb)),
      );
      expectClose(blas, wasm, 9);
    }
  });

  it('leaves int32 matmuls to the wasm kernel (which rejects them with its own message)', () => {
    expect(() => tf.matMul(tf.ones([2, 2], 'int32'), tf.ones([2, 2], 'int32'))).toThrow(/non-float32/);
  });
});

describe('_FusedMatMul on OpenBLAS', () => {
  // The reference is the unfused composition on plain wasm: wasm's own _FusedMatMul adds the bias wrongly when the
  // batch has more than one matrix (row r of matrix i gets bias[(i·m + r)·…], e.g. [[4,5,6,7],[7,7,7,7]] for ones).
  it('matches matMul + bias + activation on wasm, for every activation, with transposes and batches', () => {
    const acts = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const;
    let c = 0;
    for (const activation of acts) {
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as const) {
        for (const biasKind of ['none', 'row', 'scalar'] as const) {
          c++;
          const [m, n, k, batch] = [5 + (c % 7), 3 + (c % 11), 4 + (c % 13), 1 + (c % 3)];
          const inputs = () => {
            const a = tf.mul(tf.randomNormal(ta ? [batch, k, m] : [batch, m, k], 0, 1, 'float32', c), 3);
            const b = tf.randomNormal(tb ? [batch, n, k] : [batch, k, n], 0, 1, 'float32', c + 1);
            const bias = biasKind === 'none' ? undefined : tf.randomNormal(biasKind === 'row' ? [n] : [1], 0, 1, 'float32', c + 2);
            const prelu = activation === 'prelu' ? tf.randomUniform([n], 0, 0.5, 'float32', c + 3) : undefined;
            return { a, b, bias, prelu };
          };
          const fused = tf.tidy(() => {
            const { a, b, bias, prelu } = inputs();
            return tf.fused.matMul({
              a,
              b,
              transposeA: ta,
              transposeB: tb,
              activation,
              ...(bias ? { bias } : {}),
              ...(prelu ? { preluActivationWeights: prelu } : {}),
              leakyreluAlpha: 0.1,
            });
          });
          uninstallBlasKernels();
          const reference = tf.tidy(() => {
            const { a, b, bias, prelu } = inputs();
            const y = bias ? tf.add(tf.matMul(a, b, ta, tb), bias) : tf.matMul(a, b, ta, tb);
            switch (activation) {
              case 'linear':
                return y;
              case 'relu':
                return tf.relu(y);
              case 'relu6':
                return tf.relu6(y);
              case 'elu':
                return tf.elu(y);
              case 'sigmoid':
                return tf.sigmoid(y);
              case 'leakyrelu':
                return tf.leakyRelu(y, 0.1);
              case 'prelu':
                return tf.prelu(y, prelu!);
            }
          });
          expect(installBlasKernels().ok).toBe(true);
          try {
            expect(fused.shape).toEqual(reference.shape);
            expectClose(fused.dataSync() as Float32Array, reference.dataSync() as Float32Array, k);
          } catch (err) {
            throw new Error(`${activation} ta=${ta} tb=${tb} bias=${biasKind}: ${String(err)}`);
          } finally {
            tf.dispose([fused, reference]);
          }
        }
      }
    }
  });

  it('leaves a bias that is neither a scalar nor a row to the wasm kernel', () => {
    // tfjs-core's fused op accepts a bias broadcastable to the output; wasm's kernel (and so ours) takes rank 1 only.
    expect(() => tf.fused.matMul({ a: tf.ones([2, 3]), b: tf.ones([3, 4]), bias: tf.ones([2, 4]) })).toThrow(/rank-1 bias/);
  });
});

describe('loading', () => {
  it('says why when the addon file is missing or is not an addon', () => {
    expect(loadAddon('/nonexistent/ablate_blas.node')).toEqual({
      error: expect.stringMatching(/^the native addon is not built: \/nonexistent\/ablate_blas.node does not exist/),
    });
    const bad = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'blas-')), 'broken.node');
    fs.writeFileSync(bad, 'not an ELF file');
    expect(loadAddon(bad)).toEqual({ error: expect.stringMatching(/^the native addon failed to load: .*(invalid ELF header|too short)/) });
  });

  it('refuses an addon built before the fused kernels, and keeps the one it has', () => {
    const old = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'blas-')), 'old.js');
    fs.writeFileSync(old, 'module.exports = { matmul() {}, setThreads() {}, getThreads() { return 1; }, config() { return "old"; } };');
    expect(installBlasKernels({ addonFile: old })).toEqual({
      ok: false,
      reason: 'the native addon is out of date (it has no transpose, gelu, layerNorm, softmax, adamw): run pnpm build',
    });
    const s = installBlasKernels();
    expect(s.ok && s.config).toMatch(/OpenBLAS/);
  });

  it('reads BLAS_THREADS, defaulting to one thread per process', () => {
    expect(blasThreadsFromEnv({})).toBe(1);
    expect(blasThreadsFromEnv({ BLAS_THREADS: '2' })).toBe(2);
    expect(blasThreadsFromEnv({ BLAS_THREADS: 'two' })).toEqual({ error: 'BLAS_THREADS: expected a positive integer, got "two"' });
  });

  it('sets the thread count it is asked for', () => {
    const s = installBlasKernels({ threads: 2 });
    expect(s.ok && s.threads).toBe(2);
    const back = installBlasKernels({ threads: 1 });
    expect(back.ok && back.threads).toBe(1);
  });
});

describe('Identity', () => {
  it('shares the input memory, and each tensor stays valid until its own dispose', () => {
    const x = tf.tensor1d([1, 2, 3]);
    const backend = tf.backend() as unknown as { dataIdMap: { get(d: unknown): { memoryOffset: number } } };
    const y = tf.clone(x);
    expect(backend.dataIdMap.get(y.dataId).memoryOffset).toBe(backend.dataIdMap.get(x.dataId).memoryOffset); // no copy
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    y.dispose();
    expect(() => y.dataSync()).toThrow(/disposed/);
  });
});
