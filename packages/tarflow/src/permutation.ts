import * as tf from '@tensorflow/tfjs-core';

/**
 * Token order of a block. ml-tarflow flips the sequence in odd blocks (PermutationFlip), runs a causal block and flips
 * back. We never copy the sequence: an odd block runs on the tokens in place with the mirrored (anti-causal) mask and
 * shift, which is the same function (attention is permutation-equivariant and the position embedding travels with
 * its token). All tensors stay in the original raster order.
 */
export function isFlipped(blockIndex: number): boolean {
  return blockIndex % 2 === 1;
}

/** Original token indices in the order the block processes (and inverts) them. */
export function tokenOrder(T: number, flip: boolean): number[] {
  const order = [...Array(T).keys()];
  return flip ? order.reverse() : order;
}

/**
 * (T, T) additive attention mask in original indices, row = query, column = key: 0 where the key comes no later than
 * the query in the block's order (j ≤ i, or j ≥ i when flipped), −1e9 elsewhere. Built once per block.
 */
export function blockMask(T: number, flip: boolean): tf.Tensor2D {
  const m = new Float32Array(T * T);
  for (let i = 0; i < T; i++) {
    for (let j = 0; j < T; j++) if (flip ? j < i : j > i) m[i * T + j] = -1e9;
  }
  return tf.tensor2d(m, [T, T]);
}

/**
 * out (B, T, O): row t is the network output at token t, which predicts the NEXT token in the block's order. Returns
 * the rows re-indexed by the token they predict: row t ← row of the token before t; the first token gets zeros
 * (ml-tarflow's cat([zeros, x[:, :-1]]), mirrored when flipped).
 */
export function shiftToNext(out: tf.Tensor3D, flip: boolean): tf.Tensor3D {
  const [B, T, O] = out.shape;
  return flip
    ? tf.pad(tf.slice(out, [0, 1, 0], [B, T - 1, O]), [
        [0, 0],
        [0, 1],
        [0, 0],
      ])
    : tf.pad(tf.slice(out, [0, 0, 0], [B, T - 1, O]), [
        [0, 0],
        [1, 0],
        [0, 0],
      ]);
}
