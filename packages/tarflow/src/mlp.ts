import { fusedGelu, fusedGeluGrad, fusedKernels } from '@ablate/blas';
import * as tf from '@tensorflow/tfjs-core';
import { customOp, inputAt, savedAt } from './custom-op';
import { initLinear, linear, type LinearParams } from './linear';
import { initLayerNorm, layerNorm, type LayerNormParams } from './layer-norm';
import { paramSeed } from './seed';

/** ml-tarflow MLP: LayerNorm → Linear(W, r·W) → GELU → Linear(r·W, W). */
export interface MlpParams {
  norm: LayerNormParams;
  fc1: LinearParams; // (W, r·W)
  fc2: LinearParams; // (r·W, W)
}

export function initMlp(width: number, ratio: number, seed: number): MlpParams {
  return {
    norm: initLayerNorm(width),
    fc1: initLinear(width, ratio * width, paramSeed(seed, 1)),
    fc2: initLinear(ratio * width, width, paramSeed(seed, 2)),
  };
}

const K = Math.sqrt(2 / Math.PI);
const C = 0.044715;

const geluOp = customOp<tf.Tensor2D>((inputs) => {
  const x = inputAt(inputs, 0);
  // 0.5·(1 + tanh(u)) = sigmoid(2u), u = √(2/π)·(x + 0.044715·x³)
  const s = tf.sigmoid(tf.mul(x, tf.add(tf.mul(tf.square(x), 2 * K * C), 2 * K))); // (N, F)
  const value = tf.mul(x, s);
  return {
    value: tf.reshape(value, [x.shape[0] ?? 0, x.shape[1] ?? 0]),
    save: [x, s],
    grad: (dy, saved) => {
      const sx = savedAt(saved, 0),
        ss = savedAt(saved, 1);
      // d/dx x·s(2u) = s + x·s·(1 − s)·2u',  2u' = 2K + 6KC·x²
      const du = tf.add(tf.mul(tf.square(sx), 6 * K * C), 2 * K);
      const ds = tf.mul(tf.mul(ss, tf.sub(1, ss)), tf.mul(sx, du));
      return [tf.mul(dy, tf.add(ss, ds))];
    },
  };
});

/** The same op as one native kernel each way (wasm with @ablate/blas): the backward recomputes σ from x, so only x is kept. */
const fusedGeluOp = customOp<tf.Tensor2D>((inputs) => {
  const x = inputAt(inputs, 0);
  return { value: fusedGelu(x as tf.Tensor2D), save: [x], grad: (dy, saved) => [fusedGeluGrad(savedAt(saved, 0), dy)] };
});

/** GELU, tanh approximation (torch GELU(approximate='tanh')), with a hand-written backward. */
export function gelu(x: tf.Tensor2D): tf.Tensor2D {
  return fusedKernels() ? fusedGeluOp(x) : geluOp(x);
}

/** x (N, W) → MLP(LayerNorm(x)) (N, W); the caller adds the residual. */
export function mlp(p: MlpParams, x: tf.Tensor2D): tf.Tensor2D {
  return linear(gelu(linear(layerNorm(x, p.norm), p.fc1)), p.fc2);
}
