import { createLogger, type Logger } from '@ablate/log';
import { RUN_QUEUE, redisOptionsFromUrl, type RunJobData } from '@ablate/queue';
import { createRecorder } from '@ablate/recorder';
import { loadSweepFile, type RunSpec } from '@ablate/sweep';
import { Queue } from 'bullmq';
import type { ChildProcess } from 'node:child_process';
import Table from 'cli-table3';
import { createWriteStream, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { runMain, UsageError } from '@ablate/cli';
import { connectRedis, openWritableStore } from './connect';
import { schedulerEnv } from './env';
import { readableLogLine } from './log-line';
import { defaultWorkerCount, preflightLocalWorkers, startLocalWorkers, stopLocalWorkers, type PreflightResult } from './local-workers';
import { submitSweep, type SubmitResult } from './submit-sweep';
import { survivingTerminalOutput } from './terminal';
import { watchSweep } from './watch-sweep';

const USAGE = `usage: pnpm sweep <sweep.yaml> [--dry-run [--json]] [--detach] [--workers N] [--retry-failed] [--backend b]

Expands the sweep, records it and its runs in SQLite (SWEEP_DB) and puts one job per run on the queue (REDIS_URL,
QUEUE_PREFIX). Then it stays attached: it records results and shows progress until every run is done, starting N local
workers (default: one per GPU, else one per CPU core) if no worker is connected. Exits 0 when every run succeeded.
Submitting the same sweep again adds nothing new: finished runs are skipped, failed ones re-run only with --retry-failed.
Ctrl-C detaches: the runs stay queued (running ones checkpoint and go back on the queue); so does a closed terminal
(SIGHUP) or SIGTERM. Local workers stop with the sweep however it ends, kill -9 included.`;

function printDryRun(runs: RunSpec[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
    return;
  }
  const table = new Table({
    style: process.stdout.isTTY ? {} : { head: [], border: [] },
    head: ['#', 'run id', 'label', 'preset', 'steps', 'batch', 'mu_init', 'mu_std', 'lr_scale', 'seed'],
  });
  if (runs.some((r) => r.program !== undefined)) {
    const programTable = new Table({ style: process.stdout.isTTY ? {} : { head: [], border: [] }, head: ['#', 'run id', 'label', 'config'] });
    for (const r of runs) programTable.push([r.index, r.runId, r.label, JSON.stringify(r.config)]);
    const argv = runs[0]?.program?.argv.join(' ') ?? '';
    process.stdout.write(`program: ${argv}\n${programTable.toString()}\n${runs.length} runs\n`);
    return;
  }
  for (const r of runs) {
    if (r.program !== undefined) continue;
    const c = r.config;
    table.push([
      r.index,
      r.runId,
      r.label,
      c.model.preset,
      c.train.steps,
      c.train.batch_size,
      c.prior.mu_init,
      c.prior.mu_init === 'randn' ? c.prior.mu_std : '-',
      c.prior.lr_scale,
      c.seed,
    ]);
  }
  process.stdout.write(`${table.toString()}\n${runs.length} runs\n`);
}

/** Throws a UsageError that says what to do instead when the local workers' backend cannot hold these runs. */
function explainUnfit(file: string, pre: PreflightResult, log: Logger): void {
  if (pre.problems.length === 0) return;
  log.debug({ preflight: pre }, 'local workers cannot train some runs');
  const lines = pre.problems.map((p) => {
    const fix = p.maxBatch === null ? 'no batch size fits' : `train.batch_size ${p.maxBatch} would fit`;
    return `  ${p.labels.length} run(s) (model.preset ${p.preset}, train.batch_size ${p.batchSize}): ~${p.forwardMiB.toLocaleString('en-US')} MiB of forward activations per training step, where ${pre.backend} (a 4 GiB heap; the backward pass needs ~5× the forward's) fits ~${p.limitMiB ?? '?'} MiB; ${fix}`;
  });
  throw new UsageError(
    [
      `${file}: the local workers would train on ${pre.backend ?? '?'} (${pre.device ?? '?'}), which cannot hold these runs:`,
      ...lines,
      'Nothing was submitted. Instead:',
      `  - train it on a GPU machine: \`pnpm sweep ${file} --detach\` here, then \`pnpm worker\` there (same REDIS_URL and ARTIFACT_DIR; README, "Running sweeps across machines"), and follow with \`pnpm ui\` or \`pnpm status\`;`,
      '  - or run the CPU-sized ablation here: `pnpm sweep sweeps/prior-init-mini.yaml`;',
      '  - or submit and follow it anyway without local workers: --workers 0.',
    ].join('\n'),
  );
}

/** What the submission did: one line, and a warning for the runs that left the sweep. */
function logSubmitted(log: Logger, specFile: string, name: string, result: SubmitResult, where: { db: string; artifacts: string }): void {
  log.info(
    {
      runs: result.total,
      created: result.created.length,
      enqueued: result.enqueued.length,
      finished: result.finished.length,
      active: result.active.length,
      failedKept: result.failedKept.length,
      ...where,
    },
    `sweep ${name}: ${result.total} runs, ${result.enqueued.length} enqueued, ${result.finished.length} already finished, ${result.active.length} already queued or running${result.failedKept.length ? `, ${result.failedKept.length} failed (re-run with --retry-failed)` : ''}`,
  );
  if (result.unlinked.length > 0) {
    log.warn(
      { unlinked: result.unlinked, stopped: result.stopped },
      `${result.unlinked.length} run(s) no longer in ${specFile} left the sweep (their results stay in the runs table)${result.stopped.length ? `; ${result.stopped.length} of them, queued or running and in no other sweep, were cancelled` : ''}`,
    );
  }
}

/** Local workers' output to logs/<sweep>-worker-<i>.log; their warnings and errors also reach this terminal. */
function pipeWorkerLogs(workers: ChildProcess[], logDir: string, name: string): void {
  mkdirSync(logDir, { recursive: true });
  workers.forEach((w, i) => {
    const out = createWriteStream(path.join(logDir, `${name}-worker-${i}.log`), { flags: 'a' });
    for (const stream of [w.stdout, w.stderr]) {
      if (!stream) continue;
      stream.pipe(out, { end: false });
      createInterface({ input: stream }).on('line', (line) => {
        const level = /"level":(\d+)/.exec(line)?.[1];
        if (level === undefined ? line.trim() !== '' : Number(level) >= 50)
          process.stderr.write(`worker ${i}: ${process.stderr.isTTY ? readableLogLine(line) : line}\n`);
      });
    }
  });
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      detach: { type: 'boolean' },
      workers: { type: 'string' },
      'retry-failed': { type: 'boolean' },
      backend: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const file = positionals[0];
  if (file === undefined || positionals.length > 1) throw new UsageError(`expected one sweep file\n${USAGE}`);
  const workersWanted = values.workers === undefined ? undefined : Number(values.workers);
  if (workersWanted !== undefined && (!Number.isInteger(workersWanted) || workersWanted < 0))
    throw new UsageError(`--workers: expected an integer ≥ 0, got "${values.workers}"`);

  const { spec, runs } = loadSweepFile(file);
  if (values['dry-run']) {
    printDryRun(runs, values.json === true);
    return 0;
  }

  const env = schedulerEnv();
  const log = createLogger({ name: 'sweep', destination: survivingTerminalOutput() }).child({ sweep: spec.name });
  // Started now, read only if local workers are needed: it runs while we connect.
  // Only the built-in trainer's runs have a backend and a memory estimate; a program's runs (program:) bring their own.
  const builtin = runs.filter((r) => r.program === undefined);
  const preflight =
    !values.detach && workersWanted !== 0 && builtin.length > 0
      ? preflightLocalWorkers(
          builtin.map((r) => ({ label: r.label, config: r.config })),
          values.backend ? { backend: values.backend } : {},
        )
      : null;
  preflight?.catch(() => undefined); // awaited below when it matters
  const redis = await connectRedis(env.redisUrl);
  if (preflight !== null) {
    // Local workers will be started if no worker serves the queue: check first that they can train these runs, and
    // say what to do instead, before anything is submitted (queued runs would wait for, or crash, any later worker).
    const probe = new Queue<RunJobData>(RUN_QUEUE, { connection: redis, prefix: env.prefix });
    const connectedNow = (await probe.getWorkers()).length;
    await probe.close();
    if (connectedNow === 0) explainUnfit(file, await preflight, log);
  }
  const store = openWritableStore(env.dbPath);
  const result = await submitSweep({
    store,
    connection: redis,
    prefix: env.prefix,
    spec,
    runs,
    artifactDir: env.artifactDir,
    retryFailed: values['retry-failed'] === true,
  });
  logSubmitted(log, spec.file, spec.name, result, { db: env.dbPath, artifacts: env.artifactDir });
  if (values.detach) {
    log.info('detached: start workers with `pnpm worker` on any machine that reaches Redis; follow with `pnpm status ' + spec.name + '`');
    store.close();
    await redis.quit();
    return 0;
  }

  // Attached: the embedded recorder writes what the workers report; local workers if nobody is serving the queue.
  const recorderRedis = await connectRedis(env.redisUrl);
  const recorder = createRecorder({
    redis: recorderRedis,
    store,
    prefix: env.prefix,
    consumer: `sweep-${os.hostname()}-${process.pid}`,
    log: log.child({ component: 'recorder' }),
    leaseMs: Number(process.env.RECORDER_LEASE_MS || 10_000),
  });
  const recording = recorder.run();
  const queue = new Queue<RunJobData>(RUN_QUEUE, { connection: redis, prefix: env.prefix });
  const connected = (await queue.getWorkers()).length;
  const pendingRuns = result.enqueued.length + result.active.length;
  const n = connected > 0 || pendingRuns === 0 ? 0 : Math.min(workersWanted ?? defaultWorkerCount(), pendingRuns);
  const logDir = path.join(path.dirname(env.dbPath), 'logs');
  const workers = n > 0 ? startLocalWorkers(n, { ...(values.backend ? { backend: values.backend } : {}) }) : [];
  if (workers.length > 0) {
    pipeWorkerLogs(workers, logDir, spec.name);
    log.info({ workers: workers.length, pids: workers.map((w) => w.pid), logs: logDir }, `no worker was connected: started ${workers.length} local worker(s)`);
  } else if (connected > 0) log.info({ connected }, `${connected} worker(s) connected`);

  let onSigint: () => void = () => undefined;
  const detach = new Promise<void>((resolve) => {
    onSigint = () => resolve();
    process.once('SIGINT', onSigint);
    process.once('SIGTERM', onSigint);
    process.once('SIGHUP', onSigint); // the terminal closed: detach cleanly too (its writes fail from now on: see terminal.ts)
  });
  let outcome;
  try {
    outcome = await watchSweep({
      store,
      connection: redisOptionsFromUrl(env.redisUrl),
      prefix: env.prefix,
      sweepId: spec.name,
      log,
      tty: process.stderr.isTTY === true,
      detach,
    });
    if (outcome.detached) log.warn('detaching: running runs checkpoint and go back on the queue; queued runs stay queued');
  } finally {
    await stopLocalWorkers(workers);
  }
  await recorder.stop();
  await recording.catch((err: unknown) => log.error({ err }, 'recorder stopped with an error'));
  await recorder.drain().catch((err: unknown) => log.warn({ err }, 'recorder drain failed; the events stay on the stream for the next recorder'));
  await queue.close();
  await recorderRedis.quit();
  await redis.quit();
  store.close();
  if (outcome.detached) {
    process.stderr.write(`detached from sweep ${spec.name}: resume with \`pnpm sweep ${file}\` or \`pnpm worker\`; check with \`pnpm status ${spec.name}\`\n`);
    return 130;
  }
  const summary = Object.entries(outcome.counts)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  log[outcome.allSucceeded ? 'info' : 'warn'](
    { counts: outcome.counts },
    `sweep ${spec.name} finished: ${summary}. Results: pnpm query "SELECT * FROM run_results WHERE sweep_id = '${spec.name}'"`,
  );
  return outcome.allSucceeded ? 0 : 1;
}

runMain(main);
