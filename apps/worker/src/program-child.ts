/**
 * One run of a sweep's own training program (`program:` in the sweep file), in a process of its own forked by the
 * worker per job, like run-child.ts for the built-in trainer and with the same IPC messages, so the worker's retry,
 * release and lock handling are the same for both. This process:
 *
 * 1. writes the run's config to `<run dir>/ablate-config.json` and finds where to resume: the newest checkpoint the
 *    program reported (the resume point in Redis), which must still have the sha256 it had (else ResumeError: the
 *    attempt fails rather than restart from step 0 or resume from a file that changed);
 * 2. reports run-started (resumeFrom = that checkpoint's step: the recorder drops what a dead attempt wrote after it),
 *    and the log file as artifact kind `log`;
 * 3. starts the program in its own process group with ABLATE_RUN_ID, ABLATE_CONFIG, ABLATE_RUN_DIR,
 *    ABLATE_RESUME (when resuming) and ABLATE_EVENTS_FD=3; stdout and stderr are appended to `<run dir>/program.log`;
 * 4. turns each JSON line on fd 3 into the stream events the built-in trainer sends (metrics, checkpoint, artifact),
 *    in order; before a checkpoint is reported every earlier event is on the stream, then the resume point is moved;
 *    a `samples` event (generated digits) is labelled by the two digit judges, as the built-in trainer's samples are,
 *    and becomes the same class-consistency metrics and confusion counts;
 * 5. on cancel (the sweep's or run's cancel key) or a release (the worker stops), sends SIGTERM and after the grace
 *    period SIGKILL to the program's group; on exit 0 the run succeeded, on any other exit the attempt failed.
 *
 * The rules for bad programs (README, "Your own training program"): a malformed line is skipped with a warning naming its
 * line number, up to PROGRAM_MAX_BAD_LINES (default 10); one more fails the run without retries. A path outside the run
 * folder fails the run at once, without retries. No event line for PROGRAM_SILENCE_MS (default 30 min) fails the attempt.
 */
import { selectBackend } from '@ablate/backend';
import { AblateError, errorMessage, isRetryable } from '@ablate/cli';
import { ConfigError, isInside, realish } from '@ablate/config';
import { createLogger } from '@ablate/log';
import { flushDurably } from './flush-durably';
import { cancelKeys, createEventWriter, queueEnv, redisOptionsFromUrl, type ProgramRunJobData } from '@ablate/queue';
import type { GeneratedSamples, StopRequest } from '@ablate/train';
import { Redis } from 'ioredis';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { isToChild, type FromChild, type ToChild } from './child-protocol';
import { confusionEvents, createDigitJudge, judgementLog, judgementMetrics } from './consistency';
import { parseProgramEvent, ProgramEventError, type ProgramEvent } from './program-events';
import { findExecutable, fingerprint, tailLines } from './program-files';
import { assertOwnsJobBeforeStart, clearResumePoint, jobLockOf, LostLockError, ownsJob, readResumePoint, ResumeError, writeResumePoint } from './resume-point';

const send = (m: FromChild) => process.send?.(m);
const SETPRIV = '/usr/bin/setpriv';

/** The attempt failed for the reason in the message; `retryable: false` when no attempt can go better (a bad program). */
export class ProgramRunError extends AblateError {
  override name = 'ProgramRunError';
  constructor(
    message: string,
    override readonly retryable = true,
  ) {
    super(message);
  }
}

const DIGIT_CLASSES = 10;

/** A `samples` event's file: float32 little-endian (N, H, W, C), class-major with N / 10 samples per class. */
export function readSamples(e: Extract<ProgramEvent, { type: 'samples' }>, line: number): GeneratedSamples {
  const [n, height, width, channels] = e.shape;
  if (n % DIGIT_CLASSES !== 0)
    throw new ProgramEventError(line, `shape: expected N to be a multiple of ${DIGIT_CLASSES} (class-major, N / ${DIGIT_CLASSES} per class), got ${n}`);
  if (!existsSync(e.path)) throw new ProgramEventError(line, `samples: ${e.path} does not exist`);
  const bytes = n * height * width * channels * 4;
  const size = statSync(e.path).size;
  if (size !== bytes) throw new ProgramEventError(line, `samples: ${e.path} holds ${size} bytes; shape [${e.shape.join(', ')}] of float32 needs ${bytes}`);
  const buf = readFileSync(e.path);
  const images = new Float32Array(n * height * width * channels);
  for (let i = 0; i < images.length; i++) images[i] = buf.readFloatLE(i * 4);
  const perClass = n / DIGIT_CLASSES;
  const classes = new Int32Array(n);
  for (let i = 0; i < n; i++) classes[i] = Math.floor(i / perClass);
  return { step: e.step, kind: e.kind, temperature: e.temperature, images, classes, height, width, channels };
}

/** The knobs of the runner, from the worker's environment. */
export interface ProgramLimits {
  graceMs: number;
  silenceMs: number;
  maxBadLines: number;
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError([{ file: name, line: 1, col: 1, field: name, message: `expected an integer ≥ 0, got "${raw}"` }]);
  return n;
}

export function programLimits(env: NodeJS.ProcessEnv = process.env): ProgramLimits {
  return {
    graceMs: positiveInt(env, 'PROGRAM_GRACE_MS', 30_000),
    silenceMs: positiveInt(env, 'PROGRAM_SILENCE_MS', 30 * 60_000),
    maxBadLines: positiveInt(env, 'PROGRAM_MAX_BAD_LINES', 10),
  };
}

/** Why the program was stopped by us, if it was. */
type StopCause = { kind: 'cancel' } | { kind: 'interrupt' } | { kind: 'fatal'; message: string; retry: boolean } | { kind: 'lost'; message: string };

async function runProgram(start: Extract<ToChild, { type: 'start' }>, job: ProgramRunJobData, stop: { request: StopRequest }): Promise<void> {
  const env = queueEnv();
  const limits = programLimits();
  const log = createLogger({ name: 'worker' }).child({ runId: job.runId, jobId: start.jobId, attempt: start.attempt, child: process.pid });
  const redis = new Redis(redisOptionsFromUrl(env.redisUrl));
  const lock = jobLockOf(env.prefix, start.jobId, start.lockToken);
  const events = createEventWriter(redis, env.prefix, { onError: (err) => log.warn({ err }, 'event flush failed; will retry') });
  const durably = (ms: number) => flushDurably(events, log, ms);
  const runDir = path.resolve(job.artifactDir);
  const logFile = path.join(runDir, 'program.log');
  const note = (line: string) => appendFileSync(logFile, `[ablate ${new Date().toISOString()}] ${line}\n`);
  const t0 = Date.now();
  let program: ChildProcess | null = null;
  let cause: StopCause | null = null;
  let killTimer: NodeJS.Timeout | null = null;
  /** SIGTERM to the program's group, SIGKILL after the grace period (at once with `now`). */
  const terminate = (next: StopCause, now = false) => {
    if (cause === null) cause = next;
    const p = program;
    if (p === null || p.pid === undefined || p.exitCode !== null || p.signalCode !== null) return;
    const group = -p.pid;
    const kill = (sig: NodeJS.Signals) => {
      try {
        process.kill(group, sig);
      } catch {
        // already gone
      }
    };
    if (now) return kill('SIGKILL');
    kill('SIGTERM');
    killTimer ??= setTimeout(() => {
      log.warn({ graceMs: limits.graceMs }, 'program did not exit within the grace period: SIGKILL');
      note(`did not exit within ${limits.graceMs} ms of SIGTERM: killed`);
      kill('SIGKILL');
    }, limits.graceMs);
  };
  process.on('disconnect', () => {
    // The worker died (kill -9): leave nothing running; the job's lock expires and another worker resumes the run.
    terminate({ kind: 'interrupt' }, true);
    process.exit(1);
  });

  const poll = setInterval(() => {
    if (stop.request === 'interrupt') terminate({ kind: 'interrupt' });
    redis.exists(...cancelKeys(env.prefix, { sweepId: job.sweepId, runId: job.runId })).then(
      (n) => {
        if (n > 0 && cause === null) {
          log.info('cancel requested');
          note('cancel requested: SIGTERM');
          terminate({ kind: 'cancel' });
        }
      },
      (err: unknown) => log.warn({ err }, 'cancel check failed'),
    );
  }, 1000);

  try {
    mkdirSync(runDir, { recursive: true });
    const configFile = path.join(runDir, 'ablate-config.json');
    writeFileSync(configFile, `${JSON.stringify(job.config, null, 2)}\n`);
    // 1. Where to resume: the newest checkpoint the program reported, unchanged since.
    const point = await readResumePoint(redis, env.prefix, job.runId);
    if (point !== null) {
      let problem: string | null = null;
      if (!existsSync(point.uri)) problem = 'it is not there';
      else if (fingerprint(point.uri).sha256 !== point.sha256)
        problem = 'it changed after it was reported (write each checkpoint to a new path, e.g. checkpoint_path(step) of the client)';
      if (problem !== null) {
        throw new ResumeError(
          `cannot resume from the checkpoint the program reported at step ${point.step} (${point.uri}, written on ${point.host}): ${problem}. Is ARTIFACT_DIR the same shared folder on this machine? Refusing to restart from step 0.`,
        );
      }
    }
    const resumeFrom = point?.step ?? null;
    // Checkpoints reported with "keep": deleted oldest first, and only once a newer resume point is in Redis (the one the
    // run resumes from is never deleted: a worker cut off from Redis deletes nothing).
    // Paths from Redis are deleted later: only checkpoints strictly inside this run's folder qualify.
    const deletable = (p: string): boolean => {
      const abs = path.resolve(p);
      return abs !== runDir && isInside(realish(abs), realish(runDir));
    };
    let reported: string[] = (point === null ? [] : (point.kept ?? [point.uri])).filter(deletable);
    let lastStep = resumeFrom ?? 0;
    let lastCheckpoint = resumeFrom;
    let totalSteps = 0;
    let lastLoss = NaN;
    let lastImagesPerSec = NaN;
    await assertOwnsJobBeforeStart(redis, lock, job.runId);
    events.emit({
      kind: 'run-started',
      runId: job.runId,
      attempt: start.attempt,
      host: start.host,
      workerId: start.workerId,
      backend: 'program',
      device: path.basename(job.program.argv[0] ?? '?'),
      resumeFrom,
      at: Date.now(),
    });
    events.emit({ kind: 'artifact', runId: job.runId, step: 0, artifact: 'log', uri: logFile });
    await durably(60_000);
    note(
      `attempt ${start.attempt} on ${start.host}: ${job.program.argv.join(' ')} (in ${job.program.cwd})${point === null ? '' : `, resuming from step ${point.step}: ${point.uri}`}`,
    );

    // 3. Start it.
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      ABLATE_RUN_ID: job.runId,
      ABLATE_CONFIG: configFile,
      ABLATE_RUN_DIR: runDir,
      ABLATE_EVENTS_FD: '3',
      PYTHONUNBUFFERED: process.env.PYTHONUNBUFFERED ?? '1',
    };
    if (point === null) delete childEnv.ABLATE_RESUME;
    else childEnv.ABLATE_RESUME = point.uri;
    const [exe = '', ...args] = job.program.argv;
    if (!existsSync(job.program.cwd)) throw new ProgramRunError(`cannot start the program: its folder ${job.program.cwd} does not exist on ${start.host}`);
    const found = findExecutable(exe, job.program.cwd, childEnv.PATH ?? '');
    if ('problem' in found)
      throw new ProgramRunError(`cannot start the program ${JSON.stringify(job.program.argv.join(' '))} on ${start.host}: ${found.problem}`);
    // Its own process group (signals reach its children too), and, where util-linux's setpriv is there, SIGKILL when
    // this process dies, even by kill -9: no program outlives the runner that reports for it.
    const logFd = openSync(logFile, 'a');
    const [cmd, ...cmdArgs] = existsSync(SETPRIV) ? [SETPRIV, '--pdeathsig', 'KILL', '--', found.path, ...args] : [found.path, ...args];
    const p = spawn(cmd ?? found.path, cmdArgs, { cwd: job.program.cwd, env: childEnv, stdio: ['ignore', logFd, logFd, 'pipe'], detached: true });
    program = p;
    closeSync(logFd);
    const spawned = new Promise<Error | null>((resolve) => {
      p.once('spawn', () => resolve(null));
      p.once('error', (err) => resolve(err));
    });
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      p.once('close', (code, signal) => resolve({ code, signal })),
    );
    const startError = await spawned;
    if (startError !== null) {
      throw new ProgramRunError(`cannot start the program ${JSON.stringify(job.program.argv.join(' '))} on ${start.host}: ${startError.message}`);
    }
    log.info({ programPid: p.pid, argv: job.program.argv, resumeFrom }, 'program started');
    if (stop.request === 'interrupt') terminate({ kind: 'interrupt' });

    // 4. Its events, one line at a time and in order.
    let silence: NodeJS.Timeout | null = null;
    const armSilence = () => {
      if (limits.silenceMs === 0) return;
      if (silence !== null) clearTimeout(silence);
      silence = setTimeout(() => {
        const message = `the program reported nothing on fd 3 for ${Math.round(limits.silenceMs / 1000)} s (PROGRAM_SILENCE_MS); stopped it`;
        log.warn(message);
        note(message);
        terminate({ kind: 'fatal', message, retry: true });
      }, limits.silenceMs);
    };
    armSilence();
    let badLines = 0;
    let lineNo = 0;
    let judge: ReturnType<typeof createDigitJudge> | null = null;
    let lastProgress = 0;
    const apply = async (e: ProgramEvent): Promise<void> => {
      if (e.totalSteps !== undefined) totalSteps = e.totalSteps;
      lastStep = Math.max(lastStep, e.step);
      if (e.type === 'metrics') {
        events.emit({ kind: 'metrics', runId: job.runId, rows: e.metrics.map((m) => ({ step: e.step, name: m.name, value: m.value })) });
        lastLoss = e.metrics.find((m) => m.name === 'loss')?.value ?? lastLoss;
        lastImagesPerSec = e.metrics.find((m) => m.name === 'images_per_sec')?.value ?? lastImagesPerSec; // when the program reports it
      } else if (e.type === 'mu-norms') {
        events.emit({ kind: 'mu-norms', runId: job.runId, step: e.step, norms: e.norms });
      } else if (e.type === 'samples') {
        const samples = readSamples(e, lineNo);
        if (silence !== null) clearTimeout(silence); // the judges' first use trains them (minutes): not the program's silence
        if (judge === null) {
          const backend = await selectBackend(start.backend === undefined ? {} : { requested: start.backend }); // tfjs, for the judges
          log.info({ backend: backend.name, device: backend.device }, 'judging samples');
        }
        judge ??= createDigitJudge(job.classifierDir ?? path.resolve(runDir, '..', '..', 'classifiers'), log, (holder) =>
          log.info({ holder }, 'waiting for the digit judges'),
        );
        const j = await judge(samples);
        armSilence();
        events.emit({ kind: 'metrics', runId: job.runId, rows: judgementMetrics(j) });
        for (const c of confusionEvents(job.runId, j)) events.emit(c);
        log.info(judgementLog(j), 'class-consistency');
      } else if (e.type === 'artifact') {
        if (!existsSync(e.path)) throw new ProgramEventError(lineNo, `path: ${e.path} does not exist`);
        events.emit({ kind: 'artifact', runId: job.runId, step: e.step, artifact: e.kind, uri: e.path });
      } else {
        if (!existsSync(e.path)) throw new ProgramEventError(lineNo, `checkpoint: ${e.path} does not exist (report a checkpoint after writing it)`);
        const { bytes, sha256 } = fingerprint(e.path);
        await durably(10 * 60_000); // the steps before a resume point reach the stream before it does
        events.emit({ kind: 'checkpoint', runId: job.runId, step: e.step, uri: e.path, bytes, sha256 });
        await durably(10 * 60_000);
        const kept = e.keep === undefined ? [e.path] : [...reported.filter((p) => p !== e.path), e.path];
        const dropped = e.keep === undefined ? [] : kept.splice(0, Math.max(0, kept.length - e.keep));
        if (!(await writeResumePoint(redis, env.prefix, job.runId, { step: e.step, uri: e.path, sha256, host: start.host, at: Date.now(), kept }, lock))) {
          const message = `lost the job lock (another worker has taken run ${job.runId} over while this one was cut off): stopped this copy of the program at step ${e.step}`;
          log.error(message);
          note(message);
          terminate({ kind: 'lost', message }, true);
          return;
        }
        lastCheckpoint = e.step;
        reported = kept;
        for (const old of dropped) {
          // never the run folder, nothing outside it, nothing that holds a checkpoint still kept
          if (!deletable(old) || kept.some((k) => isInside(path.resolve(k), path.resolve(old)))) continue;
          try {
            rmSync(old, { recursive: true, force: true });
          } catch (err: unknown) {
            log.warn({ err, path: old }, 'could not delete an old checkpoint; left in place');
          }
        }
        log.info({ step: e.step, bytes }, 'checkpoint');
      }
      if (Date.now() - lastProgress >= 500) {
        lastProgress = Date.now();
        const elapsedSec = (Date.now() - t0) / 1000;
        const etaSec = totalSteps > lastStep && lastStep > (resumeFrom ?? 0) ? ((totalSteps - lastStep) * elapsedSec) / (lastStep - (resumeFrom ?? 0)) : NaN;
        send({
          type: 'progress',
          progress: {
            step: lastStep,
            totalSteps: Math.max(totalSteps, lastStep),
            loss: lastLoss,
            imagesPerSec: lastImagesPerSec,
            etaSec,
            stepsEtaSec: etaSec,
            etaIncludesEvals: true,
            backend: 'program',
            phase: 'training',
            phaseLabel: 'training (program)',
            phaseSince: t0,
            evalsLeft: 0,
            evalSec: null,
          },
        });
      }
    };
    const lines = createInterface({ input: p.stdio[3] as Readable, crlfDelay: Infinity });
    const consumed = (async () => {
      for await (const text of lines) {
        lineNo += 1;
        armSilence();
        const stopping = (cause as StopCause | null)?.kind;
        if (stopping === 'fatal' || stopping === 'lost') continue; // read to the end, act on nothing
        if (text.trim() === '') continue;
        try {
          await apply(parseProgramEvent(text, lineNo, runDir));
        } catch (err: unknown) {
          if (!(err instanceof ProgramEventError)) throw err;
          if (err.outside) {
            log.error({ line: err.line }, err.message);
            note(err.message);
            terminate({ kind: 'fatal', message: err.message, retry: false }, true);
            continue;
          }
          badLines += 1;
          if (badLines > limits.maxBadLines) {
            const message = `${err.message}; more than ${limits.maxBadLines} malformed event lines (PROGRAM_MAX_BAD_LINES): failing the run`;
            log.error({ line: err.line }, message);
            note(message);
            terminate({ kind: 'fatal', message, retry: false }, true);
            continue;
          }
          log.warn({ line: err.line, badLines, maxBadLines: limits.maxBadLines }, `${err.message} (skipped)`);
          note(`${err.message} (skipped, ${badLines} of at most ${limits.maxBadLines})`);
        }
      }
    })();
    consumed.catch(() => undefined); // handled where it is awaited, after the program exits: never an unhandled rejection
    const { code, signal } = await closed;
    await consumed;
    if (silence !== null) clearTimeout(silence);
    if (killTimer !== null) clearTimeout(killTimer);
    note(`exited with ${signal === null ? `code ${code}` : `signal ${signal}`}`);
    log.info({ code, signal, lastStep }, 'program exited');

    // 5. What the exit means.
    const stopped = cause as StopCause | null;
    const elapsedMs = Date.now() - t0;
    if (stopped?.kind === 'lost') {
      send({ type: 'error', message: stopped.message, retry: true, lostLock: true });
      return;
    }
    // Whatever the exit means, a copy whose job was taken over (it was cut off from Redis past its lock) reports none of
    // it: not a release, a cancel, a failure or a success of a run another worker now runs.
    if (!(await ownsJob(redis, lock))) {
      const message = `lost the job lock (another worker has taken run ${job.runId} over): not reporting how this copy ended`;
      note(message);
      send({ type: 'error', message, retry: true, lostLock: true });
      return;
    }
    if (stopped?.kind === 'fatal') throw new ProgramRunError(stopped.message, stopped.retry);
    if (stopped?.kind === 'interrupt') {
      events.emit({ kind: 'run-released', runId: job.runId, step: lastCheckpoint ?? 0, at: Date.now() });
      await durably(10 * 60_000);
      send({
        type: 'result',
        status: 'interrupted',
        step: lastCheckpoint ?? 0,
        message: 'released: resumes from its last checkpoint',
        resumedFrom: resumeFrom,
        elapsedMs,
      });
      return;
    }
    if (stopped?.kind === 'cancel') {
      events.emit({ kind: 'run-finished', runId: job.runId, status: 'cancelled', finalStep: lastStep, elapsedMs, at: Date.now() });
      await durably(10 * 60_000);
      send({ type: 'result', status: 'cancelled', step: lastStep, message: 'cancelled', resumedFrom: resumeFrom, elapsedMs });
      return;
    }
    if (code === 0) {
      events.emit({ kind: 'run-finished', runId: job.runId, status: 'succeeded', finalStep: lastStep, elapsedMs, at: Date.now() });
      await durably(10 * 60_000);
      await clearResumePoint(redis, env.prefix, job.runId);
      send({ type: 'result', status: 'succeeded', step: lastStep, message: 'program exited 0', resumedFrom: resumeFrom, elapsedMs });
      return;
    }
    const tail = tailLines(logFile, 5);
    throw new ProgramRunError(
      `the program exited with ${signal === null ? `code ${code}` : `signal ${signal}`} at step ${lastStep} (log: ${logFile})${tail === '' ? '' : `; its last lines:\n${tail}`}`,
    );
  } catch (err: unknown) {
    terminate({ kind: 'fatal', message: 'runner failed', retry: true }, true);
    if (err instanceof LostLockError) {
      log.error(err.message);
      send({ type: 'error', message: err.message, retry: true, lostLock: true });
      return;
    }
    const retry = isRetryable(err);
    log.error({ err, retry }, 'run failed');
    try {
      note(`failed: ${err instanceof Error ? err.message : String(err)}`);
    } catch {
      // the run folder itself may be what failed
    }
    await durably(60_000).catch(() => undefined);
    send({ type: 'error', message: errorMessage(err), retry });
  } finally {
    clearInterval(poll);
    await events.close().catch(() => undefined);
    redis.disconnect();
  }
}

const stop: { request: StopRequest } = { request: 'continue' };
process.on('SIGTERM', () => void (stop.request = 'interrupt'));
process.on('SIGINT', () => undefined); // Ctrl-C reaches the whole process group: the parent decides
process.on('message', (m: unknown) => {
  if (!isToChild(m)) return;
  if (m.type === 'interrupt') {
    stop.request = 'interrupt';
    return;
  }
  const job = m.job;
  if (job.program === undefined) throw new Error(`program-child: job ${m.jobId} has no program; run-child.js runs those`);
  runProgram(m, job, stop).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
});
