import * as tf from '@tensorflow/tfjs-core';
import type { TarflowConfig } from '@ablate/tarflow';

/**
 * Model inputs from a batch: pixels in [0,1] → [-1,1], plus Gaussian noise of std `noiseStd` (seeded, so a resumed run
 * sees the same noise), and labels as int32. Call inside tf.tidy.
 */
export function toInputs(cfg: TarflowConfig, images: Float32Array, labels: Int32Array, noiseStd: number, seed: number): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const n = labels.length;
  const s = cfg.imageSize;
  const clean = tf.sub(tf.mul(tf.tensor4d(images, [n, s, s, cfg.channels]), 2), 1); // (B, H, W, C) in [-1, 1]
  const x = noiseStd > 0 ? tf.add(clean, tf.randomNormal([n, s, s, cfg.channels], 0, noiseStd, 'float32', seed)) : clean;
  return { x: x as tf.Tensor4D, y: tf.tensor1d(labels, 'int32') };
}
