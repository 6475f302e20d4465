export { clipByGlobalNorm, createAdamW } from './adamw';
export type { AdamW, AdamWHyper, AdamWState, ParamGroup } from './adamw';
export {
  assertCheckpointOwner,
  CHECKPOINT_FORMAT,
  CheckpointError,
  checkpointDirName,
  configHash,
  findNewestValidCheckpoint,
  ForeignCheckpointError,
  loadCheckpoint,
  saveCheckpoint,
} from './checkpoint';
export type { CheckpointManifest, CheckpointOwner, CheckpointRecord, LoadedCheckpoint } from './checkpoint';
export { evaluate } from './evaluate';
export type { EvalResult } from './evaluate';
export { toInputs } from './inputs';
export { lrAt } from './lr-schedule';
export { explainOutOfMemory, OutOfMemoryError } from './out-of-memory';
export type { LrSchedule } from './lr-schedule';
export { toDataConfig, toMuInit, toTarflowConfig } from './model-config';
export { decodePng, encodeImageGrid } from './png';
export { renderImages } from './render-images';
export type { GeneratedSamples, ImageKind, RunImage } from './render-images';
export { train } from './trainer';
export type { MetricRow, StopRequest, TrainHooks, TrainLog, TrainProgress, TrainResult, TrainStatus } from './trainer';
export { bitsPerDim } from './units';
export { estimateTrainingMemory, fitsBackend, WASM_FORWARD_LIMIT_BYTES } from './memory-estimate';
export type { BackendFit, MemoryEstimate } from './memory-estimate';
