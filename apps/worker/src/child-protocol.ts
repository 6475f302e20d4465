import type { RunJobData } from '@ablate/queue';
import type { TrainProgress, TrainStatus } from '@ablate/train';
import type { PhaseInfo } from './run-phase';

/** Parent → child. */
export type ToChild =
  | { type: 'start'; job: RunJobData; jobId: string; attempt: number; workerId: string; host: string; backend?: string; lockToken?: string }
  /** SIGTERM on the worker: checkpoint at the end of this step and stop; the job resumes elsewhere. */
  | { type: 'interrupt' };

/** Child → parent. */
export type FromChild =
  /** etaSec counts the evals and checkpoints to come once one was timed (etaIncludesEvals); stepsEtaSec is the steps' alone. */
  | { type: 'progress'; progress: TrainProgress & Partial<PhaseInfo> & { backend: string; stepsEtaSec?: number; etaIncludesEvals?: boolean } }
  | { type: 'result'; status: TrainStatus; step: number; message: string; resumedFrom: number | null; elapsedMs: number }
  /** The run failed. `retry: false` when retrying cannot help (the config itself is wrong); the message names the fault. */
  | { type: 'error'; message: string; retry: boolean; lostLock?: boolean };

export function isToChild(m: unknown): m is ToChild {
  return typeof m === 'object' && m !== null && ((m as { type?: unknown }).type === 'start' || (m as { type?: unknown }).type === 'interrupt');
}
