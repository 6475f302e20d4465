import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deletePrefix, REDIS_URL, testPrefix } from './redis';

/** The repository, from src/ or dist/ of this package alike. */
export const REPO = path.resolve(__dirname, '..', '..', '..');
const APPS = path.join(REPO, 'apps');

/** The built commands, started as `pnpm <command>` starts them. */
export const SCRIPTS = {
  sweep: path.join(APPS, 'scheduler', 'dist', 'sweep-main.js'),
  recorder: path.join(APPS, 'scheduler', 'dist', 'recorder-main.js'),
  cancel: path.join(APPS, 'scheduler', 'dist', 'cancel-main.js'),
  status: path.join(APPS, 'scheduler', 'dist', 'status-main.js'),
  query: path.join(APPS, 'scheduler', 'dist', 'query-main.js'),
  worker: path.join(APPS, 'worker', 'dist', 'main.js'),
  report: path.join(APPS, 'report', 'dist', 'report-main.js'),
  ui: path.join(APPS, 'ui', 'dist', 'ui-main.js'),
};

/** One isolated world per test: its own queue prefix, SQLite file and artifact folder, and the processes it started. */
export interface World {
  dir: string;
  prefix: string;
  env: NodeJS.ProcessEnv;
  procs: ChildProcess[];
}

/** A fresh world in a temp folder named `<name>…`; `env` on top of the defaults (wasm, JSON logs, a one-epoch classifier). */
export function createWorld(name: string, env: NodeJS.ProcessEnv = {}): World {
  const dir = mkdtempSync(path.join(tmpdir(), name));
  const prefix = testPrefix();
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
      CLASSIFIER_EPOCHS: '1', // the digit classifier for class-consistency: one epoch (~5 s) is enough for tests
      ...env,
    },
  };
}

export interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `node <script> <args>` in the world (its env, plus `env`); its stdout and stderr are kept together. */
export function start(world: World, script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [script, ...args], { env: { ...world.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  world.procs.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => void (out += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => void (out += d.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => out, exited };
}

/** Runs a command to its end (killed after `timeoutMs`): its exit code and output. */
export async function run(world: World, script: string, args: string[] = [], timeoutMs = 120_000): Promise<{ code: number | null; output: string }> {
  const p = start(world, script, args);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const { code } = await p.exited;
  clearTimeout(timer);
  return { code, output: p.output() };
}

/** Kills what the test started (and waits for it), deletes its keys (on REDIS_URL: a world's own Redis may be gone) and its folder. */
export async function destroyWorld(world: World): Promise<void> {
  const running = world.procs.filter((p) => p.exitCode === null && p.signalCode === null);
  const exits = running.map((p) => new Promise<void>((resolve) => p.once('exit', () => resolve())));
  for (const p of running) p.kill('SIGKILL');
  await Promise.all(exits);
  await deletePrefix(world.prefix);
  rmSync(world.dir, { recursive: true, force: true });
}
