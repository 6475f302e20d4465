import * as tf from '@tensorflow/tfjs-core';
import { describe, it } from '@jest/globals';
import { attentionCore } from './attention';
import { blockMask } from './permutation';
import { rank2 } from './tensor-util';
import { expectClose } from './test-utils/helpers';

/** Textbook multi-head attention with tf.matMul / tf.softmax and tfjs autodiff, as the reference. */
function reference(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, B: number, T: number, H: number, mask: tf.Tensor): tf.Tensor {
  const W = x.shape[1] ?? 0,
    hd = W / H;
  const qkv = tf.add(tf.matMul(x, w), b); //                                         (B*T, 3W)
  const part = (s: number): tf.Tensor => tf.transpose(tf.reshape(tf.slice(qkv, [0, s * W], [B * T, W]), [B, T, H, hd]), [0, 2, 1, 3]); // (B, H, T, hd)
  const [q, k, v] = [part(0), part(1), part(2)];
  const att = tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)), mask)); // (B, H, T, T)
  return tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [B * T, W]);
}

describe('attentionCore', () => {
  for (const [H, flip] of [
    [1, false],
    [2, false],
    [2, true],
  ] as const) {
    it(`value and gradient equal textbook attention (heads ${H}, flipped ${flip})`, () => {
      const [B, T, W] = [3, 5, 8];
      const x = tf.randomNormal([B * T, W], 0, 1, 'float32', 1);
      const w = tf.randomNormal([W, 3 * W], 0, 0.5, 'float32', 2),
        b = tf.randomNormal([3 * W], 0, 0.5, 'float32', 3);
      const dy = tf.randomNormal([B * T, W], 0, 1, 'float32', 4);
      const mask = blockMask(T, flip);
      const ours = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor): tf.Tensor => attentionCore(rank2(xx), { w: ww, b: bb }, B, T, H, mask);
      const theirs = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor): tf.Tensor => reference(xx, ww, bb, B, T, H, mask);
      expectClose(ours(x, w, b), theirs(x, w, b), 1e-5);
      const got = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(ours(xx, ww, bb), dy)))([x, w, b]);
      const want = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(theirs(xx, ww, bb), dy)))([x, w, b]);
      got.forEach((g, i) => expectClose(g, want[i] ?? g, 1e-4));
    });
  }
});
