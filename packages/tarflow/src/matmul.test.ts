import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from '@jest/globals';
import { colSum, groupedMatmul, mm } from './matmul';
import { linear } from './linear';
import { rank2, rank3 } from './tensor-util';
import { expectClose } from './test-utils/helpers';

/** Plain-JS (M,K)@(K,N) on row-major arrays. */
function jsMatmul(a: Float32Array | Int32Array | Uint8Array, b: Float32Array | Int32Array | Uint8Array, M: number, K: number, N: number): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += (a[i * K + k] ?? 0) * (b[k * N + j] ?? 0);
      c[i * N + j] = s;
    }
  return c;
}

describe('mm', () => {
  it('2-D value and gradient equal tf.matMul and the closed form', () => {
    const a = rank2(tf.randomNormal([5, 7], 0, 1, 'float32', 1)),
      b = rank2(tf.randomNormal([7, 3], 0, 1, 'float32', 2));
    const dy = tf.randomNormal([5, 3], 0, 1, 'float32', 3);
    expectClose(mm(a, b), tf.matMul(a, b), 1e-5);
    const f = (x: tf.Tensor, y: tf.Tensor): tf.Scalar => tf.sum(tf.mul(mm(rank2(x), rank2(y)), dy));
    const g = (x: tf.Tensor, y: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.matMul(x, y), dy));
    const [da, db] = tf.grads(f)([a, b]);
    const [ra, rb] = tf.grads(g)([a, b]);
    if (da === undefined || db === undefined || ra === undefined || rb === undefined) throw new Error('no grads');
    expectClose(da, ra, 1e-5);
    expectClose(db, rb, 1e-5);
    // closed form: da = dy bᵀ, db = aᵀ dy
    expectClose(da, jsMatmul(dy.dataSync(), tf.transpose(b).dataSync(), 5, 3, 7), 1e-4);
    expectClose(db, jsMatmul(tf.transpose(a).dataSync(), dy.dataSync(), 7, 5, 3), 1e-4);
  });

  it('3-D (batched) gradient equals tf.matMul', () => {
    const a = tf.randomNormal([4, 5, 6], 0, 1, 'float32', 4),
      b = tf.randomNormal([4, 6, 2], 0, 1, 'float32', 5);
    const dy = tf.randomNormal([4, 5, 2], 0, 1, 'float32', 6);
    const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(mm(rank3(x), rank3(y)), dy)))([a, b]);
    const [ra, rb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y), dy)))([a, b]);
    if (da === undefined || db === undefined || ra === undefined || rb === undefined) throw new Error('no grads');
    expectClose(da, ra, 1e-5);
    expectClose(db, rb, 1e-5);
  });

  it('rejects mismatched batches', () => {
    expect(() => mm(tf.zeros<tf.Rank.R3>([2, 3, 4]), tf.zeros<tf.Rank.R3>([3, 4, 5]))).toThrow('batch sizes 2 and 3 differ');
  });
});

describe('linear', () => {
  it('gradient equals the autodiff of x @ w + b', () => {
    const x = tf.randomNormal([6, 4], 0, 1, 'float32', 7);
    const w = tf.randomNormal([4, 3], 0, 1, 'float32', 8),
      b = tf.randomNormal([3], 0, 1, 'float32', 9);
    const dy = tf.randomNormal([6, 3], 0, 1, 'float32', 10);
    const got = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(linear(rank2(xx), { w: ww, b: bb }), dy)))([x, w, b]);
    const want = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.matMul(xx, ww), bb), dy)))([x, w, b]);
    got.forEach((g, i) => expectClose(g, want[i] ?? g, 1e-5));
  });
});

describe('groupedMatmul', () => {
  it('equals one matmul per group', () => {
    const [N, K, C, M] = [3, 5, 4, 2];
    const x = rank3(tf.randomNormal([N, K, C], 0, 1, 'float32', 11));
    const f = rank3(tf.randomNormal([K, C, M], 0, 1, 'float32', 12));
    const y = groupedMatmul(x, f); // (N, C, M)
    for (let c = 0; c < C; c++) {
      const xc = tf.reshape(tf.slice(x, [0, 0, c], [N, K, 1]), [N, K]);
      const fc = tf.reshape(tf.slice(f, [0, c, 0], [K, 1, M]), [K, M]);
      expectClose(tf.reshape(tf.slice(y, [0, c, 0], [N, 1, M]), [N, M]), tf.matMul(xc, fc), 1e-5);
    }
  });

  it('colSum equals tf.sum over rows', () => {
    const x = tf.randomNormal([7, 3], 0, 1, 'float32', 13);
    expectClose(colSum(x), tf.sum(x, 0), 1e-5);
  });
});
