import * as tf from '@tensorflow/tfjs-core';
import type { Dataset } from '@ablate/data';
import { classLogits, nll, type TarflowModel } from '@ablate/tarflow';
import { toInputs } from './inputs';
import { bitsPerDim } from './units';

export interface EvalResult {
  step: number;
  /** Held-out −log p(x|c) per dimension in nats (data in [-1, 1], with the training noise). */
  nll: number;
  bpd: number;
  /** argmax_c log N(z; μ_c, σ_c²) on clean held-out images, in one forward pass. */
  accuracy: number;
  classifyImagesPerSec: number;
  examples: number;
}

/** Held-out NLL and one-pass classification accuracy over `ds`, in batches. Deterministic for a seed. */
export async function evaluate(
  model: TarflowModel,
  ds: Dataset,
  opts: { step: number; batchSize: number; noiseStd: number; seed: number; now?: () => number },
): Promise<EvalResult> {
  const now = opts.now ?? (() => performance.now());
  const px = ds.height * ds.width * ds.channels;
  let nllSum = 0; // Σ over examples of the per-dim NLL
  let correct = 0;
  let classifyMs = 0;
  for (let start = 0; start < ds.count; start += opts.batchSize) {
    const n = Math.min(opts.batchSize, ds.count - start);
    const images = ds.images.subarray(start * px, (start + n) * px);
    const labels = Int32Array.from(ds.labels.subarray(start, start + n));
    const batchNll = tf.tidy(() => {
      const { x, y } = toInputs(model.config, images, labels, opts.noiseStd, opts.seed + start);
      return nll(model, x, y).loss;
    });
    nllSum += ((await batchNll.data())[0] ?? NaN) * n;
    batchNll.dispose();

    const t0 = now();
    const predicted = tf.tidy(() => tf.argMax(classLogits(model, toInputs(model.config, images, labels, 0, 0).x), 1));
    const pred = await predicted.data();
    classifyMs += now() - t0;
    predicted.dispose();
    for (let i = 0; i < n; i++) if (pred[i] === labels[i]) correct++;
  }
  const meanNll = nllSum / ds.count;
  return {
    step: opts.step,
    nll: meanNll,
    bpd: bitsPerDim(meanNll),
    accuracy: correct / ds.count,
    classifyImagesPerSec: (ds.count * 1000) / Math.max(classifyMs, 1e-6),
    examples: ds.count,
  };
}
