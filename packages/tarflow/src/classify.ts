import * as tf from '@tensorflow/tfjs-core';
import { forward, type TarflowModel } from './model';
import { priorLogDensityAllClasses } from './prior';

/**
 * Class logits (B, C) = log N(z; μ_c, σ_c²) for every class, from ONE forward pass (the flow takes no class input).
 * logdet is the same for every class, so it is left out: softmax(logits) is p(c | x) under a uniform class prior.
 */
export function classLogits(m: TarflowModel, x: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const { z } = forward(m, x);
    const [B, T, D] = z.shape;
    return priorLogDensityAllClasses(m.prior, tf.reshape(z, [B, T * D]));
  });
}
