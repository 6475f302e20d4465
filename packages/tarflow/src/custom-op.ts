import * as tf from '@tensorflow/tfjs-core';

/** What a custom op's forward returns: its value, the tensors its backward needs, and the backward itself. */
export interface CustomOpResult<T extends tf.Tensor> {
  value: T;
  save: tf.Tensor[];
  /** One gradient per input, same order, each of that input's shape. `saved` is `save` as kept by the engine. */
  grad: (dy: T, saved: tf.Tensor[]) => tf.Tensor[];
}

/**
 * A typed wrapper over tf.customGrad: the engine records ONE tape node for the whole op and calls `grad` on
 * backprop, so we control exactly which kernels the backward pass runs (e.g. no transposed matmuls on wasm).
 * Tensors created inside `forward` are freed by the engine; only `value` and the saved tensors survive. Tensors
 * created inside `grad` are freed when it returns; only the gradients survive.
 */
export function customOp<T extends tf.Tensor>(forward: (inputs: tf.Tensor[]) => CustomOpResult<T>): (...inputs: tf.Tensor[]) => T {
  return tf.customGrad<T>((...args) => {
    const inputs: tf.Tensor[] = [];
    let save: tf.GradSaveFunc | undefined;
    for (const a of args) {
      if (typeof a === 'function') save = a;
      else inputs.push(a);
    }
    const r = forward(inputs);
    if (save !== undefined) save(r.save);
    // tfjs-core runs a custom gradient outside any tidy and frees what it creates only when the whole backward pass
    // ends: without this tidy every backward temporary (attention's (B·H, T, T) products, …) lived that long.
    return { value: r.value, gradFunc: (dy: T, saved: tf.Tensor[]) => tf.tidy(() => r.grad(dy, saved)) };
  });
}

/** `saved[i]`, or a clear error: backward functions index the tensors they saved. */
export function savedAt(saved: tf.Tensor[], i: number): tf.Tensor {
  const t = saved[i];
  if (t === undefined) throw new Error(`custom op: saved tensor ${i} missing`);
  return t;
}

/** `inputs[i]`, or a clear error. */
export function inputAt(inputs: tf.Tensor[], i: number): tf.Tensor {
  const t = inputs[i];
  if (t === undefined) throw new Error(`custom op: input ${i} missing`);
  return t;
}
