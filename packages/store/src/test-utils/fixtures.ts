import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { DEFAULT_REDIS_URL, type RunEvent } from '@ablate/queue';
import { openStore, type Store } from '../open-store';
import { insertRuns, upsertSweep } from '../runs';
import type { RecorderLog } from '../recorder';

/** Test helpers (not exported from the package). */

export const REDIS_URL = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;

/** A fresh temp folder; `cleanup()` removes it. */
export function tempDir(): { dir: string; file: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'ablate-store-'));
  return { dir, file: (name) => path.join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A migrated store on a temp file, and a function that closes it and removes the file. */
export function tempStore(): { store: Store; file: string; cleanup: () => void } {
  const t = tempDir();
  const file = t.file('ablate.db');
  const store = openStore(file);
  return {
    store,
    file,
    cleanup: () => {
      if (store.sqlite.open) store.close();
      t.cleanup();
    },
  };
}

export const T0 = 1_700_000_000_000;

/** Sweep `s1` with runs r0..r{n-1}: label `mu_init=<m> seed=<k>` with two seeds per mu_init value. */
export function seedSweep(store: Store, n = 2, sweepId = 's1'): string[] {
  upsertSweep(store, { id: sweepId, name: 'mu-init', file: 'sweeps/mu-init.yaml', spec: { grid: { 'prior.mu_init': ['zero', 'randn'], seed: [0, 1] } } }, T0);
  const inits = ['zero', 'randn', 'data'];
  const ids = Array.from({ length: n }, (_, i) => `${sweepId}-r${i}`);
  insertRuns(
    store,
    sweepId,
    ids.map((id, i) => {
      const variant = { 'prior.mu_init': inits[Math.floor(i / 2) % inits.length], seed: i % 2 };
      return { id, idx: i, label: `mu_init=${variant['prior.mu_init']} seed=${variant.seed}`, variant, config: { seed: i % 2, prior: { mu_init: variant['prior.mu_init'] } } };
    }),
    T0,
  );
  return ids;
}

/** Every row of every table, sorted, to compare database states. */
export function dump(store: Store): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const t of ['sweeps', 'runs', 'sweep_runs', 'metrics', 'mu_norms', 'checkpoints', 'artifacts']) {
    out[t] = store.sqlite.prepare(`SELECT * FROM ${t} ORDER BY 1, 2, 3`).all();
  }
  return out;
}

export function testPrefix(): string {
  return `test-${randomUUID()}`;
}

export function newRedis(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: null });
}

export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: object;
  msg: string;
}

/** A RecorderLog that keeps its lines. */
export function captureLog(): RecorderLog & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (obj: object, msg: string) => {
    lines.push({ level, obj, msg });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

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
    ev.push({ kind: 'metrics', runId, rows: [{ step: s, name: 'loss', value: loss(s) }, { step: s, name: 'lr', value: 1e-3 }] });
    ev.push({ kind: 'mu-norms', runId, step: s, norms: [1 + s / 100, 2 + s / 100, 3 + s / 100] });
  }
  ev.push({ kind: 'metrics', runId, rows: [{ step: steps, name: 'eval/nll', value: 0.9 }, { step: steps, name: 'eval/bpd', value: 1.3 }, { step: steps, name: 'eval/accuracy', value: 0.8 }] });
  ev.push({ kind: 'checkpoint', runId, step: steps, uri: `/a/${runId}/ckpt-${steps}`, bytes: 1000, sha256: 'b'.repeat(64) });
  ev.push({ kind: 'artifact', runId, step: steps, artifact: 'samples', uri: `/a/${runId}/samples.png` });
  ev.push({ kind: 'run-finished', runId, status: 'succeeded', finalStep: steps, elapsedMs: 1234, at: at + 1234 });
  return ev;
}
