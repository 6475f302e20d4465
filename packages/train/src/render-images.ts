import * as tf from '@tensorflow/tfjs-core';
import { sample, unpatchify, type TarflowModel } from '@ablate/tarflow';
import { encodeImageGrid } from './png';

export type ImageKind = 'samples' | 'samples-denoised' | 'mu';

export interface RunImage {
  step: number;
  kind: ImageKind;
  /** PNG bytes. */
  png: Buffer;
}

/**
 * The seed's two pictures of a run: uncurated samples (one row per class, raw and after one-step score denoising)
 * and the learned prior means μ_c (one per class, in image space, clipped to [-1, 1]).
 */
export function renderImages(model: TarflowModel, opts: { step: number; samplesPerClass: number; temperature: number; noiseStd: number; seed: number }): RunImage[] {
  const cfg = model.config;
  const C = cfg.numClasses;
  const k = opts.samplesPerClass;
  const labels = Array.from({ length: C * k }, (_, i) => Math.floor(i / k)); // row c holds class c
  const { raw, denoised } = sample(model, labels, { seed: opts.seed, temperature: opts.temperature, cache: true, noiseStd: opts.noiseStd });
  const grid = { rows: C, cols: k, height: cfg.imageSize, width: cfg.imageSize, scale: 2 };
  const images: RunImage[] = [
    { step: opts.step, kind: 'samples', png: encodeImageGrid(raw.dataSync() as Float32Array, grid) },
    { step: opts.step, kind: 'samples-denoised', png: encodeImageGrid(denoised.dataSync() as Float32Array, grid) },
  ];
  tf.dispose([raw, denoised]);
  const mu = tf.tidy(() => {
    const T = (cfg.imageSize / cfg.patchSize) ** 2;
    return unpatchify(cfg, tf.reshape(model.prior.mu, [C, T, -1]) as tf.Tensor3D); // (C, H, W, ch)
  });
  images.push({ step: opts.step, kind: 'mu', png: encodeImageGrid(mu.dataSync() as Float32Array, { rows: 1, cols: C, height: cfg.imageSize, width: cfg.imageSize, scale: 2 }) });
  mu.dispose();
  return images;
}
