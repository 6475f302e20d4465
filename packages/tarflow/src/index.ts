/**
 * @ablate/tarflow: TARFlow (Zhai et al. 2024, structure of Apple's ml-tarflow transformer_flow.py) with NO class
 * input and one learned diagonal Gaussian prior per class (Sun et al., "Unconditional Normalizing Flows for
 * Conditional Generation"). Model only: no I/O, no logging, no globals; seeds are passed in; parameters are plain
 * tf.Variable. Written for tfjs-core on the wasm backend (see matmul.ts / attention.ts for why the kernels look the
 * way they do) and tested on the cpu backend. initModel also registers the kernel gradients tfjs-core lacks.
 */
export {
  PRESETS,
  TarflowConfigError,
  assertConfig,
  assertDivisible,
  assertPositiveInt,
  numHeads,
  numTokens,
  tokenDim,
  type PresetName,
  type TarflowConfig,
} from './config';
export {
  type TarflowModel,
  disposeModel,
  flowVariables,
  forward,
  initModel,
  muNorms,
  namedVariables,
  patchify,
  priorVariables,
  reverse,
  unpatchify,
} from './model';
export { logProb, nll } from './loss';
export { classLogits } from './classify';
export { sample, type SampleOptions } from './sample';
export { type MuInit, type PriorParams } from './prior';
export { type FlowBlockParams, flowForward, flowReverse } from './flow-block';
export { groupedMatmul, mm } from './matmul';
export { registerTarflowGradients } from './gradients';
export { customOp, inputAt, savedAt, type CustomOpResult } from './custom-op';
