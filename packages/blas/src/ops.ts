import * as tf from '@tensorflow/tfjs-core';
import { FusedOp } from './fused';
import { isBlasInstalled } from './kernels';

/**
 * Whether the fused kernels run here: the wasm backend with @ablate/blas installed. The model and the optimizer
 * call the functions below only then, and their tf-op formulations everywhere else.
 */
export function fusedKernels(): boolean {
  return isBlasInstalled() && tf.getBackend() === 'wasm';
}

const run = <T extends tf.Tensor | tf.Tensor[]>(name: string, inputs: tf.NamedTensorMap, attrs: Record<string, number> = {}): T =>
  tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as unknown as T;

/** GELU, tanh approximation: x·σ(2u), u = √(2/π)·(x + 0.044715·x³). Not differentiable by itself (geluGrad is its backward). */
export const fusedGelu = <T extends tf.Tensor>(x: T): T => run<T>(FusedOp.gelu, { x });
/** dL/dx of fusedGelu at x, given dy. */
export const fusedGeluGrad = <T extends tf.Tensor>(x: T, dy: T): T => run<T>(FusedOp.geluGrad, { x, dy });

/** LayerNorm over the last axis: [y, x̂, rstd] with rstd of shape (…, 1). */
export function fusedLayerNorm<T extends tf.Tensor>(x: T, gamma: tf.Tensor, beta: tf.Tensor, eps: number): [T, T, tf.Tensor] {
  return run<[T, T, tf.Tensor]>(FusedOp.layerNorm, { x, gamma, beta }, { eps });
}
/** [dx, dγ, dβ] of fusedLayerNorm from dy and what its forward returned. */
export function fusedLayerNormGrad<T extends tf.Tensor>(dy: T, xhat: T, rstd: tf.Tensor, gamma: tf.Tensor): [T, tf.Tensor1D, tf.Tensor1D] {
  return run<[T, tf.Tensor1D, tf.Tensor1D]>(FusedOp.layerNormGrad, { dy, xhat, rstd, gamma });
}

/** softmax(scale·s + mask) over the last axis; mask (rows, cols) shared by every leading index, or null. */
export function fusedSoftmax<T extends tf.Tensor>(s: T, mask: tf.Tensor | null, scale: number): T {
  return run<T>(FusedOp.softmax, mask === null ? { s } : { s, mask }, { scale });
}
/** dL/ds of fusedSoftmax from its output p and dL/dp: scale·p·(dp − Σ dp·p). */
export const fusedSoftmaxGrad = <T extends tf.Tensor>(p: T, dp: T, scale: number): T => run<T>(FusedOp.softmaxGrad, { p, dp }, { scale });

export interface AdamWScalars {
  /** lr / (1 − β₁ᵗ) */
  lrOverBc1: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 1 − lr·weightDecay (decoupled decay) */
  decay: number;
  /** √(1 − β₂ᵗ) */
  bc2Sqrt: number;
}

/** One AdamW step of one parameter: the new [p, m, v] (new tensors; the caller assigns them). */
export function fusedAdamW(p: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, s: AdamWScalars): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return run<[tf.Tensor, tf.Tensor, tf.Tensor]>(FusedOp.adamw, { p, m, v, g }, { ...s });
}
