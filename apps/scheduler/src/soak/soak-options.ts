import { UsageError } from '@ablate/cli';
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';

export const USAGE = `usage: pnpm soak [--runs N] [--workers N] [--hosts N] [--minutes M] [--seed S] [--json FILE]
                 [--steps N] [--fault-every SECONDS] [--grace-minutes M] [--keep]

A chaos soak (Jepsen-style): N runs of a toy \`program:\` sweep (a known number of metric rows per run) on W workers
spread over H network-namespace hosts, with the soak's own Redis (AOF), SQLite file and queue prefix, while faults
drawn from the seed hit it: kill -9 of a worker or of a training process, Redis killed and restarted, the recorder
killed and restarted, a host's link cut for 10-30 s, a checkpoint file truncated. Faults stop after --minutes (or
when every run has ended); after a grace period it checks every run's state, every (run, step, metric) row (none
lost, none duplicated) and that the recorder acknowledged every event, prints a table, and exits 1 if a check failed.
Needs root (ip netns) and redis-server.

  --runs N            runs in the sweep (default 1000)
  --workers N         worker processes (default 16)
  --hosts N           network-namespace hosts the workers are spread over (default 4)
  --minutes M         how long to inject faults at most (default 60)
  --seed S            the fault schedule's seed, 0..4294967295 (default: random, printed at the start)
  --json FILE         also write the results as JSON to FILE
  --steps N           steps per run, 50 ms each (default: sized so the runs take about half of --minutes)
  --fault-every S     mean seconds between faults (default 5)
  --grace-minutes M   after the faults stop, how long runs may take to finish (default: 10% of --minutes, 2..5)
  --keep              keep the soak's folder (logs, SQLite, AOF) even when every check passes`;

export interface SoakOptions {
  runs: number;
  workers: number;
  hosts: number;
  minutes: number;
  seed: number;
  json: string | null;
  steps: number;
  stepSeconds: number;
  checkpointEvery: number;
  faultEverySeconds: number;
  graceMinutes: number;
  keep: boolean;
}

function num(name: string, raw: string | undefined, fallback: number, o: { integer?: boolean; min: number; max: number }): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || (o.integer && !Number.isInteger(n)) || n < o.min || n > o.max) {
    throw new UsageError(`--${name}: expected ${o.integer ? 'an integer' : 'a number'} from ${o.min} to ${o.max}, got "${raw}"\n\n${USAGE}`);
  }
  return n;
}

/** Parses the command line; a bad value throws UsageError (printed without a stack, exit 2). Null for --help. */
export function parseSoakOptions(argv: string[]): SoakOptions | null {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      runs: { type: 'string' },
      workers: { type: 'string' },
      hosts: { type: 'string' },
      minutes: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'string' },
      steps: { type: 'string' },
      'fault-every': { type: 'string' },
      'grace-minutes': { type: 'string' },
      keep: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return null;
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\n\n${USAGE}`);
  const runs = num('runs', values.runs, 1000, { integer: true, min: 1, max: 10_000 });
  const workers = num('workers', values.workers, 16, { integer: true, min: 1, max: 256 });
  const hosts = num('hosts', values.hosts, Math.min(4, workers), { integer: true, min: 1, max: 64 });
  if (hosts > workers) throw new UsageError(`--hosts ${hosts}: expected at most as many hosts as workers (${workers})`);
  const minutes = num('minutes', values.minutes, 60, { min: 0.1, max: 7 * 24 * 60 });
  const seed = num('seed', values.seed, randomInt(0, 2 ** 32 - 1), { integer: true, min: 0, max: 2 ** 32 - 1 });
  if (values.json !== undefined && values.json.trim() === '') throw new UsageError('--json: expected a file name');
  const stepSeconds = 0.05;
  // Sized so that the runs, one after another on each worker, take about half of --minutes without faults.
  const auto = Math.round((0.5 * minutes * 60 * workers) / runs / stepSeconds);
  const steps = num('steps', values.steps, Math.min(2000, Math.max(20, auto)), { integer: true, min: 2, max: 100_000 });
  const faultEverySeconds = num('fault-every', values['fault-every'], 5, { min: 0.5, max: 3600 });
  const graceMinutes = num('grace-minutes', values['grace-minutes'], Math.min(5, Math.max(2, minutes * 0.1)), { min: 0, max: 24 * 60 });
  return {
    runs,
    workers,
    hosts,
    minutes,
    seed,
    json: values.json ?? null,
    steps,
    stepSeconds,
    checkpointEvery: Math.max(1, Math.min(10, Math.floor(steps / 4))),
    faultEverySeconds,
    graceMinutes,
    keep: values.keep === true,
  };
}
