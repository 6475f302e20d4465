/**
 * Orchestrator benchmark (not a test): how much the sweep → queue → worker → recorder machinery costs, each measure
 * against its target. `pnpm bench:orchestrator [--only submit,ingest,pickup,overhead] [--json] ...` (see USAGE).
 * Uses REDIS_URL with a fresh `bench-<uuid>` prefix per measurement (deleted afterwards) and temp SQLite files.
 */
import { resolveRunConfig } from '@ablate/config';
import { queueEnv, redactRedisUrl, redisOptionsFromUrl } from '@ablate/queue';
import Table from 'cli-table3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { benchIngestOnce, type IngestSample } from './bench-ingest-rate';
import { runDirect, runQueued, overheadRunYaml, type DirectSample, type QueuedSample } from './bench-overhead';
import { benchPickup, type PickupResult } from './bench-pickup';
import { benchStatus, type StatusSample } from './bench-status';
import { machineInfo, median, quantile } from './bench-stats';
import { benchSubmitOnce, type SubmitSample } from './bench-submit';
import { runMain, UsageError } from '@ablate/cli';
import { connectRedis } from '../connect';

const USAGE = `usage: pnpm bench:orchestrator [--only submit,status,ingest,pickup,overhead] [--json] [--json-file out.json]
  [--reps 5] [--side 10] [--ingest-rows 200000] [--pickup-jobs 200] [--pickup-gap-ms 20]
  [--rounds 3] [--steps 60] [--batch 64] [--eval-examples 500] [--backend wasm] [--keep]

submit:   parse+expand a generated 10,000-run sweep, SQLite rows, BullMQ addBulk (target < 1 s), median of --reps
status:   pnpm status on a generated --side⁴-run sweep (half finished with curves, 20 running, 100 failed), spawned
          as a user runs it: default summary (target < 1 s), --all and --all --json, median of --reps
ingest:   recorder drain of --ingest-rows metric rows into SQLite (target ≥ 100,000 rows/s), median of --reps
pickup:   queue.add → processor start on an idle Worker, --pickup-jobs sequential jobs (target p95 < 10 ms)
overhead: one run via pnpm train (a) vs a one-run sweep with --workers 1 (b), a/b alternated --rounds times
          (target < 2% end to end; --steps is set so one run takes ~20-40 s on the backend)`;

const ALL = ['submit', 'status', 'ingest', 'pickup', 'overhead'] as const;
type Measure = (typeof ALL)[number];

interface Row {
  measure: string;
  value: string;
  target: string;
  ok: boolean | null;
}

const ms = (x: number, d = 0) => (Number.isFinite(x) ? `${x.toFixed(d)} ms` : 'n/a');
const pct = (ratio: number) => `${((ratio - 1) * 100).toFixed(2)}%`;
const intArg = (name: string, v: string | undefined, min: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name}: expected an integer ≥ ${min}, got "${v}"`);
  return n;
};

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', default: ALL.join(',') },
      json: { type: 'boolean', default: false },
      'json-file': { type: 'string' },
      reps: { type: 'string', default: '5' },
      side: { type: 'string', default: '10' },
      'ingest-rows': { type: 'string', default: '200000' },
      'pickup-jobs': { type: 'string', default: '200' },
      'pickup-gap-ms': { type: 'string', default: '20' },
      rounds: { type: 'string', default: '3' },
      steps: { type: 'string', default: '60' },
      batch: { type: 'string', default: '64' },
      'eval-examples': { type: 'string', default: '500' },
      backend: { type: 'string', default: 'wasm' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const only = values.only.split(',').map((s) => s.trim());
  for (const m of only) if (!(ALL as readonly string[]).includes(m)) throw new UsageError(`--only: expected some of ${ALL.join(', ')}, got "${m}"`);
  const wants = (m: Measure) => only.includes(m);
  const reps = intArg('reps', values.reps, 1);
  const rounds = intArg('rounds', values.rounds, 1);
  const progress = (msg: string) => process.stderr.write(`${msg}\n`);

  const machine = machineInfo();
  const { redisUrl } = queueEnv();
  const connection = redisOptionsFromUrl(redisUrl);
  const redis = await connectRedis(redisUrl);
  const reader = await connectRedis(redisUrl);
  const rows: Row[] = [];
  const raw: {
    submit?: SubmitSample[];
    status?: StatusSample[];
    ingest?: IngestSample[];
    pickup?: PickupResult;
    overhead?: { direct: DirectSample[]; queued: QueuedSample[]; config: string };
  } = {};
  try {
    if (wants('submit')) {
      const side = intArg('side', values.side, 1);
      const samples: SubmitSample[] = [];
      for (let i = 0; i < reps; i++) {
        progress(`submit: rep ${i + 1}/${reps} (${side ** 4} runs)`);
        samples.push(await benchSubmitOnce({ redis, side }));
      }
      raw.submit = samples;
      const m = (k: keyof SubmitSample) => median(samples.map((s) => s[k]));
      const total = m('totalMs');
      rows.push({ measure: `expand and enqueue ${side ** 4} runs (median of ${reps})`, value: ms(total), target: '< 1000 ms', ok: total < 1000 });
      rows.push({ measure: '  expand: read + parse + validate + expand', value: ms(m('expandMs')), target: '', ok: null });
      rows.push({ measure: '  SQLite: upsertSweep + insertRuns', value: ms(m('sqliteMs')), target: '', ok: null });
      rows.push({ measure: '  enqueue: addBulk (submitSweep − SQLite)', value: ms(m('enqueueMs')), target: '', ok: null });
      rows.push({ measure: '  (submitSweep: SQLite + enqueue)', value: ms(m('submitMs')), target: '', ok: null });
      rows.push({ measure: '  (not counted: openStore + migrations)', value: ms(m('openStoreMs'), 1), target: '', ok: null });
    }

    if (wants('status')) {
      const side = intArg('side', values.side, 1);
      progress(`status: building a ${side ** 4}-run database, then ${reps} rep(s) of each command`);
      const samples = benchStatus({ side, reps });
      raw.status = samples;
      const m = (k: keyof StatusSample) => median(samples.map((s) => s[k]));
      const first = samples[0];
      rows.push({
        measure: `pnpm status <sweep>, ${side ** 4} runs, ${first?.metricRows.toLocaleString('en-US') ?? '?'} metric rows (median of ${reps}, node start included)`,
        value: ms(m('summaryMs')),
        target: '< 1000 ms',
        ok: m('summaryMs') < 1000,
      });
      rows.push({ measure: `  lines printed by the summary`, value: String(first?.summaryLines ?? '?'), target: '', ok: null });
      rows.push({ measure: `  pnpm status <sweep> --all (text, ${first?.allLines ?? '?'} lines, not a TTY)`, value: ms(m('allTextMs')), target: '', ok: null });
      rows.push({ measure: '  pnpm status <sweep> --all --json', value: ms(m('allJsonMs')), target: '', ok: null });
    }

    if (wants('ingest')) {
      const nRows = intArg('ingest-rows', values['ingest-rows'], 1);
      const samples: IngestSample[] = [];
      for (let i = 0; i < reps; i++) {
        progress(`ingest: rep ${i + 1}/${reps} (${nRows} rows)`);
        samples.push(await benchIngestOnce({ redis, reader, rows: nRows }));
      }
      raw.ingest = samples;
      const rate = median(samples.map((s) => s.rowsPerSec));
      const rates = samples.map((s) => Math.round(s.rowsPerSec / 1000)).join(', ');
      rows.push({
        measure: `recorder ingest, ${nRows} rows, 10/event, batch 1000 (median of ${reps}; k rows/s: ${rates})`,
        value: `${Math.round(rate).toLocaleString('en-US')} rows/s`,
        target: '≥ 100,000 rows/s',
        ok: rate >= 100_000,
      });
    }

    if (wants('pickup')) {
      const jobs = intArg('pickup-jobs', values['pickup-jobs'], 1);
      progress(`pickup: ${jobs} jobs`);
      const config = resolveRunConfig({ model: { preset: 'tiny' } });
      const r = await benchPickup({ connection, redis, jobs, warmup: 10, gapMs: intArg('pickup-gap-ms', values['pickup-gap-ms'], 0), config });
      raw.pickup = r;
      const p95 = quantile(r.latenciesMs, 0.95);
      rows.push({ measure: `job pickup latency p95 (${jobs} jobs, idle worker)`, value: ms(p95, 2), target: '< 10 ms', ok: p95 < 10 });
      rows.push({
        measure: '  median / p99 / max',
        value: `${ms(median(r.latenciesMs), 2)} / ${ms(quantile(r.latenciesMs, 0.99), 2)} / ${ms(Math.max(...r.latenciesMs), 2)}`,
        target: '',
        ok: null,
      });
      rows.push({ measure: '  of which queue.add round trip (median)', value: ms(median(r.addMs), 2), target: '', ok: null });
    }

    if (wants('overhead')) {
      const cfg = {
        steps: intArg('steps', values.steps, 1),
        batchSize: intArg('batch', values.batch, 1),
        evalExamples: intArg('eval-examples', values['eval-examples'], 0),
        backend: values.backend,
      };
      const runYaml = overheadRunYaml(cfg);
      const dir = mkdtempSync(path.join(tmpdir(), 'ablate-bench-overhead-'));
      const direct: DirectSample[] = [];
      const queued: QueuedSample[] = [];
      try {
        for (let i = 0; i < rounds; i++) {
          progress(`overhead: round ${i + 1}/${rounds} (a) pnpm train`);
          direct.push(await runDirect({ dir: path.join(dir, `a-${i}`), runYaml, backend: cfg.backend, timeoutMs: 20 * 60_000 }));
          progress(`overhead: round ${i + 1}/${rounds} (b) one-run sweep through the queue`);
          queued.push(await runQueued({ dir: path.join(dir, `b-${i}`), runYaml, backend: cfg.backend, redis, timeoutMs: 20 * 60_000, pollMs: 25 }));
        }
      } finally {
        if (values.keep) progress(`overhead: kept ${dir}`);
        else rmSync(dir, { recursive: true, force: true });
      }
      raw.overhead = { direct, queued, config: runYaml };
      const wallRatio = median(queued.map((q, i) => q.wallMs / (direct[i]?.wallMs ?? NaN)));
      const elapsedRatio = median(queued.map((q, i) => q.trainerElapsedMs / (direct[i]?.trainerElapsedMs ?? NaN)));
      const md = (xs: number[]) => median(xs);
      const dWall = md(direct.map((d) => d.wallMs));
      const qWall = md(queued.map((q) => q.wallMs));
      rows.push({ measure: `queue overhead, end to end (median of ${rounds} paired a/b ratios)`, value: pct(wallRatio), target: '< 2%', ok: wallRatio < 1.02 });
      const fixedRatio = median(
        queued.map((q, i) => {
          const d = direct[i];
          return d === undefined ? NaN : 1 + (q.wallMs - q.trainerElapsedMs - (d.wallMs - d.trainerElapsedMs)) / d.wallMs;
        }),
      );
      rows.push({
        measure: '  same, trainer time taken out: (non-training b − non-training a) / (a) wall',
        value: pct(fixedRatio),
        target: '< 2%',
        ok: fixedRatio < 1.02,
      });
      rows.push({
        measure: `  paired ratios b/a, round by round`,
        value: queued.map((q, i) => pct(q.wallMs / (direct[i]?.wallMs ?? NaN))).join(', '),
        target: '',
        ok: null,
      });
      rows.push({
        measure: '  1-min load average after each a / b',
        value: direct.map((d, i) => `${d.loadAvg1.toFixed(1)}/${queued[i]?.loadAvg1.toFixed(1) ?? '?'}`).join(', '),
        target: '',
        ok: null,
      });
      rows.push({ measure: `  (a) pnpm train: spawn → exit (${cfg.steps} steps × ${cfg.batchSize}, ${cfg.backend})`, value: ms(dWall), target: '', ok: null });
      rows.push({ measure: '  (b) pnpm sweep --workers 1: spawn → run recorded succeeded', value: ms(qWall), target: '', ok: null });
      rows.push({ measure: '  (b) spawn → command exit (adds teardown)', value: ms(md(queued.map((q) => q.exitMs))), target: '', ok: null });
      rows.push({ measure: '  difference b − a (median wall)', value: ms(qWall - dWall), target: '', ok: null });
      rows.push({
        measure: '  trainer elapsed: (b) runs.elapsed_ms / (a) result.json',
        value: `${pct(elapsedRatio)} (${ms(md(queued.map((q) => q.trainerElapsedMs)))} vs ${ms(md(direct.map((d) => d.trainerElapsedMs)))})`,
        target: '',
        ok: null,
      });
      const dt = (xs: number[]) => ms(md(xs));
      rows.push({
        measure: '  (a) spawn → backend ready (node start, module load, tfjs wasm init)',
        value: dt(direct.map((d) => d.timeline.backendReady ?? NaN)),
        target: '',
        ok: null,
      });
      rows.push({
        measure: '  (a) backend ready → trainer finished, minus trainer elapsed (dataset load, model init)',
        value: dt(direct.map((d) => (d.timeline.trainFinished ?? NaN) - (d.timeline.backendReady ?? NaN) - d.trainerElapsedMs)),
        target: '',
        ok: null,
      });
      rows.push({
        measure: '  (a) non-training time: wall − trainer elapsed',
        value: dt(direct.map((d) => d.wallMs - d.trainerElapsedMs)),
        target: '',
        ok: null,
      });
      rows.push({
        measure: '  (b) spawn → sweep submitted (node start, expand, SQLite, addBulk)',
        value: dt(queued.map((q) => q.timeline.submitted ?? NaN)),
        target: '',
        ok: null,
      });
      rows.push({
        measure: '  (b) → worker ready (worker process start)',
        value: dt(queued.map((q) => (q.timeline.workerReady ?? NaN) - (q.timeline.submitted ?? NaN))),
        target: '',
        ok: null,
      });
      rows.push({
        measure: '  (b) → child forked (job pickup)',
        value: dt(queued.map((q) => (q.timeline.childForked ?? NaN) - (q.timeline.workerReady ?? NaN))),
        target: '',
        ok: null,
      });
      rows.push({
        measure: '  (b) → run started (child start, tfjs wasm init)',
        value: dt(queued.map((q) => (q.timeline.runStarted ?? NaN) - (q.timeline.childForked ?? NaN))),
        target: '',
        ok: null,
      });
      rows.push({
        measure: '  (b) run started → trainer finished',
        value: dt(queued.map((q) => (q.timeline.trainFinished ?? NaN) - (q.timeline.runStarted ?? NaN))),
        target: '',
        ok: null,
      });
      rows.push({
        measure: '  (b) of which dataset load, model init (minus trainer elapsed)',
        value: dt(queued.map((q) => (q.timeline.trainFinished ?? NaN) - (q.timeline.runStarted ?? NaN) - q.trainerElapsedMs)),
        target: '',
        ok: null,
      });
      rows.push({
        measure: '  (b) trainer finished → recorded succeeded',
        value: dt(queued.map((q) => (q.timeline.recorded ?? NaN) - (q.timeline.trainFinished ?? NaN))),
        target: '',
        ok: null,
      });
      rows.push({
        measure: '  (b) non-training time: recorded − trainer elapsed',
        value: dt(queued.map((q) => q.wallMs - q.trainerElapsedMs)),
        target: '',
        ok: null,
      });
    }
  } finally {
    await redis.quit();
    await reader.quit();
  }

  const json = `${JSON.stringify({ command: `pnpm bench:orchestrator ${process.argv.slice(2).join(' ')}`.trim(), machine, loadAvgAtEnd: os.loadavg(), redis: redactRedisUrl(redisUrl), rows, raw }, null, 2)}\n`;
  if (values['json-file'] !== undefined) writeFileSync(values['json-file'], json);
  if (values.json) {
    process.stdout.write(json);
  } else {
    const table = new Table({ head: ['measure', 'value', 'target', ''], style: { head: [], border: [] } });
    for (const r of rows) table.push([r.measure, r.value, r.target, r.ok === null ? '' : r.ok ? 'ok' : 'MISSED']);
    process.stdout.write(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memGiB} GiB, Node ${machine.node}, ${machine.platform}\n`);
    process.stdout.write(
      `load average ${machine.loadAvg.join(' ')} at the start (${machine.date}), ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} at the end\n`,
    );
    process.stdout.write(`${table.toString()}\n`);
  }
  return 0; // a missed target is a finding, not a failure: the table says MISSED
}

runMain(main);
