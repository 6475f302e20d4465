import * as tf from '@tensorflow/tfjs-core';
import { createBatchIterator, createRng, type Dataset, type Rng } from '@ablate/data';
import { createAdamW, lrAt } from '@ablate/train';
import { cnnLogits, cnnVariables, initCnn, softmaxCrossEntropy, type CnnConfig, type CnnParams } from './cnn';

export interface ClassifierTraining {
  epochs: number;
  batchSize: number;
  lr: number;
  /** Std of Gaussian noise added to training inputs in [-1, 1], so that noisy flow samples are labelled robustly. */
  noiseStd: number;
  /** A random affine warp of every training image, or null for none. */
  augment: Augmentation | null;
  seed: number;
}

/** Per image: rotation in ±rotateDeg, isotropic scale in 1 ± scale, shift in ±shiftPx pixels (bilinear, zero outside). */
export interface Augmentation {
  rotateDeg: number;
  scale: number;
  shiftPx: number;
}

/**
 * Warps each (H, W) image of `images` (N·H·W, values in [0, 1]) by its own random affine map about the centre,
 * sampling bilinearly: the augmentation that keeps a judge from learning the training digits' exact placement.
 */
export function augmentImages(images: Float32Array, n: number, size: number, a: Augmentation, rng: Rng): Float32Array {
  const out = new Float32Array(images.length);
  const px = size * size,
    c = (size - 1) / 2;
  for (let i = 0; i < n; i++) {
    const theta = ((rng() * 2 - 1) * a.rotateDeg * Math.PI) / 180;
    const s = 1 + (rng() * 2 - 1) * a.scale;
    const tx = (rng() * 2 - 1) * a.shiftPx,
      ty = (rng() * 2 - 1) * a.shiftPx;
    // Inverse map: output pixel (y, x) reads the source at R(-θ)·((y, x) - centre - t)/s + centre.
    const cos = Math.cos(theta) / s,
      sin = Math.sin(theta) / s;
    const src = images.subarray(i * px, (i + 1) * px),
      dst = out.subarray(i * px, (i + 1) * px);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const dy = y - c - ty,
          dx = x - c - tx;
        const sy = cos * dy - sin * dx + c,
          sx = sin * dy + cos * dx + c;
        const y0 = Math.floor(sy),
          x0 = Math.floor(sx),
          fy = sy - y0,
          fx = sx - x0;
        const at = (yy: number, xx: number) => (yy < 0 || yy >= size || xx < 0 || xx >= size ? 0 : (src[yy * size + xx] ?? 0));
        dst[y * size + x] = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
      }
    }
  }
  return out;
}

export interface ClassifierProgress {
  step: number;
  totalSteps: number;
  loss: number;
}

/** Dataset pixels in [0, 1] (N, H, W) → model input in [-1, 1] (N, H, W, 1). Call inside tf.tidy. */
export function toClassifierInput(images: Float32Array, n: number, size: number): tf.Tensor4D {
  return tf.sub(tf.mul(tf.tensor4d(images, [n, size, size, 1]), 2), 1);
}

/** One-hot rows (N, K) as float32. */
function oneHot(labels: ArrayLike<number>, k: number): tf.Tensor2D {
  const out = new Float32Array(labels.length * k);
  for (let i = 0; i < labels.length; i++) out[i * k + (labels[i] ?? 0)] = 1;
  return tf.tensor2d(out, [labels.length, k]);
}

/** Trains a CNN on `train` with AdamW (no decay) and a warmup + cosine schedule; deterministic for a seed. */
export async function trainClassifier(
  train: Dataset,
  config: CnnConfig,
  t: ClassifierTraining,
  onProgress?: (p: ClassifierProgress) => void,
): Promise<CnnParams> {
  if (train.height !== config.imageSize || train.width !== config.imageSize) {
    throw new Error(`classifier: dataset images are ${train.height}×${train.width}, the classifier expects ${config.imageSize}×${config.imageSize}`);
  }
  const params = initCnn(config, t.seed);
  const vars = cnnVariables(params);
  const opt = createAdamW([{ name: 'cnn', vars, lrScale: 1, weightDecay: 0 }], { beta1: 0.9, beta2: 0.999, eps: 1e-8 });
  const stepsPerEpoch = Math.floor(train.count / t.batchSize);
  const totalSteps = Math.max(1, stepsPerEpoch * t.epochs);
  const schedule = { lr: t.lr, warmupSteps: Math.min(50, totalSteps), totalSteps, minLrRatio: 0.05 };
  const batches = createBatchIterator(train, { batchSize: t.batchSize, seed: t.seed });
  const rng = createRng(t.seed ^ 0x0a06);
  try {
    for (let step = 1; step <= totalSteps; step++) {
      const b = batches.next();
      const n = b.labels.length;
      const { value, grads } = tf.variableGrads(() => {
        const pixels = t.augment ? augmentImages(b.images, n, config.imageSize, t.augment, rng) : b.images;
        const clean = toClassifierInput(pixels, n, config.imageSize);
        const x = t.noiseStd > 0 ? tf.add(clean, tf.randomNormal(clean.shape, 0, t.noiseStd, 'float32', t.seed + step)) : clean;
        const target = oneHot(b.labels, config.numClasses); // built in JS: wasm's OneHot writes int bits into float32
        return softmaxCrossEntropy(cnnLogits(params, x as tf.Tensor4D), target);
      }, Object.values(vars));
      opt.apply(grads, lrAt(schedule, step));
      const loss = (await value.data())[0] ?? NaN;
      tf.dispose([value, ...Object.values(grads)]);
      if (!Number.isFinite(loss)) throw new Error(`classifier training diverged at step ${step}`);
      onProgress?.({ step, totalSteps, loss });
      if (step % 20 === 0) await new Promise((r) => setImmediate(r));
    }
  } finally {
    opt.dispose();
  }
  return params;
}

/** Predicted class of each image; `inputs` are model inputs in [-1, 1], (N, H, W) row-major. */
export async function predictClasses(params: CnnParams, inputs: Float32Array, n: number, batchSize = 500): Promise<Int32Array> {
  const size = params.config.imageSize;
  const px = size * size;
  const out = new Int32Array(n);
  for (let start = 0; start < n; start += batchSize) {
    const m = Math.min(batchSize, n - start);
    const pred = tf.tidy(() => tf.argMax(cnnLogits(params, tf.tensor4d(inputs.subarray(start * px, (start + m) * px), [m, size, size, 1])), 1));
    out.set((await pred.data()) as Int32Array, start); // async: webgpu has no dataSync in Node
    pred.dispose();
  }
  return out;
}

/** Top-1 accuracy on a dataset (pixels in [0, 1]). */
export async function classifierAccuracy(params: CnnParams, ds: Dataset): Promise<number> {
  const inputs = new Float32Array(ds.images.length);
  for (let i = 0; i < inputs.length; i++) inputs[i] = (ds.images[i] ?? 0) * 2 - 1;
  const pred = await predictClasses(params, inputs, ds.count);
  let correct = 0;
  for (let i = 0; i < ds.count; i++) if (pred[i] === ds.labels[i]) correct++;
  return correct / Math.max(ds.count, 1);
}
