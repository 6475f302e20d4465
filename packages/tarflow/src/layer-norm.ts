import { fusedKernels, fusedLayerNorm, fusedLayerNormGrad } from '@ablate/blas';
import * as tf from '@tensorflow/tfjs-core';
import { customOp, inputAt, savedAt } from './custom-op';
import { colSum } from './matmul';
import { makeVariable } from './tensor-util';

/** LayerNorm's elementwise affine (torch.nn.LayerNorm defaults: γ = 1, β = 0, ε = 1e-5). */
export interface LayerNormParams {
  gamma: tf.Variable; // (W)
  beta: tf.Variable; // (W)
}

export const LAYER_NORM_EPS = 1e-5;

export function initLayerNorm(width: number): LayerNormParams {
  return { gamma: makeVariable(() => tf.ones([width])), beta: makeVariable(() => tf.zeros([width])) };
}

const layerNormOp = customOp<tf.Tensor2D>((inputs) => {
  const x = inputAt(inputs, 0),
    gamma = inputAt(inputs, 1),
    beta = inputAt(inputs, 2);
  const xc = tf.sub(x, tf.mean(x, -1, true)); //                            (N, W)
  const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), LAYER_NORM_EPS)); // (N, 1)
  const xhat = tf.mul(xc, rstd); //                                        (N, W)
  const value = tf.add(tf.mul(xhat, gamma), beta);
  return {
    value: tf.reshape(value, [x.shape[0] ?? 0, x.shape[1] ?? 0]),
    save: [xhat, rstd, gamma],
    grad: (dy, saved) => {
      const sxhat = savedAt(saved, 0),
        srstd = savedAt(saved, 1),
        sgamma = savedAt(saved, 2);
      const g = tf.mul(dy, sgamma); //                                       (N, W)
      // dx = rstd · (g − mean(g) − x̂ · mean(g·x̂))
      const inner = tf.sub(tf.sub(g, tf.mean(g, -1, true)), tf.mul(sxhat, tf.mean(tf.mul(g, sxhat), -1, true)));
      return [tf.mul(inner, srstd), colSum(tf.mul(dy, sxhat)), colSum(dy)];
    },
  };
});

/** The same op as one native kernel each way (wasm with @ablate/blas); it saves the same x̂ and rstd. */
const fusedLayerNormOp = customOp<tf.Tensor2D>((inputs) => {
  const [x, gamma, beta] = [0, 1, 2].map((i) => inputAt(inputs, i)) as [tf.Tensor2D, tf.Tensor, tf.Tensor];
  const [value, xhat, rstd] = fusedLayerNorm(x, gamma, beta, LAYER_NORM_EPS); // (N, W), (N, W), (N, 1)
  return {
    value,
    save: [xhat, rstd, gamma],
    grad: (dy, saved) => fusedLayerNormGrad(dy, savedAt(saved, 0) as tf.Tensor2D, savedAt(saved, 1), savedAt(saved, 2)),
  };
});

/** LayerNorm over the last axis of x (N, W), with a hand-written backward (3 reductions instead of autodiff's ~10 ops). */
export function layerNorm(x: tf.Tensor2D, p: { gamma: tf.Tensor; beta: tf.Tensor }): tf.Tensor2D {
  return (fusedKernels() ? fusedLayerNormOp : layerNormOp)(x, p.gamma, p.beta);
}
