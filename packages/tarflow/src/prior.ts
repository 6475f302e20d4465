import * as tf from '@tensorflow/tfjs-core';
import { numTokens, tokenDim, TarflowConfigError, type TarflowConfig } from './config';
import { mm } from './matmul';
import { patchify } from './patchify';
import { makeVariable, rank2 } from './tensor-util';

/** One diagonal Gaussian per class in z space (the paper's learned class priors), rows flattened in (t, d) order. */
export interface PriorParams {
  mu: tf.Variable<tf.Rank.R2>; //       (C, T·D)
  logSigma: tf.Variable<tf.Rank.R2>; // (C, T·D), starts at 0 (σ = 1)
}

/**
 * How μ starts (the paper's ablation). zero; randn with the given std (0.02 or 1 in the paper); data: one image per
 * class (H·W·C values, already scaled to [−1, 1]). The prior lives in z space and the flow is the identity at init,
 * so a data μ_c is that image patchified: exactly the z the flow gives it at step 0.
 */
export type MuInit = { kind: 'zero' } | { kind: 'randn'; std: number } | { kind: 'data'; images: Float32Array[] };

export function initPrior(cfg: TarflowConfig, muInit: MuInit, seed: number): PriorParams {
  const C = cfg.numClasses,
    N = numTokens(cfg) * tokenDim(cfg);
  const mu = makeVariable((): tf.Tensor2D => {
    switch (muInit.kind) {
      case 'zero':
        return tf.zeros([C, N]);
      case 'randn':
        if (!(muInit.std >= 0)) throw new TarflowConfigError(`muInit.std: expected a non-negative number, got ${muInit.std}`);
        return tf.randomNormal([C, N], 0, muInit.std, 'float32', seed);
      case 'data': {
        const P = cfg.imageSize * cfg.imageSize * cfg.channels;
        if (muInit.images.length !== C) {
          throw new TarflowConfigError(`muInit.images: expected ${C} images (one per class), got ${muInit.images.length}`);
        }
        const flat = new Float32Array(C * P);
        muInit.images.forEach((img, c) => {
          if (img.length !== P) throw new TarflowConfigError(`muInit.images[${c}]: expected ${P} values, got ${img.length}`);
          flat.set(img, c * P);
        });
        const images = tf.tensor4d(flat, [C, cfg.imageSize, cfg.imageSize, cfg.channels]);
        return tf.reshape<tf.Rank.R2>(patchify(cfg, images), [C, N]);
      }
    }
  });
  return { mu, logSigma: makeVariable(() => tf.zeros<tf.Rank.R2>([C, N])) };
}

/** Rows of a (C, N) matrix for one-hot labels (B, C): a matmul, not gather (wasm has no kernel for gather's gradient). */
export function selectRows(oneHot: tf.Tensor2D, m: tf.Tensor2D): tf.Tensor2D {
  return mm(oneHot, m); // (B, N)
}

/** (B) int32 labels → (B, C) float32 one-hot. */
export function oneHotLabels(labels: tf.Tensor1D, numClasses: number): tf.Tensor2D {
  return tf.tidy(() => rank2(tf.cast(tf.oneHot(tf.cast(labels, 'int32'), numClasses), 'float32')));
}

/**
 * log N(z; μ_c, σ_c²) per example, in nats: −½‖(z − μ_c)/σ_c‖² − Σ log σ_c − (N/2)·log 2π.
 * z (B, N) flattened, oneHot (B, C). Returns (B).
 */
export function priorLogDensity(p: PriorParams, z: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const N = z.shape[1];
    const mu = selectRows(oneHot, p.mu); //                      (B, N)
    const logSigma = selectRows(oneHot, p.logSigma); //          (B, N)
    const u = tf.mul(tf.sub(z, mu), tf.exp(tf.neg(logSigma))); // (B, N)
    const quad = tf.mul(tf.sum(tf.square(u), 1), -0.5); //      (B)
    return tf.reshape(tf.sub(tf.sub(quad, tf.sum(logSigma, 1)), 0.5 * N * Math.log(2 * Math.PI)), [z.shape[0]]);
  });
}

/**
 * log N(z; μ_c, σ_c²) for EVERY class at once, (B, N) → (B, C), with no per-class loop:
 * ‖(z − μ)/σ‖² = z² @ (1/σ²)ᵀ − 2 z @ (μ/σ²)ᵀ + Σ μ²/σ².
 */
export function priorLogDensityAllClasses(p: PriorParams, z: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const N = z.shape[1];
    const prec = tf.exp(tf.mul<tf.Tensor2D>(p.logSigma, -2)); //               (C, N)  1/σ²
    const muPrec: tf.Tensor2D = tf.mul(p.mu, prec); //                        (C, N)  μ/σ²
    const quad = tf.add(
      tf.sub(mm(tf.square(z), tf.transpose<tf.Tensor2D>(prec)), tf.mul(mm(z, tf.transpose<tf.Tensor2D>(muPrec)), 2)), // (B, C)
      tf.sum(tf.mul(p.mu, muPrec), 1), //                         (C)  Σ μ²/σ²
    );
    const logNorm = tf.add(tf.sum(p.logSigma, 1), 0.5 * N * Math.log(2 * Math.PI)); // (C)
    return tf.sub(tf.mul(quad, -0.5), logNorm);
  });
}

/** ‖μ_c‖₂ per class (for logging the paper's μ-norm curves). Read asynchronously: the webgpu backend has no dataSync in Node. */
export async function muNormsOf(p: PriorParams): Promise<Float32Array> {
  const norms = tf.tidy(() => tf.sqrt(tf.sum(tf.square(p.mu), 1))); // (C)
  const out = Float32Array.from(await norms.data());
  norms.dispose();
  return out;
}

export function disposePrior(p: PriorParams): void {
  p.mu.dispose();
  p.logSigma.dispose();
}
