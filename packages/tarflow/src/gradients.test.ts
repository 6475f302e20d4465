import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from '@jest/globals';
import { expectClose } from './test-utils/helpers';

/** Central finite differences of a scalar function of one tensor, in float32 (hence the loose tolerance). */
function numericGrad(f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor, eps = 1e-2): Float32Array {
  const base = x.dataSync();
  return Float32Array.from(base, (_, i) => {
    const bump = (d: number): number =>
      tf.tidy(() => {
        const v = Float32Array.from(base);
        v[i] = (v[i] ?? 0) + d;
        return f(tf.tensor(v, x.shape)).dataSync()[0] ?? NaN;
      });
    return (bump(eps) - bump(-eps)) / (2 * eps);
  });
}

describe('registered gradients', () => {
  // every kernel registerTarflowGradients adds, in one smooth-ish scalar function
  const f = (x: tf.Tensor): tf.Scalar =>
    tf.tidy(() => {
      const y = tf.reshape(x, [2, 3, 4]); //                               Reshape
      const t = tf.transpose(y, [2, 0, 1]); //                             Transpose (4, 2, 3)
      const r = tf.reverse(t, 1); //                                       Reverse
      const s = tf.slice(r, [1, 0, 0], [3, 2, 2]); //                      Slice (3, 2, 2)
      const p = tf.pad(s, [
        [0, 0],
        [1, 0],
        [0, 1],
      ]); //                    PadV2 (3, 3, 3)
      const c = tf.concat([p, tf.exp(tf.mul(p, 0.3))], 2); //              Concat, Exp, Multiply (3, 3, 6)
      const [u, v] = tf.split(c, [2, 4], 2); //                            SplitV
      if (u === undefined || v === undefined) throw new Error('split');
      const clipped = tf.clipByValue(v, -0.5, 0.8); //                     ClipByValue
      const sm = tf.softmax(tf.sub(u, tf.neg(tf.square(u)))); //          Softmax, Sub, Neg, Square
      const q = tf.div(tf.sum(clipped, 2), tf.add(tf.mean(tf.mul(sm, sm), 2), 1)); // Sum, Mean, RealDiv, Add (3, 3)
      const m = tf.matMul(q, tf.cast(tf.reshape(tf.slice(x, [0], [9]), [3, 3]), 'float32')); // BatchMatMul, Cast
      return tf.add(tf.sum(m, [0, 1]), tf.sum(tf.sum(tf.mul(q, tf.clone(q)), 1))); // Identity (clone); trailing, leading sums
    });

  it('match finite differences', () => {
    const x = tf.randomUniform([24], -1, 1, 'float32', 1);
    expectClose(tf.grad(f)(x), numericGrad(f, x), 2e-2);
  });

  it('sum a broadcast batch of matMul back to its shape', () => {
    const a = tf.randomNormal([3, 2, 4], 0, 1, 'float32', 2),
      b = tf.randomNormal([4, 5], 0, 1, 'float32', 3);
    const db = tf.grad((bb: tf.Tensor) => tf.sum(tf.matMul(a, bb)))(b);
    expect(db.shape).toEqual([4, 5]);
    expectClose(db, tf.tile(tf.reshape(tf.sum(a, [0, 1]), [4, 1]), [1, 5]), 1e-4);
  });
});
