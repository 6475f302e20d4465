/**
 * What workers report to the recorder through the event stream (`eventStreamKey(prefix)`). Every event names its run;
 * the recorder applies them idempotently, so an event delivered twice changes nothing.
 */
export type RunStatusFinal = 'succeeded' | 'failed' | 'cancelled' | 'diverged';

/** A worker started (or resumed) an attempt of a run. */
export interface RunStartedEvent {
  kind: 'run-started';
  runId: string;
  /** 1-based attempt number (BullMQ attemptsMade + 1). */
  attempt: number;
  host: string;
  workerId: string;
  /** tfjs backend: `tensorflow`, `wasm`, `cpu`. */
  backend: string;
  device: string;
  /** The checkpoint step this attempt resumed from; null when it starts from scratch. */
  resumeFrom: number | null;
  /** Epoch ms on the worker. */
  at: number;
}

export interface MetricValue {
  step: number;
  name: string;
  /** May be NaN or ±Infinity (encoded as strings on the stream, NaN stored as NULL). */
  value: number;
}

export interface MetricsEvent {
  kind: 'metrics';
  runId: string;
  rows: MetricValue[];
}

/** ‖μ_c‖ for every class c at one step. */
export interface MuNormsEvent {
  kind: 'mu-norms';
  runId: string;
  step: number;
  /** One value per class, index = class. */
  norms: number[];
}

/** How the digit classifier labelled a run's samples at one eval: matrix[c][k] = class-c samples labelled k. */
export interface ConfusionEvent {
  kind: 'confusion';
  runId: string;
  step: number;
  /** Which samples were judged: 'raw' or 'denoised' (absent from older workers: 'denoised'). */
  sampleKind?: 'raw' | 'denoised';
  /** Their sampling temperature (absent: 1). */
  temperature?: number;
  /** The judge (classifier) that labelled them (absent: 'cnn-v1', the older workers' one). */
  judge?: string;
  matrix: number[][];
}

export interface CheckpointEvent {
  kind: 'checkpoint';
  runId: string;
  step: number;
  uri: string;
  bytes: number;
  sha256: string;
}

export interface ArtifactEvent {
  kind: 'artifact';
  runId: string;
  step: number;
  /** `samples`, `samples-denoised`, `mu`, … */
  artifact: string;
  uri: string;
}

/** The run stopped at a checkpoint and went back on the queue (its worker was stopped): it is queued, not running. */
export interface RunReleasedEvent {
  kind: 'run-released';
  runId: string;
  /** The checkpoint it will resume from. */
  step: number;
  at: number;
}

export interface RunFinishedEvent {
  kind: 'run-finished';
  runId: string;
  status: RunStatusFinal;
  /** The last completed step. */
  finalStep: number;
  error?: string;
  elapsedMs?: number;
  /** Epoch ms on the worker. */
  at: number;
}

export type RunEvent = RunStartedEvent | MetricsEvent | MuNormsEvent | ConfusionEvent | CheckpointEvent | ArtifactEvent | RunReleasedEvent | RunFinishedEvent;
export type RunEventKind = RunEvent['kind'];
