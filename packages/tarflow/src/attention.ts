import { fusedSoftmax, fusedSoftmaxGrad } from '@ablate/blas';
import * as tf from '@tensorflow/tfjs-core';
import { customOp, inputAt, savedAt } from './custom-op';
import { initLayerNorm, layerNorm, type LayerNormParams } from './layer-norm';
import { initLinear, linear, type LinearParams } from './linear';
import { colSum, groupedMatmul, matMulT, nativeMatMul } from './matmul';
import { paramSeed } from './seed';
import { rank2, rank3, transposeMerged } from './tensor-util';

/** ml-tarflow Attention: pre-LayerNorm, fused qkv projection, multi-head masked softmax attention, output projection. */
export interface AttentionParams {
  norm: LayerNormParams;
  qkv: LinearParams; // (W, 3W): columns [q heads | k heads | v heads], each head headDim wide
  proj: LinearParams; // (W, W)
  numHeads: number;
}

/** Keys (transposed) and values of the tokens fed so far, for one attention layer during sampling. */
export interface KvCache {
  kT: tf.Tensor3D | null; // (B·H, hd, t)
  v: tf.Tensor3D | null; //  (B·H, t, hd)
}

export function initAttention(width: number, headDim: number, seed: number): AttentionParams {
  return {
    norm: initLayerNorm(width),
    qkv: initLinear(width, 3 * width, paramSeed(seed, 1)),
    proj: initLinear(width, width, paramSeed(seed, 2)),
    numHeads: width / headDim,
  };
}

/** Index orders for per-head tensors: t token, d channel within the head, c = b·H + h (example, head). */
type HeadLayout = 'tdc' | 'dct' | 'tcd';
const PERM: Record<HeadLayout, number[]> = { tdc: [1, 3, 0, 2], dct: [3, 0, 2, 1], tcd: [1, 0, 2, 3] };

/** (B·T, H·hd) rows (b, t), columns (h, d) → one of the per-head layouts, with one transpose. */
function toHeads(x: tf.Tensor, B: number, T: number, H: number, to: HeadLayout): tf.Tensor3D {
  const hd = (x.shape[1] ?? 0) / H,
    C = B * H;
  const dims: Record<HeadLayout, [number, number, number]> = { tdc: [T, hd, C], dct: [hd, C, T], tcd: [T, C, hd] };
  return tf.reshape<tf.Rank.R3>(transposeMerged(tf.reshape(x, [B, T, H, hd]), PERM[to]), dims[to]);
}

/**
 * Multi-head masked attention from the normalised input to the pre-projection output, as ONE op with a hand-written
 * backward. x (B·T, W) → (B·T, W); mask (T, T) additive (row = query, column = key).
 * Layout: with c = b·H + h (C = B·H) per-head tensors are kept as (t, c, d) ("tcd"); scores and probabilities as
 * (i, c, j) so the softmax runs over the last axis. Every per-head matmul is a groupedMatmul (see matmul.ts) whose
 * operands need at most one transpose each. Forward: 3 projections, 2 grouped matmuls, 5 transposes. Backward:
 * 4 grouped matmuls, 1 matmul each for dx and dw on the concatenated dq|dk|dv.
 */
export function attentionCore(x: tf.Tensor2D, p: { w: tf.Tensor; b: tf.Tensor }, B: number, T: number, H: number, mask: tf.Tensor2D): tf.Tensor2D {
  if (nativeMatMul()) return attentionCoreBatched(x, p, B, T, H, mask);
  const W = x.shape[1],
    hd = W / H,
    scale = 1 / Math.sqrt(hd);
  const mask3 = tf.reshape(mask, [T, 1, T]); //                                     (i, 1, j)
  return customOp<tf.Tensor2D>((inputs) => {
    const xin = inputAt(inputs, 0),
      w = inputAt(inputs, 1),
      b = inputAt(inputs, 2);
    // q, k, v from column slices of the (small) weights: slicing the (large) fused output is slow on wasm
    const project = (s: number): tf.Tensor2D => rank2(tf.fused.matMul({ a: xin, b: tf.slice(w, [0, s * W], [W, W]), bias: tf.slice(b, [s * W], [W]) }));
    const q = project(0),
      k = project(1),
      v = project(2); //                              (B*T, W) each
    const scores = groupedMatmul(toHeads(q, B, T, H, 'tdc'), toHeads(k, B, T, H, 'dct')); // (i,d,c)·(d,c,j) → (i, c, j)
    const att = rank3(tf.softmax(tf.add(tf.mul(scores, scale), mask3))); //               (i, c, j)
    const out = groupedMatmul(tf.transpose(att, [0, 2, 1]), toHeads(v, B, T, H, 'tcd')); // (i,j,c)·(j,c,e) → (i, c, e)
    const value = transposeMerged(tf.reshape(out, [T, B, H, hd]), [1, 0, 2, 3]); //         (B, T, H, hd)
    return {
      value: tf.reshape<tf.Rank.R2>(value, [B * T, W]),
      save: [xin, w, q, k, v, att],
      grad: (dy, saved) => {
        const [sx, sw] = [savedAt(saved, 0), savedAt(saved, 1)];
        const sq = toHeads(savedAt(saved, 2), B, T, H, 'tcd'),
          sk = toHeads(savedAt(saved, 3), B, T, H, 'tcd'); // (t, c, d)
        const svT = toHeads(savedAt(saved, 4), B, T, H, 'dct'),
          sAtt = rank3(savedAt(saved, 5)); //     (d, c, t), (i, c, j)
        const dOut = toHeads(dy, B, T, H, 'tcd'); //                                      (i, c, e)
        const dAtt = groupedMatmul(tf.transpose(dOut, [0, 2, 1]), svT); //                (i,e,c)·(e,c,j) → (i, c, j)
        const dScores = rank3(tf.mul(tf.mul(sAtt, scale), tf.sub(dAtt, tf.sum(tf.mul(dAtt, sAtt), -1, true)))); // (i, c, j)
        const dv = groupedMatmul(tf.transpose(sAtt, [2, 0, 1]), dOut); //                 (j,i,c)·(i,c,e) → (j, c, e)
        const dq = groupedMatmul(tf.transpose(dScores, [0, 2, 1]), sk); //                (i,j,c)·(j,c,d) → (i, c, d)
        const dk = groupedMatmul(tf.transpose(dScores, [2, 0, 1]), sq); //                (j,i,c)·(i,c,d) → (j, c, d)
        const dHeads = tf.reshape(tf.concat([dq, dk, dv], 0), [3, T, B, H, hd]); //       (3, T, B, H, hd)
        const dQkv = rank2(tf.reshape(transposeMerged(dHeads, [2, 1, 0, 3, 4]), [B * T, 3 * W])); // (B*T, 3W)
        return [
          tf.matMul(dQkv, tf.transpose(sw)), // dx = dqkv @ wᵀ   (B*T, W)
          tf.matMul(tf.transpose(sx), dQkv), // dw = xᵀ @ dqkv   (W, 3W)
          colSum(dQkv), //                      db               (3W)
        ];
      },
    };
  })(x, p.w, p.b);
}

/** (B·T, H·hd) rows (b, t), columns (h, d) → (B·H, T, hd); with one head, a reshape. */
function toCtd(x: tf.Tensor, B: number, T: number, H: number): tf.Tensor3D {
  const hd = (x.shape[1] ?? 0) / H;
  if (H === 1) return tf.reshape<tf.Rank.R3>(x, [B, T, hd]);
  return tf.reshape<tf.Rank.R3>(transposeMerged(tf.reshape(x, [B, T, H, hd]), [0, 2, 1, 3]), [B * H, T, hd]);
}

/** The inverse of toCtd: (B·H, T, hd) → (B·T, H·hd). */
function fromCtd(x: tf.Tensor, B: number, T: number, H: number): tf.Tensor2D {
  const hd = x.shape[2] ?? 0;
  if (H === 1) return tf.reshape<tf.Rank.R2>(x, [B * T, hd]);
  return tf.reshape<tf.Rank.R2>(transposeMerged(tf.reshape(x, [B, H, T, hd]), [0, 2, 1, 3]), [B * T, H * hd]);
}

/**
 * attentionCore where batched and transposed matmuls are fast (wasm with OpenBLAS, see nativeMatMul), with the
 * softmax and its backward as @ablate/blas's fused kernels (installed with the matmuls): per-head
 * tensors as (c, t, d), scores and probabilities as (c, i, j), every product one BatchMatMul over the C = B·H heads
 * with its transposes as flags. Same maths, same saved tensors, as the groupedMatmul layout.
 */
function attentionCoreBatched(x: tf.Tensor2D, p: { w: tf.Tensor; b: tf.Tensor }, B: number, T: number, H: number, mask: tf.Tensor2D): tf.Tensor2D {
  const W = x.shape[1],
    scale = 1 / Math.sqrt(W / H);
  return customOp<tf.Tensor2D>((inputs) => {
    const xin = inputAt(inputs, 0),
      w = inputAt(inputs, 1),
      b = inputAt(inputs, 2);
    const project = (s: number): tf.Tensor3D =>
      toCtd(tf.fused.matMul({ a: xin, b: tf.slice(w, [0, s * W], [W, W]), bias: tf.slice(b, [s * W], [W]) }), B, T, H);
    const q = project(0),
      k = project(1),
      v = project(2); //                               (c, t, d) each
    const scores = tf.matMul(q, k, false, true); //                                     (c, i, j)
    const att = rank3(fusedSoftmax(scores, mask, scale)); //                           softmax(scale·scores + mask) (c, i, j)
    return {
      value: fromCtd(tf.matMul(att, v), B, T, H), //                                     (B*T, W)
      save: [xin, w, q, k, v, att],
      grad: (dy, saved) => {
        const [sx, sw, sq, sk, sv, sAtt] = [0, 1, 2, 3, 4, 5].map((i) => savedAt(saved, i));
        const dOut = toCtd(dy, B, T, H); //                                              (c, i, e)
        const dAtt = tf.matMul(dOut, sv!, false, true); //                               (c, i, j)
        const dScores = fusedSoftmaxGrad(sAtt!, dAtt, scale); //                          scale·p·(dP − Σ dP·p)
        const dq = tf.matMul(dScores, sk!); //                                           (c, i, d)
        const dk = tf.matMul(dScores, sq!, true, false); //                              (c, j, d)
        const dv = tf.matMul(sAtt!, dOut, true, false); //                               (c, j, e)
        // (3, B, H, T, hd) → (B, T, 3, H, hd) = (B*T, 3W): columns [q heads | k heads | v heads]
        const dHeads = tf.reshape(tf.concat([dq, dk, dv], 0), [3, B, H, T, W / H]);
        const dQkv = rank2(tf.reshape(transposeMerged(dHeads, [1, 3, 0, 2, 4]), [B * T, 3 * W]));
        return [
          matMulT(dQkv, sw!, false, true), // dx = dqkv @ wᵀ   (B*T, W)
          matMulT(sx!, dQkv, true, false), // dw = xᵀ @ dqkv   (W, 3W)
          colSum(dQkv), //                    db               (3W)
        ];
      },
    };
  })(x, p.w, p.b);
}

/**
 * Masked self-attention over a full sequence. x (B·T, W) rows in (b, t) order → (B·T, W), before the residual.
 * mask (T, T) is the block's additive mask (causal in the block's own token order).
 */
export function attention(p: AttentionParams, x: tf.Tensor2D, B: number, T: number, mask: tf.Tensor2D): tf.Tensor2D {
  const o = attentionCore(layerNorm(x, p.norm), p.qkv, B, T, p.numHeads, mask); // (B*T, W)
  return linear(o, p.proj); //                                                      (B*T, W)
}

/**
 * One sampling step: x (B, W) is the newest token only; its key and value are appended to the cache and it attends
 * to every cached token (all earlier in the block's order, so no mask). Returns the output (B, W) and the grown
 * cache. Sampling only (no hand-written gradient needed); the caller disposes the old cache tensors.
 */
export function attentionStep(p: AttentionParams, x: tf.Tensor2D, cache: KvCache): { out: tf.Tensor2D; cache: KvCache } {
  const [B, W] = x.shape,
    H = p.numHeads,
    hd = W / H;
  const qkv = tf.transpose(tf.reshape(linear(layerNorm(x, p.norm), p.qkv), [B, 3, W]), [1, 0, 2]); // (3, B, W)
  const [q, k, v] = tf.split(qkv, 3, 0);
  if (q === undefined || k === undefined || v === undefined) throw new Error('attentionStep: split failed');
  const kNew = rank3(tf.reshape(k, [B * H, hd, 1])); // one token: (B, H, hd) is already (B*H, hd, 1) in memory
  const kT = cache.kT === null ? kNew : rank3(tf.concat([cache.kT, kNew], 2)); //      (B*H, hd, t)
  const vNew = rank3(tf.reshape(v, [B * H, 1, hd]));
  const vAll = cache.v === null ? vNew : rank3(tf.concat([cache.v, vNew], 1)); //      (B*H, t, hd)
  const att = tf.softmax(tf.mul(tf.matMul(tf.reshape(q, [B * H, 1, hd]), kT), 1 / Math.sqrt(hd))); // (B*H, 1, t)
  const out = rank2(tf.reshape(tf.matMul(att, vAll), [B, W])); //                        (B, W)
  return { out: linear(out, p.proj), cache: { kT, v: vAll } };
}
