/**
 * `pnpm bench:sweep`: a whole sweep with N local workers, for each N given, on this machine: wall time from
 * `pnpm sweep <file> --workers N` to its exit, and the ratio to the first N. Each N gets a fresh SQLite file and queue
 * prefix and an empty runs/ folder (nothing resumes from the previous N); the digit classifier is trained once, by a
 * warm-up sweep of one step, before anything is timed.
 *
 *   pnpm bench:sweep --workers 1,2                     # sweeps/prior-init-mini.yaml as it is
 *   pnpm bench:sweep --workers 1,2 --steps 300         # the same sweep cut to 300 steps per run
 */
import { createLogger } from '@ablate/log';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseDocument } from 'yaml';
import Table from 'cli-table3';
import { openStore } from '@ablate/store';
import { deletePrefixKeys, machineInfo } from './bench-stats';
import { connectRedis } from '../connect';
import { schedulerEnv } from '../env';

const SWEEP_MAIN = path.join(__dirname, '..', 'sweep-main.js');

/** The sweep file with base.train.steps replaced (comments and layout kept), under a new name. */
function variantOf(file: string, steps: number | null, name: string): string {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  doc.set('name', name);
  if (steps !== null) doc.setIn(['base', 'train', 'steps'], steps);
  return doc.toString();
}

async function runSweep(file: string, workers: number, env: NodeJS.ProcessEnv, logFile: string): Promise<{ code: number | null; seconds: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [SWEEP_MAIN, file, '--workers', String(workers), '--backend', 'wasm'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => void (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => void (out += d.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  writeFileSync(logFile, out);
  return { code, seconds: (performance.now() - t0) / 1000 };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      sweep: { type: 'string', default: 'sweeps/prior-init-mini.yaml' },
      workers: { type: 'string', default: '1,2' },
      steps: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const log = createLogger({ name: 'bench-sweep' });
  const counts = values.workers.split(',').map(Number);
  if (counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--workers: expected a list of positive integers, got "${values.workers}"`);
  const steps = values.steps === undefined ? null : Number(values.steps);
  if (steps !== null && (!Number.isInteger(steps) || steps < 1)) throw new Error(`--steps: expected a positive integer, got "${values.steps}"`);
  const redisUrl = schedulerEnv().redisUrl;
  const root = mkdtempSync(path.join(os.tmpdir(), 'bench-sweep-'));
  const artifacts = path.join(root, 'artifacts');
  const baseEnv = { ...process.env, REDIS_URL: redisUrl, ARTIFACT_DIR: artifacts, LOG_FORMAT: 'json', TFJS_BACKEND: 'wasm' };
  const redis = await connectRedis(redisUrl);
  const rows: { workers: number; seconds: number; runs: number; succeeded: number; meanRunMin: number; code: number | null }[] = [];
  try {
    log.info({ dir: root }, 'warm-up: one step per run, to train and cache the digit classifier');
    const warm = path.join(root, 'warmup.yaml');
    writeFileSync(warm, variantOf(values.sweep, 1, 'bench-warmup'));
    const warmPrefix = `bench-${randomUUID()}`;
    await runSweep(warm, 1, { ...baseEnv, SWEEP_DB: path.join(root, 'warmup.db'), QUEUE_PREFIX: warmPrefix }, path.join(root, 'warmup.log'));
    await deletePrefixKeys(redis, warmPrefix);

    for (const n of counts) {
      rmSync(path.join(artifacts, 'runs'), { recursive: true, force: true }); // nothing to resume from
      const file = path.join(root, `n${n}.yaml`);
      writeFileSync(file, variantOf(values.sweep, steps, `bench-n${n}`));
      const db = path.join(root, `n${n}.db`);
      const prefix = `bench-${randomUUID()}`;
      log.info({ workers: n, steps }, `timing the sweep with ${n} local worker(s)`);
      const r = await runSweep(file, n, { ...baseEnv, SWEEP_DB: db, QUEUE_PREFIX: prefix }, path.join(root, `n${n}.log`));
      await deletePrefixKeys(redis, prefix);
      const store = openStore(db, { readonly: true });
      const stat = store.sqlite.prepare("SELECT count(*) AS runs, sum(status = 'succeeded') AS ok, avg(elapsed_ms) AS ms FROM runs").get() as {
        runs: number;
        ok: number;
        ms: number;
      };
      store.close();
      rows.push({ workers: n, seconds: r.seconds, runs: stat.runs, succeeded: stat.ok, meanRunMin: stat.ms / 60000, code: r.code });
      log.info({ workers: n, seconds: Math.round(r.seconds), succeeded: stat.ok }, 'done');
    }
  } finally {
    await redis.quit();
  }
  const first = rows[0]?.seconds ?? NaN;
  const m = machineInfo();
  const machine = `${m.cores} × ${m.cpu}, ${m.memGiB} GiB, Node ${m.node}, load ${m.loadAvg.map((l) => l.toFixed(1)).join('/')} at the end, ${m.date}`;
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ sweep: values.sweep, steps, machine, rows: rows.map((r) => ({ ...r, speedup: first / r.seconds })) }, null, 2)}\n`,
    );
  } else {
    const dur = (sec: number) => (sec < 120 ? `${sec.toFixed(1)} s` : `${(sec / 60).toFixed(1)} min`);
    const table = new Table({
      style: process.stdout.isTTY ? {} : { head: [], border: [] },
      head: ['local workers', 'wall time', 'speed-up vs first', 'runs succeeded', 'mean run (trainer clock)'],
    });
    for (const r of rows) table.push([r.workers, dur(r.seconds), `${(first / r.seconds).toFixed(2)}×`, `${r.succeeded}/${r.runs}`, dur(r.meanRunMin * 60)]);
    process.stdout.write(`${values.sweep}${steps === null ? '' : ` at ${steps} steps per run`} — ${machine}\n${table.toString()}\n`);
  }
  rmSync(root, { recursive: true, force: true });
  return rows.every((r) => r.code === 0) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
