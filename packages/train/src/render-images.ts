import * as tf from '@tensorflow/tfjs-core';
import { sample, unpatchify, type TarflowModel } from '@ablate/tarflow';
import { encodeImageGrid } from './png';

export type ImageKind = 'samples' | 'samples-denoised' | 'mu';

export interface RunImage {
  step: number;
  kind: ImageKind;
  /** PNG bytes. */
  png: Buffer;
}

/** Generated samples of known class, in data space ([-1, 1], not clipped). */
export interface GeneratedSamples {
  step: number;
  /** 'raw': the flow's inverse of z ~ N(μ_c, (σ_c·T)²); 'denoised': after TARFlow's one-step score denoising. */
  kind: 'raw' | 'denoised';
  temperature: number;
  images: Float32Array; // (N, H, W, C)
  classes: Int32Array; //  (N,) the class each was sampled from, class-major
  height: number;
  width: number;
  channels: number;
}

/**
 * The seed's two pictures of a run: uncurated samples (one row per class, raw and after one-step score denoising)
 * and the learned prior means μ_c (one per class, in image space, clipped to [-1, 1]). With `extraPerClass` > 0 it
 * also returns max(samplesPerClass, extraPerClass) denoised samples per class (the grid shows the first ones), drawn
 * in chunks of `chunk`, for the digit classifier.
 */
export async function renderImages(
  model: TarflowModel,
  opts: { step: number; samplesPerClass: number; temperature: number; noiseStd: number; seed: number; extraPerClass?: number; chunk?: number },
): Promise<{ images: RunImage[]; samples: { raw: GeneratedSamples; denoised: GeneratedSamples } | null }> {
  const cfg = model.config;
  const C = cfg.numClasses,
    S = cfg.imageSize,
    ch = cfg.channels;
  const k = opts.samplesPerClass;
  const perClass = Math.max(k, opts.extraPerClass ?? 0);
  const px = S * S * ch;
  const images: RunImage[] = [];
  let samples: { raw: GeneratedSamples; denoised: GeneratedSamples } | null = null;
  if (perClass > 0) {
    const classes = Int32Array.from({ length: C * perClass }, (_, i) => Math.floor(i / perClass)); // class-major
    const raw = new Float32Array(classes.length * px);
    const denoised = new Float32Array(classes.length * px);
    const chunk = Math.max(1, opts.chunk ?? 250);
    for (let start = 0; start < classes.length; start += chunk) {
      const labels = Array.from(classes.subarray(start, Math.min(start + chunk, classes.length)));
      const s = sample(model, labels, { seed: opts.seed + start, temperature: opts.temperature, cache: true, noiseStd: opts.noiseStd });
      raw.set((await s.raw.data()) as Float32Array, start * px); // async reads: webgpu has no dataSync in Node
      denoised.set((await s.denoised.data()) as Float32Array, start * px);
      tf.dispose([s.raw, s.denoised]);
    }
    if (k > 0) {
      // Grid rows: the first k samples of each class.
      const pick = (all: Float32Array) => {
        const out = new Float32Array(C * k * px);
        for (let c = 0; c < C; c++) out.set(all.subarray(c * perClass * px, (c * perClass + k) * px), c * k * px);
        return out;
      };
      const grid = { rows: C, cols: k, height: S, width: S, scale: 2 };
      images.push({ step: opts.step, kind: 'samples', png: encodeImageGrid(pick(raw), grid) });
      images.push({ step: opts.step, kind: 'samples-denoised', png: encodeImageGrid(pick(denoised), grid) });
    }
    if ((opts.extraPerClass ?? 0) > 0) {
      const common = { step: opts.step, temperature: opts.temperature, classes, height: S, width: S, channels: ch };
      samples = { raw: { ...common, kind: 'raw', images: raw }, denoised: { ...common, kind: 'denoised', images: denoised } };
    }
  }
  const mu = tf.tidy(() => {
    const T = (S / cfg.patchSize) ** 2;
    return unpatchify(cfg, tf.reshape(model.prior.mu, [C, T, -1]) as tf.Tensor3D); // (C, H, W, ch)
  });
  images.push({ step: opts.step, kind: 'mu', png: encodeImageGrid((await mu.data()) as Float32Array, { rows: 1, cols: C, height: S, width: S, scale: 2 }) });
  mu.dispose();
  return { images, samples };
}

/** `perClass` raw samples per class at `temperature` (no denoising), class-major, drawn in chunks of `chunk`. */
export async function drawRawSamples(
  model: TarflowModel,
  opts: { step: number; perClass: number; temperature: number; seed: number; chunk?: number },
): Promise<GeneratedSamples> {
  const cfg = model.config;
  const S = cfg.imageSize,
    ch = cfg.channels,
    px = S * S * ch;
  const classes = Int32Array.from({ length: cfg.numClasses * opts.perClass }, (_, i) => Math.floor(i / opts.perClass));
  const images = new Float32Array(classes.length * px);
  const chunk = Math.max(1, opts.chunk ?? 250);
  for (let start = 0; start < classes.length; start += chunk) {
    const labels = Array.from(classes.subarray(start, Math.min(start + chunk, classes.length)));
    const s = sample(model, labels, { seed: opts.seed + start, temperature: opts.temperature, cache: true, noiseStd: 0 });
    images.set((await s.raw.data()) as Float32Array, start * px);
    tf.dispose([s.raw, s.denoised]);
  }
  return { step: opts.step, kind: 'raw', temperature: opts.temperature, images, classes, height: S, width: S, channels: ch };
}
