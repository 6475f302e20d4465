import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from '@jest/globals';
import { makeVariable, rank2, transposeMerged } from './tensor-util';
import { expectClose } from './test-utils/helpers';

describe('tensor utils', () => {
  it('transposeMerged equals tf.transpose, value and gradient', () => {
    const x = tf.randomNormal([2, 3, 1, 4, 5, 2], 0, 1, 'float32', 1);
    for (const perm of [
      [0, 1, 3, 2, 4, 5],
      [2, 1, 0, 3, 4, 5],
      [5, 4, 3, 2, 1, 0],
      [1, 2, 0, 5, 3, 4],
    ]) {
      const y = transposeMerged(x, perm);
      expect(y.shape).toEqual(perm.map((a) => x.shape[a]));
      expectClose(y, tf.transpose(x, perm), 1e-7);
      const w = tf.randomNormal(y.shape, 0, 1, 'float32', 2);
      expectClose(
        tf.grad((t: tf.Tensor) => tf.sum(tf.mul(transposeMerged(t, perm), w)))(x),
        tf.transpose(
          w,
          perm.map((_, i) => perm.indexOf(i)),
        ),
        1e-7,
      );
    }
  });

  it('makeVariable keeps no stray tensor and rank checks throw', () => {
    const n = tf.memory().numTensors;
    const v = makeVariable(() => tf.ones([2, 2]));
    expect(tf.memory().numTensors).toBe(n + 1);
    v.dispose();
    expect(() => rank2(tf.zeros([2]))).toThrow('expected rank 2, got shape (2)');
  });
});
