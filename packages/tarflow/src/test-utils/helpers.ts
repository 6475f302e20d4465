import * as tf from '@tensorflow/tfjs-core';
import { expect } from '@jest/globals';
import { PRESETS, type TarflowConfig } from '../config';
import type { TarflowModel } from '../model';

/** The test preset with overrides. */
export function testConfig(over: Partial<TarflowConfig> = {}): TarflowConfig {
  return { ...PRESETS.test, ...over };
}

/** max |a − b| over all elements (shapes must match). */
export function maxAbsDiff(a: tf.Tensor | ArrayLike<number>, b: tf.Tensor | ArrayLike<number>): number {
  const va = a instanceof tf.Tensor ? a.dataSync() : a;
  const vb = b instanceof tf.Tensor ? b.dataSync() : b;
  if (a instanceof tf.Tensor && b instanceof tf.Tensor) expect(a.shape).toEqual(b.shape);
  expect(va.length).toBe(vb.length);
  let m = 0;
  for (let i = 0; i < va.length; i++) m = Math.max(m, Math.abs((va[i] ?? NaN) - (vb[i] ?? NaN)));
  return m;
}

export function expectClose(a: tf.Tensor | ArrayLike<number>, b: tf.Tensor | ArrayLike<number>, tol: number): void {
  expect(maxAbsDiff(a, b)).toBeLessThan(tol);
}

/**
 * Moves every block off the identity: proj_out gets N(0, std²) weights and bias (it is zero at init), so a and b
 * are non-trivial functions of the earlier tokens.
 */
export function perturbModel(m: TarflowModel, seed: number, std = 0.2): void {
  m.blocks.forEach((b, i) => {
    b.projOut.w.assign(tf.randomNormal(b.projOut.w.shape, 0, std, 'float32', seed + 2 * i));
    b.projOut.b.assign(tf.randomNormal(b.projOut.b.shape, 0, std, 'float32', seed + 2 * i + 1));
  });
}

/** Uniform [−1, 1] images (B, H, W, C). */
export function randomImages(cfg: TarflowConfig, batch: number, seed: number): tf.Tensor4D {
  return tf.randomUniform([batch, cfg.imageSize, cfg.imageSize, cfg.channels], -1, 1, 'float32', seed);
}

/** log|det M| of a square row-major matrix by LU with partial pivoting, in float64. */
export function logAbsDet(m: number[][]): number {
  const n = m.length;
  const a = m.map((r) => [...r]);
  let logDet = 0;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(a[i]?.[k] ?? 0) > Math.abs(a[p]?.[k] ?? 0)) p = i;
    const rowP = a[p],
      rowK = a[k];
    if (rowP === undefined || rowK === undefined) throw new Error('logAbsDet: bad matrix');
    if (p !== k) {
      a[p] = rowK;
      a[k] = rowP;
    }
    const pivotRow = a[k] ?? [];
    const pivot = pivotRow[k] ?? 0;
    if (pivot === 0) return -Infinity;
    logDet += Math.log(Math.abs(pivot));
    for (let i = k + 1; i < n; i++) {
      const row = a[i] ?? [];
      const f = (row[k] ?? 0) / pivot;
      for (let j = k; j < n; j++) row[j] = (row[j] ?? 0) - f * (pivotRow[j] ?? 0);
    }
  }
  return logDet;
}
