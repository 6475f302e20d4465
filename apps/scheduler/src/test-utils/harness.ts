import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const APPS = path.resolve(__dirname, '..', '..', '..');
export const SCRIPTS = {
  sweep: path.join(APPS, 'scheduler', 'dist', 'sweep-main.js'),
  recorder: path.join(APPS, 'scheduler', 'dist', 'recorder-main.js'),
  cancel: path.join(APPS, 'scheduler', 'dist', 'cancel-main.js'),
  status: path.join(APPS, 'scheduler', 'dist', 'status-main.js'),
  query: path.join(APPS, 'scheduler', 'dist', 'query-main.js'),
  worker: path.join(APPS, 'worker', 'dist', 'main.js'),
  report: path.join(APPS, 'report', 'dist', 'report-main.js'),
};

/** One isolated world per test: its own queue prefix, SQLite file and artifact folder. */
export interface World {
  dir: string;
  prefix: string;
  env: NodeJS.ProcessEnv;
  procs: ChildProcess[];
}

export function createWorld(extraEnv: NodeJS.ProcessEnv = {}): World {
  const dir = mkdtempSync(path.join(tmpdir(), 'sweep-e2e-'));
  const prefix = `test-${randomUUID()}`;
  return {
    dir,
    prefix,
    procs: [],
    env: {
      ...process.env,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      SWEEP_DB: path.join(dir, 'ablate.db'),
      ARTIFACT_DIR: path.join(dir, 'artifacts'),
      TFJS_BACKEND: 'wasm',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      WORKER_LOCK_MS: '3000',
      RECORDER_LEASE_MS: '2000', // a killed recorder's lease frees up in 2 s
      CLASSIFIER_EPOCHS: '1', // the digit classifier for class-consistency: one epoch (~5 s) is enough for tests
      ...extraEnv,
    },
  };
}

export interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function start(world: World, script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [script, ...args], { env: { ...world.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  world.procs.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => void (out += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => void (out += d.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, output: () => out, exited };
}

export async function run(world: World, script: string, args: string[] = [], timeoutMs = 120_000): Promise<{ code: number | null; output: string }> {
  const p = start(world, script, args);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const { code } = await p.exited;
  clearTimeout(timer);
  return { code, output: p.output() };
}

export async function waitFor<T>(what: string, fn: () => T | undefined | null | false, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * A recorder and one worker started, and the sweep submitted detached; resolves once SQLite has its (first) run.
 * The start of every test that then does something to that one run.
 */
export async function submitWithOneWorker(world: World, file: string): Promise<{ recorder: Proc; worker: Proc; runId: string }> {
  const recorder = start(world, SCRIPTS.recorder);
  const worker = start(world, SCRIPTS.worker);
  const submitted = await run(world, SCRIPTS.sweep, [file, '--detach']);
  if (submitted.code !== 0) throw new Error(`pnpm sweep --detach exited ${submitted.code}:\n${submitted.output}`);
  const runId = await waitFor('a run row', () => sql<{ id: string }>(world, 'SELECT id FROM runs')[0]?.id);
  return { recorder, worker, runId };
}

/** Resolves once SQLite records at least `count` checkpoints of the run. */
export async function waitForCheckpoints(world: World, runId: string, count = 1): Promise<void> {
  await waitFor(count === 1 ? 'a checkpoint' : `${count} checkpoints`, () => sql(world, 'SELECT 1 FROM checkpoints WHERE run_id = ?', runId).length >= count, 90_000, 50);
}

/** The pid of the training process the worker started last (the "childPid" field of its log). */
export function trainingPid(worker: Proc): number {
  const pids = [...worker.output().matchAll(/"childPid":(\d+)/g)].map((m) => Number(m[1]));
  const pid = pids.at(-1);
  if (pid === undefined || !(pid > 0)) throw new Error('the worker has not logged a training process yet');
  return pid;
}

/** Reads the world's SQLite file (read-only, a fresh connection per call so it sees the latest commit). */
export function sql<T = Record<string, unknown>>(world: World, query: string, ...params: unknown[]): T[] {
  const file = world.env.SWEEP_DB ?? '';
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch {
    return [];
  }
  try {
    return db.prepare(query).all(...params) as T[];
  } catch {
    return []; // not migrated yet
  } finally {
    db.close();
  }
}

export function writeSweep(world: World, name: string, yaml: string): string {
  const file = path.join(world.dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  return file;
}

/** Kills what the test started and deletes its Redis keys. */
export async function destroyWorld(world: World): Promise<void> {
  for (const p of world.procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${world.prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A sweep of `test`-preset runs (16 tokens of 7×7, width 16): ~30–60 ms a step on wasm. */
export function testSweep(name: string, opts: { steps: number; values: string[]; checkpointEvery: number; metricsEvery?: number }): string {
  return `name: ${name}
base:
  model: { preset: test }
  train: { steps: ${opts.steps}, batch_size: 16, warmup_steps: 2, metrics_every_steps: ${opts.metricsEvery ?? 1} }
  eval: { every_steps: 0, examples: 20, batch_size: 20, samples_per_class: 1, consistency_samples_per_class: 0 }
  checkpoint: { every_steps: ${opts.checkpointEvery}, keep: 3 }
parameters:
  prior.mu_init:
    values: [${opts.values.join(', ')}]
`;
}
