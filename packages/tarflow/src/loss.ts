import * as tf from '@tensorflow/tfjs-core';
import { forward, type TarflowModel } from './model';
import { oneHotLabels, priorLogDensity } from './prior';

/**
 * −log p(x | c) per dimension, in nats, averaged over the batch:
 *   −log p(x|c) = ½‖(z − μ_c)/σ_c‖² + Σ log σ_c + (N/2)·log 2π − logdet,   N = T·D.
 * priorTerm = mean_b(−log N(z; μ_c, σ_c²)) / N and logdetTerm = mean_b(−logdet) / N, so loss = priorTerm + logdetTerm.
 * bits/dim = loss / ln 2 plus the trainer's dequantisation offset. x is in data space (the trainer scales to [−1, 1]
 * and adds noise); labels (B) int32.
 */
export function nll(m: TarflowModel, x: tf.Tensor4D, labels: tf.Tensor1D): { loss: tf.Scalar; priorTerm: tf.Scalar; logdetTerm: tf.Scalar } {
  return tf.tidy(() => {
    const { z, logdet } = forward(m, x);
    const [B, T, D] = z.shape;
    const N = T * D;
    const logPz = priorLogDensity(m.prior, tf.reshape(z, [B, N]), oneHotLabels(labels, m.config.numClasses)); // (B)
    const priorTerm: tf.Scalar = tf.div(tf.neg(tf.mean(logPz)), N);
    const logdetTerm: tf.Scalar = tf.div(tf.neg(tf.mean(logdet)), N);
    return { loss: tf.add(priorTerm, logdetTerm), priorTerm, logdetTerm };
  });
}

/** log p(x | c) per example, in nats (not per dimension): (B). oneHot (B, C). */
export function logProb(m: TarflowModel, x: tf.Tensor4D, oneHot: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const { z, logdet } = forward(m, x);
    const [B, T, D] = z.shape;
    return tf.add(priorLogDensity(m.prior, tf.reshape(z, [B, T * D]), oneHot), logdet);
  });
}
