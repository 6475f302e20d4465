/**
 * `pnpm soak`: a Jepsen-style chaos soak of the whole pipeline (queue → workers → stream → recorder → SQLite). See
 * soak-options.ts for the command line and README.md ("Chaos soak") / RELIABILITY.md for what it checks and why.
 *
 * The runs are a `program:` sweep of the toy program of the protocol tests (test-utils/programs/toy-train.js): its
 * `loss` and `eval/acc` at every step 1..steps, with values known in advance (1/(step+seed+1) and step/steps), so every
 * expected (run, step, metric) row and its value can be checked. It checkpoints every few steps and resumes from its
 * newest checkpoint.
 *
 * What a run's history implies (the end check):
 * - succeeded, with every row once, unless
 * - the soak hit it (killed its training process or its worker, cut its host's link, killed Redis while it ran, or
 *   truncated its checkpoint) and it then failed for one of those reasons: it used up its attempts (`(attempt 3 of 3)`,
 *   e.g. three kills, or a resume refused because the checkpoint changed after it was reported: the worker never
 *   resumes from a changed file nor restarts from step 0), or BullMQ gave up on it as stalled too often. Such a failed
 *   run must still have no duplicated rows and no gap: steps 1..k, each once.
 * Anything else (a run left queued/running, cancelled, diverged, failed without a fault, a lost or duplicated row, a
 * wrong value, an event left pending in the consumer group, a job left in the queue) fails the soak.
 */
import type { Logger } from '@ablate/log';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createNet, destroyNet, setLink, type SoakNet } from './netns';
import { Prng } from './prng';
import { cmdline, isAlive, openLog, peakRssKb, sleep, startIn, type SoakProc } from './procs';
import type { SoakOptions } from './soak-options';

const APPS = path.resolve(__dirname, '..', '..', '..');
const ROOT = path.resolve(APPS, '..');
const SCRIPTS = {
  sweep: path.join(APPS, 'scheduler', 'dist', 'sweep-main.js'),
  recorder: path.join(APPS, 'scheduler', 'dist', 'recorder-main.js'),
  worker: path.join(APPS, 'worker', 'dist', 'main.js'),
};
const TOY = path.join(APPS, 'scheduler', 'src', 'test-utils', 'programs', 'toy-train.js');
const CLIENT_JS = path.join(ROOT, 'clients', 'node', 'ablate-client.js');
const REDIS_PORT = 6379; // in the soak's own Redis namespace: nothing else listens there

export const FAULT_KINDS = [
  'kill -9 worker',
  'kill -9 training process',
  'kill -9 recorder (restarted)',
  'kill -9 Redis (restarted, AOF)',
  'host link cut 10-30 s',
  'checkpoint truncated',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
/** One round of the fault bag: each kind at least once per round, so even a short soak sees them all. */
const BAG: FaultKind[] = [
  'kill -9 worker',
  'kill -9 worker',
  'kill -9 training process',
  'kill -9 training process',
  'kill -9 recorder (restarted)',
  'kill -9 Redis (restarted, AOF)',
  'host link cut 10-30 s',
  'checkpoint truncated',
];
/** A legitimately failed run's reason, for the table. */
export function failureReason(error: string): string {
  if (/changed after it was reported/.test(error)) return 'resume refused: its checkpoint changed (truncated)';
  if (/it is not there/.test(error)) return 'resume refused: its checkpoint is gone (see RELIABILITY.md)';
  if (/stalled/i.test(error)) return 'stalled too often';
  return 'attempts used up';
}
const TERMINAL = ['succeeded', 'failed', 'diverged', 'cancelled'];
/** Why a run the soak hit may legitimately end failed (see the header). */
const LEGIT_FAILURE = /\(attempt (\d+) of \1\)|stalled|cannot resume from the checkpoint/i;
/**
 * A checkpoint that is gone is never legitimate: the worker deletes a program's old checkpoints only after a newer
 * resume point is in Redis, and only while it holds the job's lock (the soak's first finding, fixed; RELIABILITY.md).
 */
const legitFailure = (error: string): boolean => LEGIT_FAILURE.test(error) && !/it is not there/.test(error);

export interface SoakReport {
  ok: boolean;
  seed: number;
  command: string;
  options: SoakOptions;
  startedAt: string;
  seconds: number;
  faults: Record<string, number>;
  unexpectedExits: string[];
  runsByState: Record<string, number>;
  legitFailures: { runId: string; error: string; hitBy: string[] }[];
  rows: { expected: number; present: number; duplicated: number; lost: number; wrongValue: number; unexpected: number };
  throughput: { runsPerMin: number; rowsPerSec: number; seconds: number };
  lag: { maxStreamLength: number; maxPending: number; maxUndelivered: number };
  peakRssMb: { recorder: number; worker: number; trainingProcess: number };
  checks: { name: string; ok: boolean; detail: string }[];
  /** The soak's folder (logs, SQLite, AOF); null once removed. */
  dir: string | null;
  table: string;
}

interface Slot {
  name: string;
  start: () => SoakProc;
  proc: SoakProc;
  /** The next restart's delay (a fault sets it before its kill); 1 s for an exit the soak did not cause. */
  restartAfterMs: number;
}

interface ChildRec {
  pid: number;
  runId: string;
  script: string;
}

function sqlAll<T>(db: string, query: string, ...params: unknown[]): T[] {
  if (!existsSync(db)) return [];
  let conn: Database.Database;
  try {
    conn = new Database(db, { readonly: true, fileMustExist: true, timeout: 5000 });
  } catch {
    return [];
  }
  try {
    return conn.prepare(query).all(...params) as T[];
  } catch {
    return []; // not migrated yet
  } finally {
    conn.close();
  }
}

const mb = (kb: number) => Math.round(kb / 102.4) / 10;
const expo = (rng: Prng, mean: number) => -Math.log(1 - rng.next()) * mean;

export async function runSoak(o: SoakOptions, log: Logger, command: string): Promise<SoakReport> {
  const t0 = Date.now();
  const rng = new Prng(o.seed);
  const dir = mkdtempSync(path.join(tmpdir(), 'ablate-soak-'));
  const logsDir = path.join(dir, 'logs');
  const aofDir = path.join(dir, 'redis');
  mkdirSync(logsDir, { recursive: true });
  mkdirSync(aofDir, { recursive: true });
  const db = path.join(dir, 'soak.db');
  const artifacts = path.join(dir, 'artifacts');
  const prefix = `soak-${o.seed}`;
  const logs = new Map<string, WriteStream>();
  const logOf = (name: string) => {
    let s = logs.get(name);
    if (!s) logs.set(name, (s = openLog(path.join(logsDir, `${name}.log`))));
    return s;
  };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    QUEUE_PREFIX: prefix,
    SWEEP_DB: db,
    ARTIFACT_DIR: artifacts,
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
    WORKER_LOCK_MS: '10000', // shorter than most link cuts: a cut-off worker's job is taken over elsewhere
    WORKER_MAX_STALLED: '50', // a run is not failed for being on a worker the soak killed (RELIABILITY.md)
    RECORDER_LEASE_MS: '2000',
    PROGRAM_GRACE_MS: '5000',
    ABLATE_CLIENT_JS: CLIENT_JS,
  };
  const faults: Record<string, number> = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0]));
  const unexpectedExits: string[] = [];
  const hitBy = new Map<string, Set<string>>();
  const hit = (runId: string, kind: string) => {
    let s = hitBy.get(runId);
    if (!s) hitBy.set(runId, (s = new Set()));
    s.add(kind);
  };
  const children = new Map<number, ChildRec>();
  const currentRun = new Map<number, string>(); // worker index → the run it started last
  const peak = { recorder: 0, worker: 0, training: 0 };
  const lag = { maxStreamLength: 0, maxPending: 0, maxUndelivered: 0 };
  let net: SoakNet | null = null;
  let stopping = false; // the end: no restarts
  let redisProc: SoakProc | null = null;
  let redisDown = false;
  const cut = new Set<number>();
  const slots: Slot[] = [];
  const inflight = new Set<Promise<void>>();
  let client: Redis | null = null;
  let stopWait: () => void = () => undefined;
  const stopped = new Promise<void>((r) => (stopWait = r));
  const holdUnlessStopped = (ms: number) => Promise.race([sleep(ms), stopped]);

  log.info(
    { seed: o.seed, dir, runs: o.runs, workers: o.workers, hosts: o.hosts, minutes: o.minutes, steps: o.steps },
    `chaos soak: seed ${o.seed} (replay the fault schedule with --seed ${o.seed})`,
  );
  // Ctrl-C or SIGTERM: no process or namespace of the soak's is left behind.
  const onSignal = (signal: NodeJS.Signals) => {
    log.warn({ signal, dir }, 'interrupted: stopping every process of the soak and removing its namespaces; its folder is kept');
    stopping = true;
    for (const s of slots) if (s.proc?.alive()) s.proc.child.kill('SIGKILL');
    if (redisProc?.alive()) redisProc.child.kill('SIGKILL');
    for (const c of children.values()) if (cmdline(c.pid).includes(c.script)) process.kill(c.pid, 'SIGKILL');
    if (net) destroyNet(net);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    net = createNet(o.hosts);
    const n = net;
    const redisUrlIn = (h: number | null) => `redis://${h === null ? '127.0.0.1' : (n.hosts[h]?.redisIp ?? '')}:${REDIS_PORT}`;
    const startRedis = () =>
      startIn(
        n.redisNs,
        'redis',
        'redis-server',
        [
          '--port',
          String(REDIS_PORT),
          '--bind',
          '0.0.0.0',
          '--protected-mode',
          'no',
          '--save',
          '',
          '--appendonly',
          'yes',
          '--appendfsync',
          'always',
          '--dir',
          aofDir,
        ],
        env,
        logOf('redis'),
      );
    const ping = () =>
      spawnSync('redis-cli', ['-h', n.ctlRedisIp, '-p', String(REDIS_PORT), 'ping'], { encoding: 'utf8', timeout: 2000 }).stdout?.trim() === 'PONG';
    const waitRedis = async (ms: number) => {
      const until = Date.now() + ms;
      while (!ping()) {
        if (Date.now() > until) throw new Error(`the soak's Redis did not answer within ${ms / 1000} s (log: ${path.join(logsDir, 'redis.log')})`);
        await sleep(100);
      }
    };
    redisProc = startRedis();
    await waitRedis(15_000);
    client = new Redis({ host: n.ctlRedisIp, port: REDIS_PORT, maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => 300 });
    client.on('error', () => undefined);

    const supervise = (slot: Slot) => {
      void slot.proc.exited.then(({ code, signal }) => {
        if (stopping) return;
        if (!slot.proc.killedOnPurpose) {
          const why = slot.proc.lastLines
            .map((l) => {
              try {
                return String((JSON.parse(l) as { msg?: unknown }).msg ?? l);
              } catch {
                return l; // a plain line (a usage error's message)
              }
            })
            .join(' ')
            .slice(0, 120);
          unexpectedExits.push(`${slot.name.replace(/-\d+$/, '')} exited ${signal ?? code}: ${why}`);
          log.warn({ proc: slot.name, code, signal }, 'exited without a fault: restarting it');
        }
        const delay = slot.proc.killedOnPurpose ? slot.restartAfterMs : 1000;
        setTimeout(() => {
          if (stopping) return;
          slot.proc = slot.start();
          supervise(slot);
        }, delay);
      });
    };
    const onWorkerLine = (i: number) => (line: string) => {
      if (!line.includes('Pid"')) return;
      try {
        const j = JSON.parse(line) as { childPid?: number; programPid?: number; runId?: string; child?: number };
        if (typeof j.runId !== 'string') return;
        if (typeof j.childPid === 'number') {
          children.set(j.childPid, { pid: j.childPid, runId: j.runId, script: 'program-child.js' });
          currentRun.set(i, j.runId);
        }
        if (typeof j.programPid === 'number') children.set(j.programPid, { pid: j.programPid, runId: j.runId, script: 'toy-train.js' });
      } catch {
        // not a log line of ours
      }
    };
    const recorder: Slot = {
      name: 'recorder',
      start: () =>
        startIn(
          n.redisNs,
          'recorder',
          process.execPath,
          [SCRIPTS.recorder, '--consumer', 'soak-recorder'],
          { ...env, REDIS_URL: redisUrlIn(null) },
          logOf('recorder'),
        ),
      proc: undefined as unknown as SoakProc,
      restartAfterMs: 1000,
    };
    slots.push(recorder);
    for (let i = 0; i < o.workers; i++) {
      const h = i % o.hosts;
      slots.push({
        name: `worker-${i}`,
        start: () =>
          startIn(
            n.hosts[h]?.ns ?? '',
            `worker-${i}`,
            process.execPath,
            [SCRIPTS.worker],
            { ...env, REDIS_URL: redisUrlIn(h) },
            logOf(`worker-${i}`),
            onWorkerLine(i),
          ),
        proc: undefined as unknown as SoakProc,
        restartAfterMs: 1000,
      });
    }
    for (const s of slots) {
      s.proc = s.start();
      supervise(s);
    }
    const workers = slots.slice(1);
    const hostOf = (i: number) => i % o.hosts;

    // The sweep: submitted detached, like `pnpm sweep file --detach` on the Redis host.
    const sweepFile = path.join(dir, 'soak.yaml');
    writeFileSync(
      sweepFile,
      `name: soak-${o.seed}\nprogram: [${JSON.stringify(process.execPath)}, ${JSON.stringify(TOY)}]\nbase: { steps: ${o.steps}, checkpoint_every: ${o.checkpointEvery}, sleep_s: ${o.stepSeconds} }\nseeds: ${o.runs}\n`,
    );
    const sweep = startIn(
      n.redisNs,
      'sweep',
      process.execPath,
      [SCRIPTS.sweep, sweepFile, '--detach'],
      { ...env, REDIS_URL: redisUrlIn(null) },
      logOf('sweep'),
      undefined,
      dir,
    );
    const sub = await sweep.exited;
    if (sub.code !== 0) throw new Error(`pnpm sweep --detach exited ${sub.signal ?? sub.code} (log: ${path.join(logsDir, 'sweep.log')})`);
    const tSubmitted = Date.now();
    log.info({ runs: o.runs }, 'sweep submitted');

    const states = () =>
      Object.fromEntries(
        sqlAll<{ status: string; n: number }>(db, 'SELECT status, count(*) AS n FROM runs GROUP BY status').map((r) => [r.status, r.n]),
      ) as Record<string, number>;
    const terminalCount = (s: Record<string, number>) => TERMINAL.reduce((a, k) => a + (s[k] ?? 0), 0);
    const running = () => sqlAll<{ id: string; worker_id: string | null }>(db, "SELECT id, worker_id FROM runs WHERE status = 'running'");
    const workerRuns = (indexes: number[]) => {
      const pids = new Set(indexes.map((i) => workers[i]?.proc.pid));
      const ids = new Set(indexes.map((i) => currentRun.get(i)).filter((x): x is string => x !== undefined));
      for (const r of running()) if (r.worker_id && pids.has(Number(r.worker_id.slice(r.worker_id.lastIndexOf('-') + 1)))) ids.add(r.id);
      return [...ids];
    };
    let lastTerminalAt = tSubmitted;
    let lastTerminal = 0;

    // Sampling: the recorder's lag (stream length, pending, not yet delivered) and peak RSS, once a second.
    const sampler = setInterval(() => {
      const rec = recorder.proc;
      if (rec?.alive()) peak.recorder = Math.max(peak.recorder, peakRssKb(rec.pid) ?? 0);
      for (const w of workers) if (w.proc?.alive()) peak.worker = Math.max(peak.worker, peakRssKb(w.proc.pid) ?? 0);
      for (const c of children.values()) {
        if (!isAlive(c.pid)) children.delete(c.pid);
        else peak.training = Math.max(peak.training, peakRssKb(c.pid) ?? 0);
      }
      if (redisDown || !client) return;
      const key = `${prefix}:events`;
      client
        .multi()
        .xlen(key)
        .xpending(key, 'recorder')
        .xinfo('GROUPS', key)
        .exec()
        .then((res) => {
          const [len, pend, groups] = (res ?? []).map((r) => r[1]);
          lag.maxStreamLength = Math.max(lag.maxStreamLength, Number(len ?? 0));
          if (Array.isArray(pend)) lag.maxPending = Math.max(lag.maxPending, Number(pend[0] ?? 0));
          if (Array.isArray(groups)) {
            for (const g of groups as unknown[][]) {
              const i = g.indexOf('lag');
              if (i >= 0 && g[i + 1] !== null) lag.maxUndelivered = Math.max(lag.maxUndelivered, Number(g[i + 1]));
            }
          }
        })
        .catch(() => undefined);
    }, 1000);
    const progress = setInterval(() => {
      const s = states();
      log.info(
        { elapsedS: Math.round((Date.now() - t0) / 1000), runs: s, faults: Object.values(faults).reduce((a, b) => a + b, 0), cut: [...cut], redisDown, lag },
        'soak progress',
      );
    }, 10_000);

    // The faults.
    const track = (p: Promise<void>) => {
      const q = p.catch((err: unknown) => log.error({ err }, 'fault action failed')).finally(() => inflight.delete(q));
      inflight.add(q);
    };
    const count = (kind: FaultKind, detail: Record<string, unknown>) => {
      faults[kind] = (faults[kind] ?? 0) + 1;
      log.info({ fault: kind, ...detail }, 'fault injected');
    };
    const inject = (kind: FaultKind): boolean => {
      switch (kind) {
        case 'kill -9 worker': {
          const live = workers.map((w, i) => ({ w, i })).filter((x) => x.w.proc.alive() && !x.w.proc.killedOnPurpose);
          const v = rng.pick(live);
          if (!v) return false;
          for (const id of workerRuns([v.i])) hit(id, kind);
          v.w.proc.killedOnPurpose = true;
          v.w.restartAfterMs = Math.round(rng.between(500, 3000));
          v.w.proc.child.kill('SIGKILL');
          count(kind, { worker: v.w.name, pid: v.w.proc.pid, restartInMs: v.w.restartAfterMs });
          return true;
        }
        case 'kill -9 training process': {
          const live = [...children.values()].filter((c) => cmdline(c.pid).includes(c.script)).sort((a, b) => a.pid - b.pid);
          const v = rng.pick(live);
          if (!v) return false;
          hit(v.runId, kind);
          try {
            process.kill(v.pid, 'SIGKILL');
          } catch {
            return false;
          }
          children.delete(v.pid);
          count(kind, { runId: v.runId, pid: v.pid, process: v.script });
          return true;
        }
        case 'kill -9 recorder (restarted)': {
          if (!recorder.proc.alive() || recorder.proc.killedOnPurpose) return false;
          recorder.proc.killedOnPurpose = true;
          recorder.restartAfterMs = Math.round(rng.between(500, 3000));
          recorder.proc.child.kill('SIGKILL');
          count(kind, { pid: recorder.proc.pid, restartInMs: recorder.restartAfterMs });
          return true;
        }
        case 'kill -9 Redis (restarted, AOF)': {
          if (redisDown || !redisProc) return false;
          for (const r of running()) hit(r.id, kind);
          for (const id of currentRun.values()) hit(id, kind);
          redisDown = true;
          const downMs = Math.round(rng.between(1000, 5000));
          redisProc.child.kill('SIGKILL');
          count(kind, { downMs });
          track(
            (async () => {
              await redisProc?.exited;
              await holdUnlessStopped(downMs);
              redisProc = startRedis();
              await waitRedis(30_000);
              redisDown = false;
              log.info('Redis back (from its AOF)');
            })(),
          );
          return true;
        }
        case 'host link cut 10-30 s': {
          const h = rng.pick(Array.from({ length: o.hosts }, (_, i) => i).filter((i) => !cut.has(i)));
          if (h === undefined) return false;
          const holdMs = Math.round(rng.between(10_000, 30_000));
          for (const id of workerRuns(workers.map((_, i) => i).filter((i) => hostOf(i) === h))) hit(id, kind);
          cut.add(h);
          setLink(n, h, false);
          count(kind, { host: h, holdMs });
          track(
            (async () => {
              await holdUnlessStopped(holdMs);
              // Runs that started on the host while it was cut off count as hit too.
              for (const id of workerRuns(workers.map((_, i) => i).filter((i) => hostOf(i) === h))) hit(id, kind);
              setLink(n, h, true);
              cut.delete(h);
              log.info({ host: h }, 'link restored');
            })(),
          );
          return true;
        }
        case 'checkpoint truncated': {
          const files: { runId: string; file: string }[] = [];
          for (const r of running().sort((a, b) => a.id.localeCompare(b.id))) {
            const d = path.join(artifacts, 'runs', r.id, 'checkpoints');
            let names: string[] = [];
            try {
              names = readdirSync(d)
                .filter((f) => f.startsWith('step-'))
                .sort();
            } catch {
              continue;
            }
            const newest = names.at(-1);
            if (newest) files.push({ runId: r.id, file: path.join(d, newest) });
          }
          const v = rng.pick(files);
          if (!v) return false;
          try {
            const size = statSync(v.file).size;
            truncateSync(v.file, Math.floor(size / 2));
          } catch {
            return false;
          }
          hit(v.runId, kind);
          count(kind, { runId: v.runId, file: path.relative(dir, v.file) });
          return true;
        }
      }
    };

    const deadline = t0 + o.minutes * 60_000;
    const bag: FaultKind[] = [];
    let misses = 0;
    for (;;) {
      const s = states();
      const done = terminalCount(s);
      if (done !== lastTerminal) {
        lastTerminal = done;
        lastTerminalAt = Date.now();
      }
      if (done >= o.runs || Date.now() >= deadline) break;
      await sleep(Math.min(4 * o.faultEverySeconds, Math.max(0.2, expo(rng, o.faultEverySeconds))) * 1000);
      if (Date.now() >= deadline) break;
      if (bag.length === 0) bag.push(...rng.shuffle([...BAG]));
      const kind = bag[0] as FaultKind;
      if (inject(kind) || ++misses >= 5) {
        bag.shift();
        misses = 0;
      }
    }
    stopWait();
    log.info({ runs: states() }, 'faults stopped: healing, then waiting for every run to end (grace period)');
    await Promise.all([...inflight]);
    for (const h of [...cut]) setLink(n, h, true);
    cut.clear();
    await waitRedis(30_000);
    const graceUntil = Date.now() + o.graceMinutes * 60_000;
    for (;;) {
      const done = terminalCount(states());
      if (done !== lastTerminal) {
        lastTerminal = done;
        lastTerminalAt = Date.now();
      }
      if (done >= o.runs || Date.now() > graceUntil) break;
      await sleep(1000);
    }
    // Let the recorder drain the stream: nothing pending, nothing undelivered.
    const groupState = async () => {
      const key = `${prefix}:events`;
      const pend = (await client?.xpending(key, 'recorder')) as [number | string, ...unknown[]] | undefined;
      const groups = ((await client?.xinfo('GROUPS', key)) ?? []) as unknown[][];
      const g = groups.find((x) => x[x.indexOf('name') + 1] === 'recorder') ?? [];
      const lagv = g[g.indexOf('lag') + 1];
      const len = await client?.xlen(key);
      const lastDelivered = String(g[g.indexOf('last-delivered-id') + 1] ?? '');
      const info = (await client?.xinfo('STREAM', key)) as unknown[] | undefined;
      const lastId = info ? String(info[info.indexOf('last-generated-id') + 1] ?? '') : '';
      return {
        pending: Number(pend?.[0] ?? -1),
        lag: lagv === null || lagv === undefined ? null : Number(lagv),
        len: Number(len ?? -1),
        undelivered: lastDelivered !== lastId,
        lastDelivered,
        lastId,
      };
    };
    let gs = await groupState().catch(() => null);
    const drainUntil = Date.now() + 60_000;
    while ((gs === null || gs.pending !== 0 || gs.undelivered) && Date.now() < drainUntil) {
      await sleep(1000);
      gs = await groupState().catch(() => null);
    }
    const queueLeft = client
      ? await Promise.all([
          client.llen(`${prefix}:runs:wait`),
          client.llen(`${prefix}:runs:active`),
          client.zcard(`${prefix}:runs:delayed`),
          client.zcard(`${prefix}:runs:prioritized`),
        ]).catch(() => [-1])
      : [-1];
    clearInterval(sampler);
    clearInterval(progress);
    stopping = true;

    // The checks.
    const checks: SoakReport['checks'] = [];
    const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
    const runs = sqlAll<{ id: string; status: string; error: string | null; final_step: number | null; seed: number }>(
      db,
      "SELECT id, status, error, final_step, json_extract(config_json, '$.config.seed') AS seed FROM runs ORDER BY id",
    );
    const byState: Record<string, number> = {};
    for (const r of runs) byState[r.status] = (byState[r.status] ?? 0) + 1;
    check('every run recorded', runs.length === o.runs, `${runs.length} of ${o.runs} runs in SQLite`);
    const unfinished = runs.filter((r) => !TERMINAL.includes(r.status));
    check(
      'every run ended',
      unfinished.length === 0,
      unfinished.length === 0
        ? `all ${runs.length} in a final state`
        : `${unfinished.length} not finished: ${unfinished
            .slice(0, 5)
            .map((r) => `${r.id} ${r.status}`)
            .join(', ')}`,
    );
    const legitFailures: SoakReport['legitFailures'] = [];
    const wrongState: string[] = [];
    for (const r of runs) {
      if (r.status === 'succeeded') {
        if (r.final_step !== o.steps) wrongState.push(`${r.id} succeeded at step ${r.final_step}, not ${o.steps}`);
        continue;
      }
      if (!TERMINAL.includes(r.status)) continue;
      const why = [...(hitBy.get(r.id) ?? [])];
      if (r.status === 'failed' && why.length > 0 && legitFailure(r.error ?? ''))
        legitFailures.push({ runId: r.id, error: (r.error ?? '').split('\n')[0] ?? '', hitBy: why });
      else wrongState.push(`${r.id} ${r.status}${why.length ? ` (hit by ${why.join(', ')})` : ' (no fault hit it)'}: ${(r.error ?? '').split('\n')[0]}`);
    }
    check(
      'every run in the state its history implies',
      wrongState.length === 0,
      wrongState.length === 0
        ? `succeeded, or failed after the faults that hit it (${legitFailures.length})`
        : `${wrongState.length}: ${wrongState.slice(0, 5).join('; ')}`,
    );

    const per = sqlAll<{ run_id: string; name: string; n: number; steps: number; lo: number; hi: number; bad: number }>(
      db,
      `SELECT m.run_id, m.name, count(*) AS n, count(DISTINCT m.step) AS steps, min(m.step) AS lo, max(m.step) AS hi,
         sum(CASE WHEN m.name = 'loss' AND abs(m.value - 1.0 / (m.step + json_extract(r.config_json, '$.config.seed') + 1)) > 1e-9 THEN 1
                  WHEN m.name = 'eval/acc' AND abs(m.value - (m.step * 1.0 / ${o.steps})) > 1e-9 THEN 1 ELSE 0 END) AS bad
       FROM metrics m JOIN runs r ON r.id = m.run_id GROUP BY m.run_id, m.name`,
    );
    const dupes = sqlAll<{ n: number }>(db, 'SELECT count(*) AS n FROM (SELECT 1 FROM metrics GROUP BY run_id, step, name HAVING count(*) > 1)')[0]?.n ?? -1;
    const rows = { expected: 0, present: 0, duplicated: dupes, lost: 0, wrongValue: 0, unexpected: 0 };
    const gaps: string[] = [];
    const names = ['loss', 'eval/acc'];
    const perRun = new Map<string, typeof per>();
    for (const p of per) {
      rows.present += p.n;
      rows.wrongValue += p.bad;
      if (!names.includes(p.name)) rows.unexpected += p.n;
      const l = perRun.get(p.run_id) ?? [];
      l.push(p);
      perRun.set(p.run_id, l);
    }
    for (const r of runs) {
      const ps = perRun.get(r.id) ?? [];
      // A succeeded run: steps 1..steps of each metric. Any other: 1..k for the last step k it reported, no gap.
      const k = r.status === 'succeeded' ? o.steps : Math.max(0, ...ps.map((p) => p.hi));
      rows.expected += names.length * k;
      for (const name of names) {
        const p = ps.find((x) => x.name === name);
        const have = p ? p.steps : 0;
        const inRange = p && p.lo >= 1 && p.hi <= k ? have : 0;
        const lost = k - inRange;
        if (lost > 0) {
          rows.lost += lost;
          gaps.push(`${r.id} ${name}: ${lost} of ${k} steps missing`);
        }
      }
    }
    check(
      'no (run, step, metric) row lost',
      rows.lost === 0,
      rows.lost === 0 ? `${rows.present} rows present of ${rows.expected} expected` : `${rows.lost} lost: ${gaps.slice(0, 5).join('; ')}`,
    );
    check('no row duplicated', dupes === 0, `${dupes} (run, step, metric) keys with more than one row`);
    check(
      'every value as the program computed it',
      rows.wrongValue === 0 && rows.unexpected === 0,
      `${rows.wrongValue} wrong values, ${rows.unexpected} rows of unexpected metrics`,
    );
    check(
      'no event left unacknowledged (XPENDING 0)',
      gs !== null && gs.pending === 0 && !gs.undelivered,
      gs === null ? 'could not read the consumer group' : `pending ${gs.pending}, last delivered ${gs.lastDelivered} of ${gs.lastId}, stream length ${gs.len}`,
    );
    check(
      'no job left in the queue',
      queueLeft.every((x) => x === 0),
      `waiting/active/delayed/prioritized: ${queueLeft.join('/')}`,
    );

    const seconds = Math.max(1, (lastTerminalAt - tSubmitted) / 1000);
    const finished = runs.filter((r) => TERMINAL.includes(r.status)).length;
    const report: SoakReport = {
      ok: checks.every((c) => c.ok),
      seed: o.seed,
      command,
      options: o,
      startedAt: new Date(t0).toISOString(),
      seconds: (Date.now() - t0) / 1000,
      faults,
      unexpectedExits,
      runsByState: byState,
      legitFailures,
      rows,
      throughput: { runsPerMin: (finished / seconds) * 60, rowsPerSec: rows.present / seconds, seconds },
      lag,
      peakRssMb: { recorder: mb(peak.recorder), worker: mb(peak.worker), trainingProcess: mb(peak.training) },
      checks,
      dir,
      table: '',
    };
    report.table = formatTable(report);
    return report;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    stopping = true;
    stopWait();
    for (const s of slots) {
      s.proc.killedOnPurpose = true;
      if (s.proc.alive()) s.proc.child.kill('SIGKILL');
    }
    if (redisProc?.alive()) redisProc.child.kill('SIGKILL');
    client?.disconnect();
    await Promise.all([...slots.map((s) => s.proc.exited), redisProc?.exited]);
    // The training processes of killed workers exit with their IPC channel; make sure, for those still there.
    for (const c of children.values()) if (cmdline(c.pid).includes(c.script)) process.kill(c.pid, 'SIGKILL');
    if (net) destroyNet(net);
    for (const s of logs.values()) s.end();
  }
}

/** Removes the soak's folder, or says where it is kept. */
export function cleanUp(dir: string, keep: boolean): string | null {
  if (keep) return dir;
  rmSync(dir, { recursive: true, force: true });
  return null;
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** "3× recorder exited 2: Redis at … does not answer …", the most frequent first, at most three kinds. */
function exitsSummary(exits: string[]): string {
  const n = new Map<string, number>();
  for (const e of exits) n.set(e, (n.get(e) ?? 0) + 1);
  return (
    [...n]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([e, k]) => `${k}× ${e}`)
      .join('; ') + (n.size > 3 ? `; ${n.size - 3} more kinds` : '')
  );
}

export function formatTable(r: SoakReport): string {
  const o = r.options;
  const out: string[] = [];
  out.push(
    `chaos soak, seed ${r.seed}: ${o.runs} runs × ${o.steps} steps on ${o.workers} workers over ${o.hosts} hosts, faults for up to ${o.minutes} min (every ~${o.faultEverySeconds} s), ${Math.round(r.seconds)} s in all`,
  );
  out.push('');
  out.push(
    table(
      ['fault', 'injected'],
      [...Object.entries(r.faults).map(([k, v]) => [k, String(v)]), ['total', String(Object.values(r.faults).reduce((a, b) => a + b, 0))]],
    ),
  );
  out.push('');
  out.push(
    table(
      ['final state', 'runs'],
      Object.entries(r.runsByState)
        .sort()
        .map(([k, v]) => [k === 'failed' ? 'failed (after the faults that hit them)' : k, String(v)]),
    ),
  );
  out.push('');
  if (r.legitFailures.length > 0) {
    const reasons = new Map<string, number>();
    for (const f of r.legitFailures) reasons.set(failureReason(f.error), (reasons.get(failureReason(f.error)) ?? 0) + 1);
    out.push(
      table(
        ['why the failed runs failed', 'runs'],
        [...reasons].sort().map(([k, v]) => [k, String(v)]),
      ),
    );
    out.push('');
  }
  out.push(
    table(
      ['metric rows (run, step, name)', 'count'],
      [
        ['expected', String(r.rows.expected)],
        ['present', String(r.rows.present)],
        ['lost', String(r.rows.lost)],
        ['duplicated', String(r.rows.duplicated)],
        ['wrong value', String(r.rows.wrongValue)],
      ],
    ),
  );
  out.push('');
  out.push(
    table(
      ['measure', 'value'],
      [
        [
          'throughput',
          `${r.throughput.runsPerMin.toFixed(1)} runs/min, ${r.throughput.rowsPerSec.toFixed(0)} rows/s (over ${r.throughput.seconds.toFixed(0)} s)`,
        ],
        ['recorder worst lag (sampled 1/s)', `stream length ${r.lag.maxStreamLength}, pending ${r.lag.maxPending}, undelivered ${r.lag.maxUndelivered}`],
        ['peak RSS (VmHWM)', `recorder ${r.peakRssMb.recorder} MB, worker ${r.peakRssMb.worker} MB, training process ${r.peakRssMb.trainingProcess} MB`],
        ['exits the soak did not cause (restarted)', r.unexpectedExits.length === 0 ? 'none' : exitsSummary(r.unexpectedExits)],
      ],
    ),
  );
  out.push('');
  out.push(
    table(
      ['check', 'result', 'detail'],
      r.checks.map((c) => [c.name, c.ok ? 'pass' : 'FAIL', c.detail]),
    ),
  );
  out.push('');
  out.push(`${r.ok ? 'PASS' : 'FAIL'}: replay the fault schedule with --seed ${r.seed}`);
  return out.join('\n');
}
