import * as tf from '@tensorflow/tfjs-core';
import { numTokens, tokenDim } from './config';
import { logProb } from './loss';
import { reverse, type TarflowModel } from './model';
import { rank4 } from './tensor-util';
import { oneHotLabels, selectRows } from './prior';

export interface SampleOptions {
  seed: number;
  temperature?: number; // z ~ N(μ_c, (σ_c·temperature)²); default 1
  cache?: boolean; //      KV-cached inversion (default true); false re-runs the causal network per token
  noiseStd?: number; //    the training noise std σ for the score-denoising step; default 0 (denoised = raw)
}

/**
 * Class-conditional samples: z ~ N(μ_c, σ_c²·temperature²) for each requested label (seeded), inverted exactly
 * through the flow, then TARFlow's one-step score denoising x ← x + σ²·∇ₓ log p(x | c).
 * Returns both, each (B, H, W, C) in data space.
 */
export function sample(m: TarflowModel, labels: number[], opts: SampleOptions): { raw: tf.Tensor4D; denoised: tf.Tensor4D } {
  const cfg = m.config,
    T = numTokens(cfg),
    D = tokenDim(cfg),
    B = labels.length;
  const temperature = opts.temperature ?? 1,
    noiseStd = opts.noiseStd ?? 0;
  for (const c of labels) {
    if (!Number.isInteger(c) || c < 0 || c >= cfg.numClasses) throw new Error(`sample: label ${c} not in [0, ${cfg.numClasses})`);
  }
  return tf.tidy(() => {
    const oneHot = oneHotLabels(tf.tensor1d(labels, 'int32'), cfg.numClasses); // (B, C)
    const mu = selectRows(oneHot, m.prior.mu); //                                   (B, N)
    const sigma = tf.exp(selectRows(oneHot, m.prior.logSigma)); //                  (B, N)
    const eps = tf.randomNormal([B, T * D], 0, 1, 'float32', opts.seed);
    const z = tf.add(mu, tf.mul(tf.mul(sigma, temperature), eps)); //              (B, N)
    const raw = reverse(m, tf.reshape(z, [B, T, D]), { cache: opts.cache ?? true });
    if (noiseStd === 0) return { raw, denoised: tf.clone(raw) };
    const score = tf.grad((x: tf.Tensor) => tf.sum(logProb(m, rank4(x), oneHot)))(raw); // ∇ₓ log p(x|c), (B, H, W, C)
    return { raw, denoised: tf.add(raw, tf.mul(score, noiseStd * noiseStd)) };
  });
}
