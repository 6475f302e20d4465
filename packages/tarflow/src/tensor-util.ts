import * as tf from '@tensorflow/tfjs-core';

/** A trainable tf.Variable from an initialiser, without leaking the initial tensor (tf.variable keeps its own copy). */
export function makeVariable<R extends tf.Rank>(init: () => tf.Tensor<R>): tf.Variable<R> {
  return tf.tidy(() => tf.variable(init()));
}

/** Narrows a tensor to rank 2, 3 or 4 (tfjs ops return Tensor<Rank>); throws if the rank is wrong. No copy. */
export function rank2(x: tf.Tensor): tf.Tensor2D {
  if (!isRank<tf.Tensor2D>(x, 2)) throw new Error(`expected rank 2, got shape (${x.shape.join(', ')})`);
  return x;
}

export function rank3(x: tf.Tensor): tf.Tensor3D {
  if (!isRank<tf.Tensor3D>(x, 3)) throw new Error(`expected rank 3, got shape (${x.shape.join(', ')})`);
  return x;
}

export function rank4(x: tf.Tensor): tf.Tensor4D {
  if (!isRank<tf.Tensor4D>(x, 4)) throw new Error(`expected rank 4, got shape (${x.shape.join(', ')})`);
  return x;
}

function isRank<T extends tf.Tensor>(x: tf.Tensor, r: number): x is T {
  return x.rank === r;
}

/**
 * tf.transpose with adjacent axes that stay adjacent merged first, so the kernel sees the lowest possible rank
 * (wasm's transpose is fast up to rank 4 and ~100× slower at rank 5+). Same result and gradient as tf.transpose.
 */
export function transposeMerged<T extends tf.Tensor>(x: T, perm: number[]): T {
  // groups of input axes that appear consecutively, in input order, in the output
  const groups: number[][] = [];
  for (const axis of perm) {
    const last = groups[groups.length - 1];
    if (last !== undefined && last[last.length - 1] === axis - 1) last.push(axis);
    else groups.push([axis]);
  }
  const byInput = [...groups].sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
  const mergedShape = byInput.map((g) => g.reduce((p, a) => p * (x.shape[a] ?? 1), 1));
  const mergedPerm = groups.map((g) => byInput.indexOf(g));
  const outShape = perm.map((a) => x.shape[a] ?? 1);
  const y = tf.reshape(tf.transpose(tf.reshape(x, mergedShape), mergedPerm), outShape);
  if (!isRank<T>(y, x.rank)) throw new Error('transposeMerged: rank changed');
  return y;
}
