import { AblateError } from '@ablate/cli';

/** Every knob of the model. Plain JSON: stored verbatim in runs.config_json. */
export interface TarflowConfig {
  imageSize: number;
  channels: number; // H = W, C
  patchSize: number; // T = (imageSize/patchSize)² tokens, each of D = C·patchSize² values
  width: number; // transformer hidden size
  numBlocks: number; // flow blocks; odd blocks flip token order
  layersPerBlock: number; // transformer layers per flow block
  headDim: number; // attention heads = width / headDim
  mlpRatio: number; // MLP hidden = mlpRatio·width (4, as ml-tarflow)
  nvp: boolean; // true: affine (shift + scale); false: volume-preserving (shift only)
  logScaleClip: number; // the log-scale a is clipped to [−logScaleClip, logScaleClip] (the paper's norm control: 3)
  numClasses: number; // one learned Gaussian prior per class
}

/** Thrown for a config (or init option) the model cannot be built from; the message names the field. */
export class TarflowConfigError extends AblateError {
  override name = 'TarflowConfigError';
  override readonly retryable = false;
}

const BASE = { imageSize: 28, channels: 1, mlpRatio: 4, nvp: true, logScaleClip: 3, numClasses: 10 } as const;

/**
 * paper: the blog post's MNIST model. small / tiny: cheaper ablation sizes. test: runs in milliseconds in unit tests.
 * headDim 64 everywhere (ml-tarflow's default). For tiny, one head measured 229 img/s on wasm at batch 64 vs 225 for
 * headDim 32 and 220 for 16: attention FLOPs do not depend on the head count, only the softmax tensors grow with it.
 */
export const PRESETS = {
  paper: { ...BASE, patchSize: 2, width: 256, numBlocks: 6, layersPerBlock: 4, headDim: 64 },
  small: { ...BASE, patchSize: 2, width: 128, numBlocks: 4, layersPerBlock: 2, headDim: 64 },
  tiny: { ...BASE, patchSize: 4, width: 64, numBlocks: 2, layersPerBlock: 2, headDim: 64 },
  test: { ...BASE, imageSize: 8, patchSize: 2, width: 16, numBlocks: 2, layersPerBlock: 1, headDim: 8 },
} satisfies Record<string, TarflowConfig>;

export type PresetName = keyof typeof PRESETS;

/** T: number of tokens (patches) per image. */
export function numTokens(cfg: TarflowConfig): number {
  const side = cfg.imageSize / cfg.patchSize;
  return side * side;
}

/** D: values per token, C·patchSize², in (py, px, c) order. */
export function tokenDim(cfg: TarflowConfig): number {
  return cfg.channels * cfg.patchSize * cfg.patchSize;
}

/** Attention heads per layer: width / headDim. */
export function numHeads(cfg: TarflowConfig): number {
  return cfg.width / cfg.headDim;
}

/** Throws unless `value` is a positive integer. */
export function assertPositiveInt(value: number, name: string): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new TarflowConfigError(`${name}: expected a positive integer, got ${String(value)}`);
  }
}

/** Throws unless `a` is divisible by `b`, naming both fields: `assertDivisible(cfg.width, cfg.headDim, 'width', 'headDim')`. */
export function assertDivisible(a: number, b: number, aName: string, bName: string): void {
  if (a % b !== 0) {
    throw new TarflowConfigError(`${aName} (${a}) must be divisible by ${bName} (${b})`);
  }
}

/** Validates every field; throws TarflowConfigError naming the first bad one. */
export function assertConfig(cfg: TarflowConfig): void {
  const ints = ['imageSize', 'channels', 'patchSize', 'width', 'numBlocks', 'layersPerBlock', 'headDim', 'mlpRatio', 'numClasses'] as const;
  for (const k of ints) assertPositiveInt(cfg[k], k);
  assertDivisible(cfg.imageSize, cfg.patchSize, 'imageSize', 'patchSize');
  assertDivisible(cfg.width, cfg.headDim, 'width', 'headDim');
  if (typeof cfg.nvp !== 'boolean') throw new TarflowConfigError(`nvp: expected a boolean, got ${String(cfg.nvp)}`);
  if (!(Number.isFinite(cfg.logScaleClip) && cfg.logScaleClip > 0)) {
    throw new TarflowConfigError(`logScaleClip: expected a positive number, got ${String(cfg.logScaleClip)}`);
  }
}
