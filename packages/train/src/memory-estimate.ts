import type { RunConfig } from '@ablate/config';
import { numHeads, numTokens } from '@ablate/tarflow';
import { toTarflowConfig } from './model-config';

/**
 * How much memory a training step needs, roughly, before a worker tries it. Calibrated on the wasm backend, whose heap
 * cannot grow past 4 GiB (wasm32): the forward pass of the small preset at batch 64 keeps ~461 MiB of activations
 * (measured, BENCHMARKS.md). Before 0ec69ae its backward pass grew the heap to the 4 GiB ceiling and aborted; since
 * custom-op gradients run in a tidy it peaks at 2.4 GiB (~5.5× the forward), so a step fits when its forward pass keeps
 * ≤ 4 GiB / 5.5 ≈ 740 MiB; the limit keeps a margin below that. Per sample and transformer layer, the forward pass keeps
 * about 2·H·T² values of attention (scores and softmax) and 3·T·W of projections (T tokens, width W, H heads), 4 bytes.
 */
export const WASM_FORWARD_LIMIT_BYTES = 640 * 2 ** 20;

/** The digits every data source reads (MNIST and Fashion-MNIST IDX files): 28×28, one channel, 10 classes. */
const DIGITS = { height: 28, width: 28, channels: 1 as const, numClasses: 10 };

export interface MemoryEstimate {
  /** Forward-pass activations of one training step, bytes. */
  forwardBytes: number;
  tokens: number;
  layers: number;
}

export function estimateTrainingMemory(cfg: Pick<RunConfig, 'model' | 'train'>): MemoryEstimate {
  const t = toTarflowConfig(cfg.model, DIGITS);
  const T = numTokens(t);
  const layers = t.numBlocks * t.layersPerBlock;
  const perSampleLayer = 2 * numHeads(t) * T * T + 3 * T * t.width;
  return { forwardBytes: 4 * cfg.train.batch_size * layers * perSampleLayer, tokens: T, layers };
}

export interface BackendFit {
  ok: boolean;
  forwardMiB: number;
  limitMiB: number | null;
  /** The largest power-of-two batch size that fits (null when none does, or there is no limit). */
  maxBatch: number | null;
}

/** Whether a run's training step fits the backend's memory: only wasm (and wasm+blas: the same heap) has a known ceiling; tensorflow and cpu pass. */
export function fitsBackend(cfg: Pick<RunConfig, 'model' | 'train'>, backend: string): BackendFit {
  const { forwardBytes } = estimateTrainingMemory(cfg);
  const forwardMiB = forwardBytes / 2 ** 20;
  if (!backend.startsWith('wasm')) return { ok: true, forwardMiB, limitMiB: null, maxBatch: null };
  const perSample = forwardBytes / cfg.train.batch_size;
  let maxBatch: number | null = null;
  for (let b = 1; b * perSample <= WASM_FORWARD_LIMIT_BYTES; b *= 2) maxBatch = b;
  return { ok: forwardBytes <= WASM_FORWARD_LIMIT_BYTES, forwardMiB, limitMiB: WASM_FORWARD_LIMIT_BYTES / 2 ** 20, maxBatch };
}
