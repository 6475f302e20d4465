import * as tf from '@tensorflow/tfjs-core';
import { attention, attentionStep, initAttention, type AttentionParams, type KvCache } from './attention';
import { initMlp, mlp, type MlpParams } from './mlp';
import { paramSeed } from './seed';

/** ml-tarflow AttentionBlock: x + attn(LN(x)), then x + mlp(LN(x)). */
export interface LayerParams {
  attn: AttentionParams;
  mlp: MlpParams;
}

export function initLayer(width: number, headDim: number, mlpRatio: number, seed: number): LayerParams {
  return { attn: initAttention(width, headDim, paramSeed(seed, 1)), mlp: initMlp(width, mlpRatio, paramSeed(seed, 2)) };
}

/** Full causal sequence: h (B·T, W) → (B·T, W). */
export function layerForward(p: LayerParams, h: tf.Tensor2D, B: number, T: number, mask: tf.Tensor2D): tf.Tensor2D {
  const h1: tf.Tensor2D = tf.add(h, attention(p.attn, h, B, T, mask));
  return tf.add(h1, mlp(p.mlp, h1));
}

/** One token per example with a KV cache (sampling): h (B, W) → (B, W) and the grown cache. */
export function layerStep(p: LayerParams, h: tf.Tensor2D, cache: KvCache): { out: tf.Tensor2D; cache: KvCache } {
  const a = attentionStep(p.attn, h, cache);
  const h1: tf.Tensor2D = tf.add(h, a.out);
  return { out: tf.add(h1, mlp(p.mlp, h1)), cache: a.cache };
}
