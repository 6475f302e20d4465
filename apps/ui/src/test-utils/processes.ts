import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';

/** The built commands, started as `pnpm <command>` starts them. */
const APPS = path.resolve(__dirname, '..', '..', '..');
export const REPO = path.resolve(APPS, '..');
export const SCRIPTS = {
  ui: path.join(APPS, 'ui', 'dist', 'ui-main.js'),
  sweep: path.join(APPS, 'scheduler', 'dist', 'sweep-main.js'),
  recorder: path.join(APPS, 'scheduler', 'dist', 'recorder-main.js'),
  worker: path.join(APPS, 'worker', 'dist', 'main.js'),
};

/** One isolated set-up: its own queue prefix, SQLite file and artifact folder (as apps/scheduler's test harness). */
export interface World {
  dir: string;
  prefix: string;
  env: NodeJS.ProcessEnv;
  procs: Proc[];
}

export interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export function createWorld(): World {
  const dir = mkdtempSync(path.join(tmpdir(), 'ablate-ui-e2e-'));
  const prefix = `test-${randomUUID()}`;
  return {
    dir,
    prefix,
    procs: [],
    env: {
      ...process.env,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: prefix,
      SWEEP_DB: path.join(dir, 'ablate.db'),
      ARTIFACT_DIR: path.join(dir, 'artifacts'),
      TFJS_BACKEND: 'wasm',
      LOG_FORMAT: 'json',
      CLASSIFIER_EPOCHS: '1', // the digit classifier: one epoch is enough for a test
    },
  };
}

export function start(world: World, script: string, args: string[] = []): Proc {
  const child = spawn(process.execPath, [script, ...args], { env: world.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => void (out += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => void (out += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const p = { child, output: () => out, exited };
  world.procs.push(p);
  return p;
}

export async function waitFor<T>(what: string, fn: () => T | undefined | null | false, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Kills what the test started, deletes its Redis keys and its folder. */
export async function destroyWorld(world: World): Promise<void> {
  for (const p of world.procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(world.procs.map((p) => p.exited));
  const redis = new Redis(world.env.REDIS_URL ?? '');
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
  rmSync(world.dir, { recursive: true, force: true });
}
