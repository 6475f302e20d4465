import type { Logger } from '@ablate/log';
import { parseRunJobData, runFailedEvent, SpecError, type RunEventWriter, type RunJobData } from '@ablate/queue';
import { isInside, realish } from '@ablate/config';
import { DelayedError, UnrecoverableError, type Job, type Processor } from 'bullmq';
import path from 'node:path';
import { fork, type ChildProcess } from 'node:child_process';
import type { FromChild, ToChild } from './child-protocol';

export interface RunResult {
  status: 'succeeded' | 'diverged' | 'cancelled';
  step: number;
  message: string;
  resumedFrom: number | null;
  elapsedMs: number;
}

export interface RunProcessorDeps {
  /** The compiled run-child.js. */
  childScript: string;
  /** The compiled program-child.js, for jobs of a sweep's own program (default: beside childScript). */
  programScript?: string;
  events: RunEventWriter;
  log: Logger;
  workerId: string;
  host: string;
  backend?: string;
  /** One slot per GPU: each child gets CUDA_VISIBLE_DEVICES and ABLATE_GPU set to its slot before tfjs loads. */
  gpus?: string[];
  /** This worker's ARTIFACT_DIR: a job may write only inside it (default: `artifacts` in the working directory). */
  artifactRoot?: string;
}

export interface RunProcessor {
  processor: Processor<RunJobData, RunResult>;
  /** Asks every running child to checkpoint and stop (SIGTERM on the worker). */
  interruptAll(): void;
  /**
   * This worker lost the lock of these jobs (BullMQ's lockRenewalFailed): another worker may already run them, so their
   * children are killed at once, before they write another checkpoint. The job resumes wherever it is picked up.
   */
  abandon(jobIds: readonly string[]): void;
  readonly active: number;
}

/**
 * One job = one run, trained in a child process. Bad payloads fail once (UnrecoverableError, never retried); an
 * interrupted run is put back on the queue (moveToDelayed + DelayedError: no attempt is used) to resume elsewhere
 * from its checkpoint; a crashed child is an ordinary failure that BullMQ retries with backoff.
 */
export function createRunProcessor(deps: RunProcessorDeps): RunProcessor {
  const children = new Set<ChildProcess>();
  const byJob = new Map<string, ChildProcess>();
  const abandoned = new Set<ChildProcess>();
  let stopping = false;
  const freeGpus = deps.gpus ? [...deps.gpus] : null;
  // A job writes checkpoints and images only inside this worker's artifact folder (no `..` or symlink way out).
  const artifactRoot = realish(path.resolve(deps.artifactRoot ?? 'artifacts'));

  /** Records the run failed (the recorder sets its status) before the job's error goes to BullMQ. */
  const recordFailed = async (runId: string, error: string): Promise<void> => {
    deps.events.emit(runFailedEvent(runId, error));
    await deps.events.flush();
  };

  /** The error of an attempt that failed but may go better elsewhere; on the last attempt the run is recorded failed. */
  const retryableFailure = async (runId: string | undefined, message: string, attempt: number, maxAttempts: number): Promise<Error> => {
    if (runId !== undefined && attempt >= maxAttempts) await recordFailed(runId, `${message} (attempt ${attempt} of ${maxAttempts})`);
    return new Error(message);
  };

  /** The job's payload; else throws: a retry when this worker is older than the scheduler, a failure without retries otherwise. */
  const parseJob = async (job: Job<RunJobData, RunResult>, attempt: number, maxAttempts: number): Promise<RunJobData> => {
    try {
      return parseRunJobData(job.data, `job ${job.id ?? '?'}`);
    } catch (err: unknown) {
      if (!(err instanceof SpecError)) throw err;
      const runId = typeof (job.data as { runId?: unknown }).runId === 'string' ? (job.data as { runId: string }).runId : undefined;
      // A forbidden key (`__proto__`, `constructor`, `prototype`) is never version skew: parseRunJobData reports those
      // alone, without the code below, so such a payload fails once as invalid.
      if (err.issues.length > 0 && err.issues.every((i) => i.code === 'unknown_key')) {
        // Only keys this worker does not know: it is older than the scheduler that wrote the job. Running the config
        // without them would train something else than the run id names, so refuse, but let an up-to-date worker
        // take the job (a retry, not a failure of the run), and say what to do.
        const keys = err.issues.map((i) => i.field).join(', ');
        const message = `job ${job.id ?? '?'}: this worker does not know the config key(s) ${keys}; it is older than the scheduler that submitted the run. Update it (git pull && pnpm build) and restart it.`;
        deps.log.error({ jobId: job.id, keys }, message);
        throw await retryableFailure(runId, message, attempt, maxAttempts);
      }
      deps.log.error({ jobId: job.id, err: { message: err.message } }, 'bad job payload: failing without retries');
      if (runId) await recordFailed(runId, err.message);
      throw new UnrecoverableError(err.message);
    }
  };

  /** Forks the run's child process (run-child, or program-child for a sweep's own program), relays its progress, waits for it. */
  const runInChild = async (
    job: Job<RunJobData, RunResult>,
    data: RunJobData,
    attempt: number,
    log: Logger,
    token: string | undefined,
  ): Promise<{ outcome: FromChild | null; code: number | null; signal: NodeJS.Signals | null; abandoned: boolean }> => {
    const gpu = freeGpus ? freeGpus.shift() : undefined;
    // CUDA_VISIBLE_DEVICES binds tfjs-node-gpu; ABLATE_GPU binds the webgpu backend (Dawn ignores CUDA's variable).
    const env: NodeJS.ProcessEnv = { ...process.env, ...(gpu === undefined ? {} : { CUDA_VISIBLE_DEVICES: gpu, ABLATE_GPU: gpu }) };
    const script = data.program === undefined ? deps.childScript : (deps.programScript ?? path.join(path.dirname(deps.childScript), 'program-child.js'));
    const child = fork(script, [], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.add(child);
    byJob.set(job.id ?? data.runId, child);
    let outcome: FromChild | null = null;
    let lastProgress = 0;
    let lastPhase: string | undefined;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    child.on('message', (m: FromChild) => {
      if (m.type === 'progress') {
        // At most one update a second, but a change of phase (eval, checkpoint…) at once: the bar says why it waits.
        if (Date.now() - lastProgress > 1000 || m.progress.phase !== lastPhase) {
          lastProgress = Date.now();
          lastPhase = m.progress.phase;
          void job.updateProgress({ ...m.progress, workerId: deps.workerId, host: deps.host }).catch(() => undefined);
        }
      } else outcome = m;
    });
    const start: ToChild = {
      type: 'start',
      job: data,
      jobId: job.id ?? data.runId,
      attempt,
      workerId: deps.workerId,
      host: deps.host,
      ...(deps.backend ? { backend: deps.backend } : {}),
      ...(token === undefined ? {} : { lockToken: token }),
    };
    child.send(start);
    if (stopping) child.send({ type: 'interrupt' } satisfies ToChild); // fetched while the worker was shutting down
    log.info({ childPid: child.pid, gpu, program: data.program?.argv }, 'training process started');
    const { code, signal } = await exited;
    children.delete(child);
    byJob.delete(job.id ?? data.runId);
    if (gpu !== undefined) freeGpus?.push(gpu);
    return { outcome, code, signal, abandoned: abandoned.delete(child) };
  };

  const processor: Processor<RunJobData, RunResult> = async (job: Job<RunJobData, RunResult>, token?: string) => {
    const attempt = job.attemptsMade + 1;
    const maxAttempts = job.opts.attempts ?? 1;
    const data = await parseJob(job, attempt, maxAttempts);
    const log = deps.log.child({ runId: data.runId, jobId: job.id, attempt });
    for (const [field, dir] of [
      ['artifactDir', data.artifactDir],
      ['classifierDir', data.classifierDir],
    ] as const) {
      if (dir !== undefined && !isInside(realish(path.resolve(dir)), artifactRoot)) {
        const message = `job ${job.id ?? data.runId} ${field}: expected a folder inside this worker's ARTIFACT_DIR (${artifactRoot}), got "${dir}". Set ARTIFACT_DIR on this worker to the shared artifact folder the scheduler uses.`;
        log.error({ [field]: dir, artifactRoot }, message);
        throw await retryableFailure(data.runId, message, attempt, maxAttempts); // a worker with the shared folder may take it
      }
    }
    const { outcome: result, code, signal, abandoned: lost } = await runInChild(job, data, attempt, log, token);
    if (lost) {
      // Not ours any more: report nothing (the job's new owner does), just leave.
      throw new Error(`lost the job lock; stopped this worker's copy of the run (${signal ?? code})`);
    }
    if (result?.type === 'result') {
      if (result.status === 'interrupted') {
        log.info({ step: result.step }, 'run interrupted: released to resume elsewhere from its checkpoint');
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      return { status: result.status, step: result.step, message: result.message, resumedFrom: result.resumedFrom, elapsedMs: result.elapsedMs };
    }
    if (result?.type === 'error' && result.lostLock === true) {
      // Found out by the child (its resume point write was refused): not ours any more, the new owner reports.
      log.error(result.message);
      throw new Error(result.message);
    }
    if (result?.type === 'error' && !result.retry) {
      await recordFailed(data.runId, result.message);
      throw new UnrecoverableError(result.message);
    }
    const message = result?.type === 'error' ? result.message : `training process exited with ${signal ? `signal ${signal}` : `code ${code}`} before finishing`;
    log.warn({ code, signal }, message);
    throw await retryableFailure(data.runId, message, attempt, maxAttempts);
  };

  return {
    processor,
    interruptAll() {
      stopping = true;
      for (const c of children) if (c.connected) c.send({ type: 'interrupt' } satisfies ToChild);
    },
    abandon(jobIds) {
      for (const id of jobIds) {
        const child = byJob.get(id);
        if (child === undefined || child.exitCode !== null || child.signalCode !== null) continue;
        abandoned.add(child);
        deps.log.error({ jobId: id, childPid: child.pid }, 'lost the job lock: another worker may be running this run; killing our copy');
        child.kill('SIGKILL');
      }
    },
    get active() {
      return children.size;
    },
  };
}
