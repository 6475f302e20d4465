/**
 * Test helpers shared by the packages' and apps' tests (a devDependency; never imported by non-test code). Kept free of
 * the packages under test (only ioredis and the event types), so any of them, the queue and the store included, can use it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RunEvent } from '@ablate/events';

export { deleteKeys, deletePrefix, newRedis, REDIS_URL, testPrefix } from './redis';

/** Polls `fn` every `everyMs` until it returns something (not undefined, null or false); throws after `timeoutMs`. */
export async function waitFor<T>(what: string, fn: () => T | undefined | null | false, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A fresh temp folder; `cleanup()` removes it. */
export function tempDir(name = 'ablate-test-'): { dir: string; file: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), name));
  return { dir, file: (f) => path.join(dir, f), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: object;
  msg: string;
}

/** A pino-like logger (debug, info, warn, error) that keeps its lines. */
export function captureLog(): { lines: LogLine[] } & Record<LogLine['level'], (obj: object, msg: string) => void> {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (obj: object, msg: string) => {
    lines.push({ level, obj, msg });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const T0 = 1_700_000_000_000;

/** The events of a small scripted run: start, train metrics every 10 steps, μ norms, eval, checkpoint, images, finish. */
export function scriptedRun(runId: string, opts: { steps?: number; attempt?: number; at?: number; lossAt?: (step: number) => number } = {}): RunEvent[] {
  const steps = opts.steps ?? 100;
  const at = opts.at ?? T0;
  const loss = opts.lossAt ?? ((s: number) => 2 / (1 + s / 10));
  const ev: RunEvent[] = [
    { kind: 'run-started', runId, attempt: opts.attempt ?? 1, host: 'h1', workerId: 'h1:1', backend: 'cpu', device: 'cpu', resumeFrom: null, at },
    { kind: 'mu-norms', runId, step: 0, norms: [1, 2, 3] },
  ];
  for (let s = 10; s <= steps; s += 10) {
    ev.push({
      kind: 'metrics',
      runId,
      rows: [
        { step: s, name: 'loss', value: loss(s) },
        { step: s, name: 'lr', value: 1e-3 },
      ],
    });
    ev.push({ kind: 'mu-norms', runId, step: s, norms: [1 + s / 100, 2 + s / 100, 3 + s / 100] });
  }
  ev.push({
    kind: 'metrics',
    runId,
    rows: [
      { step: steps, name: 'eval/nll', value: 0.9 },
      { step: steps, name: 'eval/bpd', value: 1.3 },
      { step: steps, name: 'eval/accuracy', value: 0.8 },
    ],
  });
  ev.push({ kind: 'checkpoint', runId, step: steps, uri: `/a/${runId}/ckpt-${steps}`, bytes: 1000, sha256: 'b'.repeat(64) });
  ev.push({ kind: 'artifact', runId, step: steps, artifact: 'samples', uri: `/a/${runId}/samples.png` });
  ev.push({ kind: 'run-finished', runId, status: 'succeeded', finalStep: steps, elapsedMs: 1234, at: at + 1234 });
  return ev;
}
export { createWorld, destroyWorld, REPO, run, SCRIPTS, start } from './processes';
export type { Proc, World } from './processes';

/** A seeded generator of numbers in [0, 1) (mulberry32): a test's random choices, replayable from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The seed of a test suite's random choices: `env[name]` (an integer) to replay a run, else a fresh one. Printed on
 * stderr either way, so a failure can be replayed with `<name>=<seed>`.
 */
export function suiteSeed(name: string, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  const seed = raw === undefined || raw === '' ? Math.floor(Math.random() * 2 ** 32) : Number(raw);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) throw new Error(`${name}: expected an integer in [0, 2^32), got "${raw}"`);
  process.stderr.write(`${name}=${seed} (set it to replay this run's random choices)\n`);
  return seed;
}
