import { cancelKey, cancelRunKey, RUN_QUEUE, type RunJobData } from '@ablate/queue';
import { attachRuns, getRun, setRunStatus, sweepsOfRun, upsertSweep, type RunStatus, type Store } from '@ablate/store';
import type { RunSpec, SweepSpec } from '@ablate/sweep';
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { runArtifactDir } from './env';
import path from 'node:path';

/** Retries with exponential backoff (5 s, 10 s, …) for transient failures; bad payloads fail once (UnrecoverableError). */
export const RUN_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 5000 },
  removeOnComplete: true,
  removeOnFail: true,
};

export interface SubmitResult {
  sweepId: string;
  total: number;
  /** Runs this submission created (new configs). */
  created: string[];
  /** Runs put on the queue now (new, re-queued failed/cancelled, or queued in SQLite but missing from Redis). */
  enqueued: string[];
  /** Already finished (succeeded or diverged): not trained again. */
  finished: string[];
  /** Queued or running with a live job: left alone. */
  active: string[];
  /** Failed runs left alone because --retry-failed was not given. */
  failedKept: string[];
  /** Runs that were in the sweep but that the (edited) file no longer expands to: unlinked; their data stays in `runs`. */
  unlinked: string[];
  /** Of those, the queued or running ones in no other sweep: taken off the queue or stopped, and marked cancelled. */
  stopped: string[];
}

const FINISHED: RunStatus[] = ['succeeded', 'diverged'];

/**
 * Records the sweep and its runs in SQLite and enqueues one job per run that needs one. Safe to run again: the job id
 * is the run id, and whether a run already finished is decided in SQLite, not by the job id.
 * - finished runs are skipped; queued/running runs with a job in Redis are left alone;
 * - failed runs are re-queued only with retryFailed; cancelled runs are re-queued (submitting again resumes them).
 */
export async function submitSweep(opts: {
  store: Store;
  connection: Redis;
  prefix: string;
  spec: SweepSpec;
  runs: RunSpec[];
  artifactDir: string;
  retryFailed?: boolean;
  now?: number;
}): Promise<SubmitResult> {
  const { store, spec, runs } = opts;
  const sweepId = spec.name;
  upsertSweep(store, { id: sweepId, name: spec.name, file: spec.file, spec }, opts.now);
  const { created, unlinked } = attachRuns(
    store,
    sweepId,
    runs.map((r) => ({ id: r.runId, idx: r.index, label: r.label, variant: r.variant, config: storedConfigOf(r) })),
    opts.now,
    { replace: true }, // the file is the truth: runs it no longer expands to leave the sweep
  );
  const queue = new Queue<RunJobData>(RUN_QUEUE, { connection: opts.connection, prefix: opts.prefix });
  try {
    const result: SubmitResult = { sweepId, total: runs.length, created, enqueued: [], finished: [], active: [], failedKept: [], unlinked, stopped: [] };
    // A run that left the sweep and is in no other sweep is not wanted any more: take it off the queue (or stop it).
    for (const id of unlinked) {
      const status = getRun(store, id)?.status;
      if ((status !== 'queued' && status !== 'running') || sweepsOfRun(store, id).length > 0) continue;
      await queue.remove(id).catch(() => 0); // a waiting or delayed job; an active one is locked and stays …
      await opts.connection.set(cancelRunKey(opts.prefix, id), '1', 'EX', 7 * 24 * 3600); // … and stops at its next step
      setRunStatus(store, id, 'cancelled', { from: ['queued', 'running'] });
      result.stopped.push(id);
    }
    const toAdd: RunSpec[] = [];
    const createdSet = new Set(created);
    // One round trip per 500 runs: what each run's job looks like in Redis now.
    const states =
      createdSet.size === runs.length
        ? new Map<string, string>()
        : await jobStates(
            queue,
            runs.map((r) => r.runId).filter((id) => !createdSet.has(id)),
          );
    for (const r of runs) {
      if (createdSet.has(r.runId)) {
        toAdd.push(r);
        continue;
      }
      const status = getRun(store, r.runId)?.status ?? 'queued';
      const state = states.get(r.runId) ?? 'missing';
      const live = state === 'waiting' || state === 'active' || state === 'delayed' || state === 'prioritized' || state === 'waiting-children';
      if (FINISHED.includes(status)) result.finished.push(r.runId);
      else if (status === 'failed' && !opts.retryFailed) result.failedKept.push(r.runId);
      else if ((status === 'queued' || status === 'running') && live) result.active.push(r.runId);
      else {
        if (!live && state !== 'missing') await queue.remove(r.runId).catch(() => 0); // a finished/failed job left in Redis
        if (status !== 'queued') setRunStatus(store, r.runId, 'queued', { error: null });
        toAdd.push(r);
      }
    }
    // Submitting again un-cancels: clear the sweep's and these runs' cancel flags before the jobs can start.
    await opts.connection.del(cancelKey(opts.prefix, sweepId), ...runs.map((r) => cancelRunKey(opts.prefix, r.runId)));
    if (toAdd.length > 0) {
      for (let i = 0; i < toAdd.length; i += 1000) {
        await queue.addBulk(
          toAdd.slice(i, i + 1000).map((r) => ({
            name: r.label || r.runId,
            data: jobDataOf(r, sweepId, opts.artifactDir),
            opts: { ...RUN_JOB_OPTIONS, jobId: r.runId },
          })),
        );
      }
      result.enqueued = toAdd.map((r) => r.runId);
    }
    return result;
  } finally {
    await queue.close();
  }
}

/** What runs.config_json holds: the resolved run config, or for a program's run `{ program, config }` (what its id hashes). */
export function storedConfigOf(r: RunSpec): unknown {
  return r.program === undefined ? r.config : { program: r.program, config: r.config };
}

function jobDataOf(r: RunSpec, sweepId: string, artifactDir: string): RunJobData {
  const common = { runId: r.runId, sweepId, label: r.label, artifactDir: runArtifactDir(artifactDir, r.runId) };
  const classifierDir = path.join(artifactDir, 'classifiers'); // the digit judges, shared by every run of every worker
  if (r.program !== undefined) return { ...common, config: r.config, program: r.program, classifierDir };
  return { ...common, config: r.config, classifierDir };
}

async function jobStates(queue: Queue<RunJobData>, ids: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const states = await Promise.all(chunk.map((id) => queue.getJobState(id)));
    chunk.forEach((id, j) => out.set(id, states[j] === undefined || states[j] === 'unknown' ? 'missing' : states[j]));
  }
  return out;
}
