/**
 * Overhead of training one run through the queue vs `pnpm train`, same config, same machine, alternating a/b:
 *   (a) `node apps/worker/dist/train-main.js --config run.yaml --out <tmp> --backend wasm`: wall time to exit.
 *   (b) `node apps/scheduler/dist/sweep-main.js one-run.yaml --workers 1 --backend wasm` with a temp SWEEP_DB,
 *       ARTIFACT_DIR and QUEUE_PREFIX: wall time until the runs row reads `succeeded` (polled from SQLite, read-only),
 *       and separately until the command exits (its teardown: stop workers, stop the recorder, up to a 1 s poll).
 * Also the trainer's own clock: result.json elapsedMs (a) vs runs.elapsed_ms (b). Both commands log JSON to files
 * here, and their timestamps split the wall time into phases (process start, backend init, pickup, ...).
 */
import { parseRunConfig } from '@ablate/config';
import { getRun, openStore, type Store } from '@ablate/store';
import { canonicalJson, loadSweepFile } from '@ablate/sweep';
import type { Redis } from 'ioredis';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deletePrefixKeys, sleep } from './bench-stats';

export const TRAIN_MAIN = path.resolve(__dirname, '..', '..', '..', 'worker', 'dist', 'train-main.js');
export const SWEEP_MAIN = path.join(__dirname, '..', 'sweep-main.js');

export interface OverheadConfig {
  steps: number;
  batchSize: number;
  evalExamples: number;
  backend: string;
}

/** The run both sides train: tiny preset, no periodic eval, no sample images, one checkpoint at the end. */
export function overheadRunYaml(c: OverheadConfig): string {
  return [
    'seed: 0',
    'model:',
    '  preset: tiny',
    'prior:',
    '  mu_init: randn',
    '  mu_std: 1.0',
    'data:',
    '  source: mnist-embedded',
    'train:',
    `  steps: ${c.steps}`,
    `  batch_size: ${c.batchSize}`,
    '  lr: 3.0e-3',
    `  warmup_steps: ${Math.min(50, Math.floor(c.steps / 4))}`,
    '  metrics_every_steps: 10',
    'eval:',
    '  every_steps: 0',
    `  examples: ${c.evalExamples}`,
    '  samples_per_class: 0',
    'checkpoint:',
    '  every_steps: 0',
    '  keep: 1',
    '',
  ].join('\n');
}

/** Phases from the commands' JSON logs, in ms from the spawn. */
export type Timeline = Record<string, number>;

export interface DirectSample {
  wallMs: number;
  /** 1-minute load average when the sample ended (other work on the machine shows up here). */
  loadAvg1: number;
  trainerElapsedMs: number;
  timeline: Timeline;
}

export interface QueuedSample {
  /** Spawn → runs row reads succeeded. */
  wallMs: number;
  /** Spawn → the command exited. */
  exitMs: number;
  loadAvg1: number;
  trainerElapsedMs: number;
  timeline: Timeline;
}

interface LogLine {
  time?: number;
  msg?: string;
  backend?: string;
  status?: string;
}

function readLogLines(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as LogLine];
      } catch {
        return [];
      }
    });
}

/** ms from `t0` (epoch ms) to the first line matching `pred`, or NaN. */
function firstAt(lines: LogLine[], t0: number, pred: (l: LogLine) => boolean): number {
  const hit = lines.find((l) => typeof l.time === 'number' && pred(l));
  return hit?.time === undefined ? NaN : hit.time - t0;
}

function spawnLogged(args: string[], env: NodeJS.ProcessEnv, logFile: string): { exited: Promise<number | null>; kill: () => void } {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', fd, fd] });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  void exited.finally(() => closeSync(fd)).catch(() => undefined);
  return { exited, kill: () => child.kill('SIGTERM') };
}

export async function runDirect(opts: { dir: string; runYaml: string; backend: string; timeoutMs: number }): Promise<DirectSample> {
  mkdirSync(opts.dir, { recursive: true });
  const cfgFile = path.join(opts.dir, 'run.yaml');
  writeFileSync(cfgFile, `name: bench-overhead\n${opts.runYaml}`);
  const out = path.join(opts.dir, 'out');
  const logFile = path.join(opts.dir, 'train.log');
  const env = { ...process.env, LOG_FORMAT: 'json' };
  const t0 = Date.now();
  const p0 = performance.now();
  const child = spawnLogged([TRAIN_MAIN, '--config', cfgFile, '--out', out, '--backend', opts.backend], env, logFile);
  const timer = setTimeout(child.kill, opts.timeoutMs);
  const code = await child.exited;
  const wallMs = performance.now() - p0;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`train-main exited with ${code}; log: ${logFile}`);
  const result = JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8')) as { status: string; elapsedMs: number };
  if (result.status !== 'succeeded') throw new Error(`direct run ended ${result.status}; log: ${logFile}`);
  const lines = readLogLines(logFile);
  return {
    wallMs,
    loadAvg1: os.loadavg()[0] ?? NaN,
    trainerElapsedMs: result.elapsedMs,
    timeline: {
      backendReady: firstAt(lines, t0, (l) => typeof l.backend === 'string'),
      trainFinished: firstAt(lines, t0, (l) => l.status === 'succeeded'),
      exited: wallMs,
    },
  };
}

/** Opens the database read-only once the command has created and migrated it; null until then. */
function tryOpenReadonly(file: string): Store | null {
  if (!existsSync(file)) return null;
  try {
    return openStore(file, { readonly: true });
  } catch {
    return null;
  }
}

export async function runQueued(opts: {
  dir: string;
  runYaml: string;
  backend: string;
  redis: Redis;
  timeoutMs: number;
  pollMs: number;
}): Promise<QueuedSample> {
  mkdirSync(opts.dir, { recursive: true });
  const sweepFile = path.join(opts.dir, 'bench-overhead.yaml');
  const indented = opts.runYaml
    .split('\n')
    .map((l) => (l === '' ? l : `  ${l}`))
    .join('\n');
  writeFileSync(sweepFile, `name: bench-overhead\nbase:\n  name: bench-overhead\n${indented}`);
  const { runs } = loadSweepFile(sweepFile);
  const run = runs[0];
  if (runs.length !== 1 || run === undefined) throw new Error(`expected a one-run sweep, got ${runs.length} runs`);
  const direct = parseRunConfig(`name: bench-overhead\n${opts.runYaml}`, 'run.yaml', []);
  if (canonicalJson(direct) !== canonicalJson(run.config)) throw new Error('the sweep run and the direct run resolve to different configs');

  const dbPath = path.join(opts.dir, 'ablate.db');
  const prefix = `bench-${randomUUID()}`;
  const logFile = path.join(opts.dir, 'sweep.log');
  const env = { ...process.env, LOG_FORMAT: 'json', SWEEP_DB: dbPath, ARTIFACT_DIR: path.join(opts.dir, 'artifacts'), QUEUE_PREFIX: prefix };
  let store: Store | null = null;
  try {
    const t0 = Date.now();
    const p0 = performance.now();
    const child = spawnLogged([SWEEP_MAIN, sweepFile, '--workers', '1', '--backend', opts.backend], env, logFile);
    let exitCode: number | null | undefined;
    let exitMs = NaN;
    void child.exited.then((c) => {
      exitCode = c;
      exitMs = performance.now() - p0;
    });
    let wallMs = NaN;
    let elapsedMs = NaN;
    while (performance.now() - p0 < opts.timeoutMs) {
      store ??= tryOpenReadonly(dbPath);
      const row = store ? getRun(store, run.runId) : undefined;
      if (row && row.status !== 'queued' && row.status !== 'running') {
        wallMs = performance.now() - p0;
        if (row.status !== 'succeeded') throw new Error(`queued run ended ${row.status}: ${row.error ?? ''}; log: ${logFile}`);
        elapsedMs = row.elapsedMs ?? NaN;
        break;
      }
      if (exitCode !== undefined) throw new Error(`sweep-main exited with ${exitCode} before the run finished; log: ${logFile}`);
      await sleep(opts.pollMs);
    }
    if (Number.isNaN(wallMs)) {
      child.kill();
      throw new Error(`the queued run did not finish in ${opts.timeoutMs} ms; log: ${logFile}`);
    }
    const code = await child.exited;
    if (code !== 0) throw new Error(`sweep-main exited with ${code}; log: ${logFile}`);
    const sweepLines = readLogLines(logFile);
    const workerLines = readLogLines(path.join(opts.dir, 'logs', 'bench-overhead-worker-0.log'));
    return {
      wallMs,
      exitMs,
      loadAvg1: os.loadavg()[0] ?? NaN,
      trainerElapsedMs: elapsedMs,
      timeline: {
        submitted: firstAt(sweepLines, t0, (l) => l.msg?.startsWith('sweep bench-overhead:') === true),
        workersSpawned: firstAt(sweepLines, t0, (l) => l.msg?.includes('started 1 local worker') === true),
        workerReady: firstAt(workerLines, t0, (l) => l.msg === 'worker ready'),
        childForked: firstAt(workerLines, t0, (l) => l.msg === 'training process started'),
        runStarted: firstAt(workerLines, t0, (l) => l.msg === 'run started'),
        trainFinished: firstAt(workerLines, t0, (l) => l.status === 'succeeded'),
        recorded: wallMs,
        exited: exitMs,
      },
    };
  } finally {
    store?.close();
    await deletePrefixKeys(opts.redis, prefix);
  }
}
