import * as tf from '@tensorflow/tfjs-core';
import { customOp, inputAt, mm, registerTarflowGradients, savedAt } from '@ablate/tarflow';

/**
 * A digit classifier (a "judge") that labels generated samples for the mode-mixing metric:
 *
 *   x (B, S, S, C) in [-1, 1]
 *   → for each conv width F_i: conv3×3 (→ F_i) + ReLU → avg-pool 2   (B, S/2^i, S/2^i, F_i)
 *   → flatten → [linear (→ hidden) + ReLU] → linear (→ classes)      (B, classes) logits
 *
 * Two judges of different depth and seed label every sample set (see judges.ts). Every op has a hand-written backward
 * made only of kernels the wasm backend has (it has no Conv2DBackpropFilter). Measured on wasm, batch 128: ~0.45 s/step
 * with slice-based im2col for every conv of the [16, 32] judge, ~0.1 s/step as written.
 */
export interface CnnConfig {
  imageSize: number; // S = H = W, divisible by 2^(number of convs)
  channels: number; //  input channels C
  /** Output width of each conv3×3 + ReLU + 2×2 average-pool stage. */
  convs: number[];
  /** Width of a ReLU linear layer before the logits; 0 = none. */
  hidden: number;
  numClasses: number;
}

export interface CnnParams {
  config: CnnConfig;
  /** conv{i}.w (3, 3, F_{i-1}, F_i), conv{i}.b (F_i), [hidden.w (D, hidden), hidden.b], out.w (·, classes), out.b. */
  vars: Record<string, tf.Variable>;
}

export function assertCnnConfig(c: CnnConfig): void {
  const div = 2 ** c.convs.length;
  if (c.convs.length === 0) throw new Error('classifier: needs at least one conv layer');
  if (c.imageSize % div !== 0) throw new Error(`classifier: image size ${c.imageSize} is not divisible by ${div}`);
}

/** Names of a config's variables, in the order they are stored. */
export function cnnVariableNames(c: CnnConfig): string[] {
  const names = c.convs.flatMap((_, i) => [`conv${i}.w`, `conv${i}.b`]);
  if (c.hidden > 0) names.push('hidden.w', 'hidden.b');
  names.push('out.w', 'out.b');
  return names;
}

/** He-normal init (seeded), zero biases. Also registers the kernel gradients tfjs-core lacks. */
export function initCnn(config: CnnConfig, seed: number): CnnParams {
  assertCnnConfig(config);
  registerTarflowGradients(); // Reshape/Add/Sum gradients (tfjs-core's CJS build registers none)
  const variable = (init: tf.Tensor) => {
    const v = tf.variable(init); // shares init's data
    init.dispose();
    return v;
  };
  let s = seed;
  const he = (shape: number[], fanIn: number) => variable(tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', ++s));
  const vars: Record<string, tf.Variable> = {};
  let cin = config.channels;
  config.convs.forEach((f, i) => {
    vars[`conv${i}.w`] = he([3, 3, cin, f], 9 * cin);
    vars[`conv${i}.b`] = variable(tf.zeros([f]));
    cin = f;
  });
  let flat = (config.imageSize / 2 ** config.convs.length) ** 2 * cin;
  if (config.hidden > 0) {
    vars['hidden.w'] = he([flat, config.hidden], flat);
    vars['hidden.b'] = variable(tf.zeros([config.hidden]));
    flat = config.hidden;
  }
  vars['out.w'] = he([flat, config.numClasses], flat);
  vars['out.b'] = variable(tf.zeros([config.numClasses]));
  return { config, vars };
}

export function cnnVariables(p: CnnParams): Record<string, tf.Variable> {
  return p.vars;
}

export function disposeCnn(p: CnnParams): void {
  tf.dispose(Object.values(p.vars));
}

function varAt(p: CnnParams, name: string): tf.Variable {
  const v = p.vars[name];
  if (v === undefined) throw new Error(`classifier: no variable ${name}`);
  return v;
}

/**
 * im2col by convolution: (B, H, W, C) → (B, H, W, C·9), channel c·9 + k holding x shifted by offset k = 3·di + dj
 * ('same' padding). A depthwise conv with a one-hot filter: on wasm ~10× faster than nine slices and a concat.
 */
export function im2col3x3(x: tf.Tensor4D): tf.Tensor4D {
  const C = x.shape[3];
  const e = new Float32Array(9 * C * 9); // filter (3, 3, C, 9): e[di, dj, c, k] = [k = 3·di + dj]
  for (let k = 0; k < 9; k++) for (let c = 0; c < C; c++) e[(k * C + c) * 9 + k] = 1;
  return tf.depthwiseConv2d(x, tf.tensor4d(e, [3, 3, C, 9]), 1, 'same');
}

/**
 * relu(conv3×3(x, w) + b), 'same' padding, stride 1: x (B, H, W, C), w (3, 3, C, F), b (F) → (B, H, W, F).
 * Backward: dx is the convolution of the gradient with the flipped filter; dw = colsᵀ·g with an explicit transpose.
 */
export const conv3x3Relu = customOp<tf.Tensor4D>((inputs) => {
  const x = inputAt(inputs, 0) as tf.Tensor4D,
    w = inputAt(inputs, 1) as tf.Tensor4D,
    b = inputAt(inputs, 2);
  const [B, H, W, C] = x.shape;
  const F = w.shape[3];
  const y = tf.relu<tf.Tensor4D>(tf.add<tf.Tensor4D>(tf.conv2d(x, w, 1, 'same'), b)); // (B, H, W, F)
  return {
    value: y,
    save: [x, w, y],
    grad: (dy, saved) => {
      const xs = savedAt(saved, 0) as tf.Tensor4D,
        ws = savedAt(saved, 1) as tf.Tensor4D,
        out = savedAt(saved, 2);
      const g = tf.mul(dy, tf.step(out)) as tf.Tensor4D; //                                     (B, H, W, F) through the ReLU
      const g2 = tf.reshape<tf.Rank.R2>(g, [B * H * W, F]);
      const db = tf.reshape(tf.matMul(tf.ones([1, B * H * W]), g2), [F]); //                    (F)
      const cols = tf.reshape<tf.Rank.R2>(im2col3x3(xs), [B * H * W, C * 9]); //               (BHW, C·9)
      const dwck = tf.reshape(tf.matMul(tf.transpose(cols), g2), [C, 3, 3, F]); //             (C, 3, 3, F)
      const dw = tf.transpose(dwck, [1, 2, 0, 3]); //                                           (3, 3, C, F)
      const flipped = tf.transpose(tf.reverse(ws, [0, 1]), [0, 1, 3, 2]); //                   (3, 3, F, C)
      return [tf.conv2d(g, flipped as tf.Tensor4D, 1, 'same'), dw, db];
    },
  };
});

/** 2×2 average pooling, stride 2: (B, H, W, C) → (B, H/2, W/2, C). */
export const avgPool2 = customOp<tf.Tensor4D>((inputs) => {
  const x = inputAt(inputs, 0) as tf.Tensor4D;
  const [, H, W] = x.shape;
  return {
    value: tf.avgPool(x, 2, 2, 'valid'),
    save: [],
    grad: (dy) => [tf.mul(tf.image.resizeNearestNeighbor(dy, [H, W]), 0.25)],
  };
});

/** Mean softmax cross-entropy of logits (B, K) against one-hot targets (B, K), with its closed-form gradient. */
export const softmaxCrossEntropy = customOp<tf.Scalar>((inputs) => {
  const logits = inputAt(inputs, 0),
    target = inputAt(inputs, 1);
  const B = logits.shape[0] ?? 1;
  const logp = tf.logSoftmax(logits);
  return {
    value: tf.neg<tf.Scalar>(tf.div<tf.Scalar>(tf.sum(tf.mul(target, logp)), B)),
    save: [logp, target],
    grad: (dy, saved) => {
      const p = tf.exp(savedAt(saved, 0)),
        t = savedAt(saved, 1);
      return [tf.mul(tf.div(tf.sub(p, t), B), dy), tf.zerosLike(t)];
    },
  };
});

/** relu(x·w + b): x (B, D), w (D, H), b (H) → (B, H). */
export const denseRelu = customOp<tf.Tensor2D>((inputs) => {
  const x = inputAt(inputs, 0) as tf.Tensor2D,
    w = inputAt(inputs, 1) as tf.Tensor2D,
    b = inputAt(inputs, 2);
  const y = tf.relu<tf.Tensor2D>(tf.add<tf.Tensor2D>(tf.matMul(x, w), b));
  return {
    value: y,
    save: [x, w, y],
    grad: (dy, saved) => {
      const xs = savedAt(saved, 0) as tf.Tensor2D,
        ws = savedAt(saved, 1) as tf.Tensor2D,
        out = savedAt(saved, 2);
      const g = tf.mul(dy, tf.step(out)) as tf.Tensor2D; //                  (B, H)
      const db = tf.reshape(tf.matMul(tf.ones([1, g.shape[0]]), g), [g.shape[1]]); // (H)
      return [tf.matMul(g, tf.transpose(ws)), tf.matMul(tf.transpose(xs), g), db];
    },
  };
});

/** Logits (B, classes) for images x (B, S, S, C) in [-1, 1]. */
export function cnnLogits(p: CnnParams, x: tf.Tensor4D): tf.Tensor2D {
  const B = x.shape[0];
  let h = x;
  p.config.convs.forEach((_, i) => {
    h = avgPool2(conv3x3Relu(h, varAt(p, `conv${i}.w`), varAt(p, `conv${i}.b`))); // (B, S/2^(i+1), S/2^(i+1), F_i)
  });
  let flat = tf.reshape<tf.Rank.R2>(h, [B, -1]); //                                   (B, D)
  if (p.config.hidden > 0) flat = denseRelu(flat, varAt(p, 'hidden.w'), varAt(p, 'hidden.b')); // (B, hidden)
  return tf.add(mm(flat, varAt(p, 'out.w') as tf.Tensor2D), varAt(p, 'out.b')); //      (B, classes)
}
