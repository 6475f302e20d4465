import * as tf from '@tensorflow/tfjs-core';
import { assertConfig, type TarflowConfig } from './config';
import { blockVariables, disposeFlowBlock, flowForward, flowReverse, initFlowBlock, type FlowBlockParams } from './flow-block';
import { registerTarflowGradients } from './gradients';
import { patchify, unpatchify } from './patchify';
import { disposePrior, initPrior, muNormsOf, type MuInit, type PriorParams } from './prior';
import { paramSeed } from './seed';

/** The whole model: an unconditional TARFlow (no class input) plus one learned Gaussian prior per class. */
export interface TarflowModel {
  config: TarflowConfig;
  blocks: FlowBlockParams[];
  prior: PriorParams;
}

/**
 * Builds a model from a validated config. Same (cfg, seed, muInit) → same weights. Every block is the identity at
 * init (zero proj_out), so z = patchify(x) at step 0. Also registers the kernel gradients tfjs-core lacks.
 */
export function initModel(cfg: TarflowConfig, opts: { seed: number; muInit: MuInit }): TarflowModel {
  assertConfig(cfg);
  registerTarflowGradients();
  return {
    config: { ...cfg },
    blocks: Array.from({ length: cfg.numBlocks }, (_, i) => initFlowBlock(cfg, i, paramSeed(opts.seed, 1))),
    prior: initPrior(cfg, opts.muInit, paramSeed(opts.seed, 2)),
  };
}

/** Flow (transformer) variables: the weight-decayed group. */
export function flowVariables(m: TarflowModel): tf.Variable[] {
  return m.blocks.flatMap((b) => Object.values(blockVariables(b)));
}

/** Prior variables μ, log σ: no weight decay, their own lr scale. */
export function priorVariables(m: TarflowModel): tf.Variable[] {
  return [m.prior.mu, m.prior.logSigma];
}

/** Every variable under a stable name (`blocks.3.layers.0.attn.qkv.w`, `prior.mu`, …), for checkpoints. */
export function namedVariables(m: TarflowModel): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  m.blocks.forEach((b, i) => {
    for (const [k, v] of Object.entries(blockVariables(b))) out[`blocks.${i}.${k}`] = v;
  });
  out['prior.mu'] = m.prior.mu;
  out['prior.logSigma'] = m.prior.logSigma;
  return out;
}

export function disposeModel(m: TarflowModel): void {
  m.blocks.forEach(disposeFlowBlock);
  disposePrior(m.prior);
}

/**
 * Data → latent. x (B, H, W, C) in data space → z (B, T, D) in the ORIGINAL token order, and logdet (B) =
 * log|det ∂z/∂x| summed over all T·D dimensions, in nats.
 */
export function forward(m: TarflowModel, x: tf.Tensor4D): { z: tf.Tensor3D; logdet: tf.Tensor1D } {
  return tf.tidy(() => {
    let z = patchify(m.config, x);
    let logdet: tf.Tensor1D = tf.zeros([x.shape[0]]);
    for (const block of m.blocks) {
      const r = flowForward(block, z);
      z = r.z;
      logdet = tf.add(logdet, r.logdet);
    }
    return { z, logdet };
  });
}

/** Latent → data, the exact inverse of forward. z (B, T, D) → x (B, H, W, C). cache: KV-cached decoding (default). */
export function reverse(m: TarflowModel, z: tf.Tensor3D, opts: { cache?: boolean } = {}): tf.Tensor4D {
  return tf.tidy(() => {
    let x = z;
    for (let i = m.blocks.length - 1; i >= 0; i--) {
      const block = m.blocks[i];
      if (block !== undefined) x = flowReverse(block, x, opts);
    }
    return unpatchify(m.config, x);
  });
}

/** ‖μ_c‖₂ per class. */
export function muNorms(m: TarflowModel): Promise<Float32Array> {
  return muNormsOf(m.prior);
}

export { patchify, unpatchify };
