import * as tf from '@tensorflow/tfjs-core';
import { customOp, inputAt, savedAt } from './custom-op';
import { colSum, matMulT } from './matmul';
import { makeVariable, rank2 } from './tensor-util';

/** A dense layer y = x @ w + b. w is stored (in, out), so the forward matmul needs no transpose. */
export interface LinearParams {
  w: tf.Variable; // (in, out)
  b: tf.Variable; // (out)
}

/** PyTorch's nn.Linear init (as ml-tarflow uses): w, b ~ U(−1/√in, 1/√in). `zero` gives w = b = 0. */
export function initLinear(inDim: number, outDim: number, seed: number, zero = false): LinearParams {
  const bound = 1 / Math.sqrt(inDim);
  return {
    w: makeVariable(() => (zero ? tf.zeros([inDim, outDim]) : tf.randomUniform([inDim, outDim], -bound, bound, 'float32', seed))),
    b: makeVariable(() => (zero ? tf.zeros([outDim]) : tf.randomUniform([outDim], -bound, bound, 'float32', seed + 1))),
  };
}

const linearOp = customOp<tf.Tensor2D>((inputs) => {
  const x = inputAt(inputs, 0),
    w = inputAt(inputs, 1),
    b = inputAt(inputs, 2);
  return {
    value: rank2(tf.fused.matMul({ a: x, b: w, bias: b })),
    save: [x, w],
    grad: (dy, saved) => {
      const sx = savedAt(saved, 0),
        sw = savedAt(saved, 1);
      return [
        matMulT(dy, sw, false, true), // dx = dy @ wᵀ  (N, in)
        matMulT(sx, dy, true, false), // dw = xᵀ @ dy  (in, out)
        colSum(dy), //                  db            (out)
      ];
    },
  };
});

/**
 * x (N, in) → x @ w + b (N, out). Forward: one fused matmul+bias kernel. Backward (hand-written): dx = dy @ wᵀ and
 * dw = xᵀ @ dy (explicit transposes on plain wasm, where only untransposed matmuls are fast: see matMulT), db = colSum(dy).
 */
export function linear(x: tf.Tensor2D, p: { w: tf.Tensor; b: tf.Tensor }): tf.Tensor2D {
  return linearOp(x, p.w, p.b);
}

/** Output columns [start, start + size) of a linear layer: slices the (small) weights, not the (large) output. */
export function linearCols(x: tf.Tensor2D, p: LinearParams, start: number, size: number): tf.Tensor2D {
  const inDim = p.w.shape[0] ?? 0;
  return linear(x, { w: tf.slice(p.w, [0, start], [inDim, size]), b: tf.slice(p.b, [start], [size]) });
}
