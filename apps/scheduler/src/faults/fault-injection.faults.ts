/**
 * `pnpm test:faults`: sweeps under injected faults, on real Redis, real SQLite and real worker processes. For each case,
 * every run must end in the right state and no (run, step, metric) row may be lost or duplicated. Prints one table row
 * per case at the end. Its random choices (which worker dies, when) come from FAULT_SEED, printed at the start and in
 * the table: `FAULT_SEED=<seed> pnpm test:faults` replays them.
 */
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { seededRandom, suiteSeed } from '@ablate/test-utils';
import {
  createWorld,
  destroyWorld,
  run,
  SCRIPTS,
  sql,
  start,
  submitWithOneWorker,
  trainingPid,
  waitFor,
  waitForCheckpoints,
  writeSweep,
  type Proc,
  type World,
} from '../test-utils/harness';

const FAULT_SEED = suiteSeed('FAULT_SEED');
const random = seededRandom(FAULT_SEED);

interface CaseRow {
  name: string;
  runs: number;
  expected: string;
  ended: string;
  rows: string;
  result: 'pass' | 'FAIL';
  seconds: number;
}
const table: CaseRow[] = [];

afterAll(() => {
  const head = ['case', 'runs', 'expected', 'ended', 'metric rows (run, step, name)', 'result', 's'];
  const rows = table.map((r) => [r.name, String(r.runs), r.expected, r.ended, r.rows, r.result, r.seconds.toFixed(0)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  process.stdout.write(
    `\nfault injection (FAULT_SEED=${FAULT_SEED})\n${line(head)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${rows.map(line).join('\n')}\n\n`,
  );
});

let world: World | undefined;
let extra: ChildProcess[] = [];
afterEach(async () => {
  for (const p of extra) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  extra = [];
  if (world) await destroyWorld(world);
  world = undefined;
});

function faultSweep(name: string, o: { steps: number; seeds: number; checkpointEvery: number; lrs?: number[] }): string {
  return `name: ${name}
base:
  model: { preset: test }
  train: { steps: ${o.steps}, batch_size: 16, warmup_steps: 2, metrics_every_steps: 1 }
  eval: { every_steps: 0, examples: 20, batch_size: 20, samples_per_class: 1, consistency_samples_per_class: 0 }
  checkpoint: { every_steps: ${o.checkpointEvery}, keep: 3 }
parameters:
  train.lr: { values: [${(o.lrs ?? [3.0e-3]).join(', ')}] }
seeds: ${o.seeds}
`;
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RunRow {
  id: string;
  status: string;
  final_step: number | null;
  error: string | null;
}
const runsOf = (w: World) => sql<RunRow>(w, 'SELECT id, status, final_step, error FROM runs ORDER BY id');

/**
 * Every run's metric series checked: a succeeded run has `loss` and `grad_norm` at every step 1..final_step and μ norms
 * at 0..final_step (a diverged run up to the step that went non-finite); no (run, step, name) twice. Returns a summary
 * and the problems found.
 */
function audit(w: World): { rows: number; problems: string[] } {
  const problems: string[] = [];
  const dupes = sql<{ n: number }>(w, 'SELECT count(*) AS n FROM (SELECT 1 FROM metrics GROUP BY run_id, step, name HAVING count(*) > 1)')[0]?.n ?? -1;
  if (dupes !== 0) problems.push(`${dupes} duplicated (run, step, metric) rows`);
  for (const r of runsOf(w)) {
    const last = r.final_step ?? 0; // the last completed step (a diverged run's non-finite step is the metric `diverged`)
    if (r.status !== 'succeeded' && r.status !== 'diverged') continue;
    for (const name of ['loss', 'grad_norm']) {
      const steps = sql<{ step: number }>(w, 'SELECT step FROM metrics WHERE run_id = ? AND name = ? ORDER BY step', r.id, name).map((x) => x.step);
      const want = range(1, last);
      if (steps.join() !== want.join()) {
        const missing = want.filter((s) => !steps.includes(s));
        problems.push(
          `${r.id} ${name}: ${missing.length} of ${want.length} steps missing (first ${missing.slice(0, 5).join(', ')}), ${steps.length - (want.length - missing.length)} extra`,
        );
      }
    }
    const mu = sql<{ step: number }>(w, 'SELECT DISTINCT step FROM mu_norms WHERE run_id = ? ORDER BY step', r.id).map((x) => x.step);
    if (mu[0] !== 0 || mu.some((s, i) => s !== i))
      problems.push(`${r.id} mu_norms: steps ${mu.length ? `${mu[0]}..${mu.at(-1)}` : 'none'}, not 0..${mu.length - 1} without gaps`);
  }
  const rows = sql<{ n: number }>(w, 'SELECT count(*) AS n FROM metrics')[0]?.n ?? 0;
  return { rows, problems };
}

const statusCounts = (w: World) => {
  const counts = new Map<string, number>();
  for (const r of runsOf(w)) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
};

/** Runs one case and records its table row, pass or fail. */
async function faultCase(name: string, expected: string, body: () => Promise<void>): Promise<void> {
  const t0 = Date.now();
  let result: CaseRow['result'] = 'FAIL';
  try {
    await body();
    result = 'pass';
  } finally {
    const a = world ? audit(world) : { rows: 0, problems: ['no world'] };
    table.push({
      name,
      runs: world ? runsOf(world).length : 0,
      expected,
      ended: world ? statusCounts(world) : '-',
      rows: a.problems.length === 0 ? `${a.rows}, none lost or duplicated` : a.problems.join('; '),
      result: a.problems.length === 0 ? result : 'FAIL',
      seconds: (Date.now() - t0) / 1000,
    });
  }
}

const runIdsFromDryRun = async (w: World, file: string): Promise<string[]> => {
  const out = await run(w, SCRIPTS.sweep, [file, '--dry-run', '--json']);
  const parsed = JSON.parse(out.output.slice(out.output.indexOf('['))) as { runId: string }[];
  return parsed.map((r) => r.runId);
};

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

describe('fault injection (real Redis, SQLite and worker processes)', () => {
  it('kill -9 random workers, repeatedly, during a sweep', async () => {
    await faultCase('kill -9 random workers ×4', 'all succeeded', async () => {
      world = createWorld({ WORKER_MAX_STALLED: '50' });
      const w = world;
      const file = writeSweep(w, 'killers', faultSweep('killers', { steps: 150, seeds: 4, checkpointEvery: 10 }));
      start(w, SCRIPTS.recorder);
      let workers: Proc[] = [start(w, SCRIPTS.worker), start(w, SCRIPTS.worker)];
      expect((await run(w, SCRIPTS.sweep, [file, '--detach'])).code).toBe(0);
      await waitFor('a first checkpoint', () => sql(w, 'SELECT 1 FROM checkpoints').length > 0, 90_000, 100);
      for (let k = 0; k < 4; k++) {
        const victim = workers[Math.floor(random() * workers.length)];
        victim?.child.kill('SIGKILL'); // its training child exits when the IPC channel closes
        workers = workers.filter((p) => p !== victim);
        await sleep(1500 + random() * 2500);
        workers.push(start(w, SCRIPTS.worker));
      }
      await waitFor('every run to finish', () => runsOf(w).every((r) => r.status === 'succeeded') || undefined, 240_000, 500);
      expect(runsOf(w).map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
      expect(audit(w).problems).toEqual([]);
    });
  });

  it("restart Redis mid-sweep (a Redis of the test's own, with AOF)", async () => {
    await faultCase('Redis killed -9 for 4 s, restarted (AOF)', 'all succeeded', async () => {
      const port = await freePort();
      const dir = path.join(tmpdir(), `faults-redis-${port}`);
      mkdirSync(dir, { recursive: true });
      const startRedis = () => {
        const p = spawn(
          'redis-server',
          ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir],
          { stdio: 'ignore' },
        );
        extra.push(p);
        return p;
      };
      const ping = () => spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG';
      let redis = startRedis();
      await waitFor('own redis', () => ping(), 10_000, 50);
      world = createWorld({ REDIS_URL: `redis://127.0.0.1:${port}` });
      const w = world;
      const file = writeSweep(w, 'redis-restart', faultSweep('redis-restart', { steps: 200, seeds: 2, checkpointEvery: 10 }));
      start(w, SCRIPTS.recorder);
      start(w, SCRIPTS.worker);
      start(w, SCRIPTS.worker);
      expect((await run(w, SCRIPTS.sweep, [file, '--detach'])).code).toBe(0);
      await waitFor('a checkpoint', () => sql(w, 'SELECT 1 FROM checkpoints').length > 0, 90_000, 100);
      redis.kill('SIGKILL');
      await sleep(4000); // longer than a job lock (3 s here) and than the time between checkpoints: both happen while it is down
      redis = startRedis();
      await waitFor('redis back', () => ping(), 10_000, 50);
      await waitFor('every run to finish', () => runsOf(w).every((r) => r.status === 'succeeded') || undefined, 240_000, 500);
      expect(audit(w).problems).toEqual([]);
      rmSync(dir, { recursive: true, force: true });
    });
  });

  it('kill the recorder, repeatedly', async () => {
    await faultCase('recorder killed -9 ×3', 'all succeeded', async () => {
      world = createWorld();
      const w = world;
      const file = writeSweep(w, 'recorder', faultSweep('recorder', { steps: 150, seeds: 2, checkpointEvery: 10 }));
      let recorder = start(w, SCRIPTS.recorder);
      start(w, SCRIPTS.worker);
      start(w, SCRIPTS.worker);
      expect((await run(w, SCRIPTS.sweep, [file, '--detach'])).code).toBe(0);
      for (let k = 0; k < 3; k++) {
        await waitFor('rows flowing', () => (sql<{ n: number }>(w, 'SELECT count(*) AS n FROM metrics')[0]?.n ?? 0) > 50 * (k + 1), 90_000, 100);
        recorder.child.kill('SIGKILL');
        await sleep(1000 + random() * 1500);
        recorder = start(w, SCRIPTS.recorder);
      }
      await waitFor('every run to finish', () => runsOf(w).every((r) => r.status === 'succeeded') || undefined, 240_000, 500);
      expect(audit(w).problems).toEqual([]);
    });
  });

  it('corrupt the newest checkpoint: the retry resumes from the previous one', async () => {
    await faultCase('newest checkpoint corrupted', 'succeeded from previous ckpt', async () => {
      world = createWorld();
      const w = world;
      const file = writeSweep(w, 'corrupt', faultSweep('corrupt', { steps: 120, seeds: 1, checkpointEvery: 10 }));
      const { worker, runId } = await submitWithOneWorker(w, file);
      await waitForCheckpoints(w, runId, 3);
      process.kill(trainingPid(worker), 'SIGKILL');
      const dir = path.join(w.dir, 'artifacts', 'runs', runId, 'checkpoints');
      const newest =
        readdirSync(dir)
          .filter((d) => d.startsWith('step-'))
          .sort()
          .at(-1) ?? '';
      const weights = path.join(dir, newest, 'weights.bin');
      writeFileSync(weights, Buffer.alloc(statSync(weights).size, 0x5a)); // same size, wrong bytes: only the sha256 tells
      const newestStep = Number(newest.replace('step-', ''));
      await waitFor('the run to succeed', () => runsOf(w)[0]?.status === 'succeeded' || undefined, 120_000, 200);
      const resumed = sql<{ resumed_from: number }>(w, 'SELECT resumed_from FROM runs WHERE id = ?', runId)[0]?.resumed_from ?? -1;
      expect(resumed).toBeLessThan(newestStep);
      expect(resumed).toBeGreaterThan(0);
      expect(worker.output()).toContain('is not readable here; resuming from the older step');
      expect(audit(w).problems).toEqual([]);
    });
  });

  it('a run whose loss goes NaN ends diverged; the other run is untouched', async () => {
    await faultCase('loss goes NaN (lr 1e9)', '1 succeeded, 1 diverged', async () => {
      world = createWorld();
      const w = world;
      const file = writeSweep(w, 'nan', faultSweep('nan', { steps: 60, seeds: 1, checkpointEvery: 20, lrs: [3.0e-3, 1.0e9] }));
      start(w, SCRIPTS.recorder);
      start(w, SCRIPTS.worker);
      const sweep = await run(w, SCRIPTS.sweep, [file]);
      writeFileSync(path.join(w.dir, 'sweep.log'), sweep.output);
      expect(sweep.code).toBe(1); // not every run succeeded
      const rows = runsOf(w);
      expect(rows.map((r) => r.status).sort()).toEqual(['diverged', 'succeeded']);
      expect(rows.find((r) => r.status === 'diverged')?.error).toMatch(/^diverged at step \d+/);
      expect(audit(w).problems).toEqual([]);
    });
  });

  it('a worker whose disk write fails: the run fails saying why, the others finish; after the fix it completes', async () => {
    await faultCase('disk write fails (ENOTDIR)', 'failed with the reason, then succeeded', async () => {
      world = createWorld();
      const w = world;
      const file = writeSweep(w, 'disk', faultSweep('disk', { steps: 40, seeds: 2, checkpointEvery: 10 }));
      const [bad, good] = await runIdsFromDryRun(w, file);
      const blocked = path.join(w.dir, 'artifacts', 'runs', bad ?? '', 'checkpoints');
      mkdirSync(path.dirname(blocked), { recursive: true });
      writeFileSync(blocked, 'not a folder'); // every write of this run's checkpoints fails
      start(w, SCRIPTS.recorder);
      start(w, SCRIPTS.worker);
      expect((await run(w, SCRIPTS.sweep, [file, '--detach'])).code).toBe(0);
      await waitFor('the bad run to fail after its retries', () => runsOf(w).find((r) => r.id === bad)?.status === 'failed' || undefined, 120_000, 200);
      await waitFor('the good run to succeed', () => runsOf(w).find((r) => r.id === good)?.status === 'succeeded' || undefined, 120_000, 200);
      expect(runsOf(w).find((r) => r.id === bad)?.error).toMatch(/ENOTDIR|not a directory/i);
      expect(runsOf(w).find((r) => r.id === bad)?.error).toContain('(attempt 3 of 3)');
      rmSync(blocked);
      expect((await run(w, SCRIPTS.sweep, [file, '--detach', '--retry-failed'])).code).toBe(0);
      await waitFor('the retried run to succeed', () => runsOf(w).find((r) => r.id === bad)?.status === 'succeeded' || undefined, 120_000, 200);
      expect(existsSync(path.join(blocked, 'step-00000040'))).toBe(true);
      expect(readFileSync(path.join(blocked, 'step-00000040', 'manifest.json'), 'utf8')).toMatch(/"step": 40,/);
      expect(audit(w).problems).toEqual([]);
    });
  });
});
