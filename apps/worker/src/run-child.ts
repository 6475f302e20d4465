/**
 * One run, in a process of its own (forked by the worker per job): tfjs steps block the event loop, so training here
 * keeps the worker's BullMQ lock renewals running, and a native crash kills this process, not the worker.
 * Reports everything through the Redis event stream; talks to the parent over IPC only for progress and the result.
 */
import { selectBackend } from '@ablate/backend';
import { errorMessage, isRetryable } from '@ablate/cli';
import { createLogger } from '@ablate/log';
import { cancelKeys, createEventWriter, queueEnv, redisOptionsFromUrl, type RunJobData } from '@ablate/queue';
import { findNewestValidCheckpoint, train, type StopRequest } from '@ablate/train';
import type { TrainProgress } from '@ablate/train';
import { Redis } from 'ioredis';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isToChild, type FromChild, type ToChild } from './child-protocol';
import { confusionEvents, createConsistencyJudge, judgementLog } from './consistency';
import { flushDurably as flushEvents } from './flush-durably';
import { assertOwnsJobBeforeStart, checkResume, clearResumePoint, jobLockOf, LostLockError, ownsJob, readResumePoint, writeResumePoint } from './resume-point';
import { resultHooks } from './result-hooks';
import { PhaseTracker, type RunPhase } from './run-phase';

const send = (m: FromChild) => process.send?.(m);

/** fn, calling `hook` before each call (e.g. to say which phase the run is in). */
function beforeEach<A extends unknown[], R>(fn: (...args: A) => R, hook: () => void): (...args: A) => R {
  return (...args) => {
    hook();
    return fn(...args);
  };
}

async function runJob(start: Extract<ToChild, { type: 'start' }>, stop: { request: StopRequest }): Promise<void> {
  const { job } = start;
  if (job.program !== undefined) throw new Error(`run-child: job ${start.jobId} runs a program; program-child.js runs those`);
  const env = queueEnv();
  const log = createLogger({ name: 'worker' }).child({ runId: job.runId, jobId: start.jobId, attempt: start.attempt, child: process.pid });
  const redis = new Redis(redisOptionsFromUrl(env.redisUrl));
  const lock = jobLockOf(env.prefix, start.jobId, start.lockToken);
  const events = createEventWriter(redis, env.prefix, { onError: (err) => log.warn({ err }, 'event flush failed; will retry') });
  const flushDurably = (withinMs: number): Promise<void> => flushEvents(events, log, withinMs);
  const poll = setInterval(() => {
    redis.exists(...cancelKeys(env.prefix, { sweepId: job.sweepId, runId: job.runId })).then(
      (n) => {
        if (n > 0 && stop.request === 'continue') {
          stop.request = 'cancel';
          log.info('cancel requested');
        }
      },
      (err: unknown) => log.warn({ err }, 'cancel check failed'),
    );
  }, 1000);
  try {
    const backend = await selectBackend(start.backend === undefined ? {} : { requested: start.backend });
    const checkpointDir = path.join(job.artifactDir, 'checkpoints');
    const imageDir = path.join(job.artifactDir, 'images');
    mkdirSync(imageDir, { recursive: true });
    // Only this run's own checkpoint (same run id and config hash in its manifest): another's throws ForeignCheckpointError.
    const resume = findNewestValidCheckpoint(checkpointDir, (err) => log.warn({ err: { message: err.message } }, 'skipping invalid checkpoint'), {
      runId: job.runId,
      config: job.config,
    });
    const resumeFrom = resume?.manifest.step ?? null;
    const fallback = checkResume(await readResumePoint(redis, env.prefix, job.runId), resumeFrom, checkpointDir); // throws rather than restart from 0
    if (fallback !== null) log.warn({ resumeFrom }, fallback);
    if (resume) for (const t of Object.values(resume.tensors)) t.dispose();
    await assertOwnsJobBeforeStart(redis, lock, job.runId);
    events.emit({
      kind: 'run-started',
      runId: job.runId,
      attempt: start.attempt,
      host: start.host,
      workerId: start.workerId,
      backend: backend.name,
      device: backend.device,
      resumeFrom,
      at: Date.now(),
    });
    log.info({ backend: backend.name, device: backend.device, resumeFrom }, 'run started');
    let lastProgress = 0;
    // What the run is doing, sent to the parent (→ job progress → progress bars) on every change and with the steps.
    const phases = new PhaseTracker({
      totalSteps: job.config.train.steps,
      evalEverySteps: job.config.eval.every_steps,
      checkpointEverySteps: job.config.checkpoint.every_steps,
    });
    let last: TrainProgress = { step: resumeFrom ?? 0, totalSteps: job.config.train.steps, loss: NaN, imagesPerSec: 0, etaSec: NaN };
    const sendProgress = () =>
      send({ type: 'progress', progress: { ...last, ...phases.info(), ...phases.etaSec(last.etaSec), stepsEtaSec: last.etaSec, backend: backend.name } });
    const phase = (p: RunPhase, step?: number) => {
      if (phases.enter(p, step)) sendProgress();
    };
    sendProgress();
    const judge = beforeEach(createConsistencyJudge(job.config, job.classifierDir ?? path.resolve(job.artifactDir, '..', '..', 'classifiers'), log), () =>
      phase('eval-classifier'),
    );
    const result = await train(job.config, {
      checkpointDir,
      runId: job.runId,
      log,
      ...resultHooks(
        {
          metrics: (rows) => events.emit({ kind: 'metrics', runId: job.runId, rows }),
          muNorms: (step, norms) => events.emit({ kind: 'mu-norms', runId: job.runId, step, norms }),
          judged: (j) => {
            for (const c of confusionEvents(job.runId, j)) events.emit(c);
            log.info(judgementLog(j), 'class-consistency');
          },
          image: (img) => {
            const uri = path.join(imageDir, `step-${String(img.step).padStart(8, '0')}-${img.kind}.png`);
            writeFileSync(uri, img.png);
            events.emit({ kind: 'artifact', runId: job.runId, step: img.step, artifact: img.kind, uri });
          },
        },
        judge,
      ),
      beforeCheckpoint: () => flushDurably(10 * 60_000),
      onCheckpoint: async (c) => {
        events.emit({ kind: 'checkpoint', runId: job.runId, step: c.step, uri: c.uri, bytes: c.bytes, sha256: c.sha256 });
        await flushDurably(10 * 60_000); // a checkpoint is a resume point: make sure the recorder hears of it
        if (!(await writeResumePoint(redis, env.prefix, job.runId, { step: c.step, uri: c.uri, sha256: c.sha256, host: start.host, at: Date.now() }, lock))) {
          throw new LostLockError(`lost the job lock (another worker has taken run ${job.runId} over): stopped this copy at its checkpoint of step ${c.step}`);
        }
      },
      onProgress: (p) => {
        last = p;
        const changed = phases.enter('training', p.step);
        if (changed || Date.now() - lastProgress >= 500 || p.step === p.totalSteps) {
          lastProgress = Date.now();
          sendProgress();
        }
      },
      onPhase: (p, step) => phase(p === 'eval' ? 'eval-nll' : 'checkpoint', step),
      onEval: () => phase('eval-sampling'), // the NLL pass is done; images and samples come next
      shouldStop: () => stop.request,
    });
    if (!(await ownsJob(redis, lock)))
      throw new LostLockError(`lost the job lock (another worker has taken run ${job.runId} over): not reporting this copy's ${result.status}`);
    if (result.status === 'interrupted') {
      events.emit({ kind: 'run-released', runId: job.runId, step: result.step, at: Date.now() });
    } else {
      events.emit({
        kind: 'run-finished',
        runId: job.runId,
        status: result.status,
        finalStep: result.step,
        elapsedMs: Math.round(result.elapsedMs),
        at: Date.now(),
        ...(result.status === 'diverged' ? { error: result.message } : {}),
      });
    }
    await flushDurably(10 * 60_000);
    if (result.status === 'succeeded') await clearResumePoint(redis, env.prefix, job.runId);
    log.info({ status: result.status, step: result.step, elapsedMs: Math.round(result.elapsedMs) }, result.message);
    send({ type: 'result', status: result.status, step: result.step, message: result.message, resumedFrom: result.resumedFrom, elapsedMs: result.elapsedMs });
  } catch (err: unknown) {
    if (err instanceof LostLockError) {
      log.error(err.message);
      send({ type: 'error', message: err.message, retry: true, lostLock: true });
      return;
    }
    // The config itself is wrong, or the checkpoint folder is another run's: no machine can run it (retryable: false).
    // Anything else (a missing data mount, a backend that does not load here, a disk error, a bug) may go better on
    // another attempt or another worker.
    const retry = isRetryable(err);
    log.error({ err, retry }, 'run failed');
    await flushDurably(60_000).catch(() => undefined);
    send({ type: 'error', message: errorMessage(err), retry });
  } finally {
    clearInterval(poll);
    await events.close().catch(() => undefined);
    redis.disconnect();
  }
}

const stop: { request: StopRequest } = { request: 'continue' };
// The worker died (kill -9): stop at once; the job's lock expires and another worker resumes it from its checkpoint.
process.on('disconnect', () => process.exit(1));
process.on('SIGTERM', () => void (stop.request = 'interrupt'));
process.on('SIGINT', () => undefined); // Ctrl-C reaches the whole process group: the parent decides
process.on('message', (m: unknown) => {
  if (!isToChild(m)) return;
  if (m.type === 'interrupt') {
    stop.request = 'interrupt';
    return;
  }
  runJob(m, stop).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
});
export type { RunJobData };
