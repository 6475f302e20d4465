import * as tf from '@tensorflow/tfjs-core';
import { numTokens, tokenDim, type TarflowConfig } from './config';
import { transposeMerged } from './tensor-util';

/**
 * Image (B, H, W, C) → tokens (B, T, D): patches in row-major order over the patch grid, each flattened in
 * (py, px, c) order. (ml-tarflow's unfold gives (c, py, px); identical for one channel.)
 */
export function patchify(cfg: TarflowConfig, x: tf.Tensor4D): tf.Tensor3D {
  return tf.tidy(() => {
    const [B, H, W, C] = x.shape,
      p = cfg.patchSize;
    if (H !== cfg.imageSize || W !== cfg.imageSize || C !== cfg.channels) {
      throw new Error(`patchify: expected (B, ${cfg.imageSize}, ${cfg.imageSize}, ${cfg.channels}), got (${x.shape.join(', ')})`);
    }
    const grid = tf.reshape(x, [B, H / p, p, W / p, p, C]); //   (B, gy, py, gx, px, C)
    const patches = transposeMerged(grid, [0, 1, 3, 2, 4, 5]); //   (B, gy, gx, py, px, C)
    return tf.reshape(patches, [B, numTokens(cfg), tokenDim(cfg)]); // (B, T, D)
  });
}

/** Tokens (B, T, D) → image (B, H, W, C): the exact inverse of patchify. */
export function unpatchify(cfg: TarflowConfig, z: tf.Tensor3D): tf.Tensor4D {
  return tf.tidy(() => {
    const B = z.shape[0],
      p = cfg.patchSize,
      g = cfg.imageSize / p,
      C = cfg.channels;
    const patches = tf.reshape(z, [B, g, g, p, p, C]); //         (B, gy, gx, py, px, C)
    const grid = transposeMerged(patches, [0, 1, 3, 2, 4, 5]); //   (B, gy, py, gx, px, C)
    return tf.reshape(grid, [B, cfg.imageSize, cfg.imageSize, C]);
  });
}
