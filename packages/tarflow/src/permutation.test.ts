import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from '@jest/globals';
import { blockMask, isFlipped, shiftToNext, tokenOrder } from './permutation';
import { rank3 } from './tensor-util';

describe('token order', () => {
  it('flips odd blocks', () => {
    expect([0, 1, 2, 3].map(isFlipped)).toEqual([false, true, false, true]);
    expect(tokenOrder(4, false)).toEqual([0, 1, 2, 3]);
    expect(tokenOrder(4, true)).toEqual([3, 2, 1, 0]);
  });

  it('masks keys that come later in the block order', () => {
    const ok = (m: tf.Tensor2D): number[][] => m.arraySync().map((r) => r.map((v) => (v === 0 ? 1 : 0)));
    expect(ok(blockMask(3, false))).toEqual([
      [1, 0, 0],
      [1, 1, 0],
      [1, 1, 1],
    ]);
    expect(ok(blockMask(3, true))).toEqual([
      [1, 1, 1],
      [0, 1, 1],
      [0, 0, 1],
    ]);
  });

  it('shifts outputs to the token they predict; the first token gets zeros', () => {
    const out = rank3(tf.tensor3d([1, 2, 3, 4], [1, 4, 1]));
    expect(Array.from(shiftToNext(out, false).dataSync())).toEqual([0, 1, 2, 3]);
    expect(Array.from(shiftToNext(out, true).dataSync())).toEqual([2, 3, 4, 0]);
  });
});
