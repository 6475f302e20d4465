import type { Redis } from 'ioredis';
import { decodeEvent, eventStreamKey, RECORDER_GROUP, type RunEvent } from '@ablate/queue';
import { allSweepIds, applyEvents, refreshVariantStats, sweepIdsOfRuns, type ApplyResult, type Store } from '@ablate/store';
import { createLease } from './lease';
import { createStreamReader } from './reader';
import type { StreamEntry } from './stream-replies';

/** A pino-compatible logger (pino's Logger fits); the recorder never imports pino. */
export interface RecorderLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RecorderOptions {
  /** Used for XREADGROUP BLOCK, which holds the connection: give the recorder a client of its own. */
  redis: Redis;
  store: Store;
  prefix: string;
  /** This recorder's consumer name in the group (stable across restarts, e.g. the host name). */
  consumer: string;
  log?: RecorderLog;
  /** Entries per XREADGROUP / XAUTOCLAIM, and so per SQLite transaction. Default 1000. */
  batchSize?: number;
  /** How long XREADGROUP waits for new entries; also the longest stop() waits. Default 1000. */
  blockMs?: number;
  /** Entries pending on another consumer for this long are claimed (XAUTOCLAIM): that recorder died. Default 60000. */
  claimIdleMs?: number;
  /** How often to look for such entries. Default claimIdleMs / 2. */
  claimEveryMs?: number;
  /** Trim the stream up to the oldest entry some group still needs (XTRIM MINID ~), every trimEveryMs. Default true. */
  trimAcked?: boolean;
  trimEveryMs?: number;
  /** First wait after a failed batch (doubles up to 30 s). Default 500. */
  retryDelayMs?: number;
  /**
   * One recorder records at a time: it holds the lease `<prefix>:recorder:lease` (renewed every loop, expiring after
   * leaseMs if it dies); any other recorder stands by and takes over when the lease is free. Default 10000.
   */
  leaseMs?: number;
  /** Sweeps whose runs finished get variant_results / variant_comparisons recomputed at most this often. Default 2000. */
  statsEveryMs?: number;
  now?: () => number;
}

export interface RecorderStats {
  /** Transactions committed (batches with at least one valid event). */
  batches: number;
  /** Stream entries acked (valid, garbage and deleted alike). */
  entries: number;
  /** Valid events handed to applyEvents (applied + unknown run + ignored). */
  events: number;
  eventsApplied: number;
  rowsWritten: number;
  rowsDeleted: number;
  /** Rows of an older attempt delivered after a newer attempt's start, dropped (see applyEvents). */
  staleRows: number;
  /** Events for run ids that are not in the database: skipped. */
  skippedUnknownRun: number;
  /** Stale or replayed run-started / run-finished. */
  ignored: number;
  /** Garbage entries (did not decode) and events SQLite refused: logged, acked, skipped. */
  rejected: number;
  /** Entries taken over from dead consumers. */
  claimed: number;
  /** Failed batches (Redis or SQLite); they are retried. */
  errors: number;
  /** Times this recorder took the lease (1 when it has recorded since it started; 0 while standing by). */
  leases: number;
}

export interface Recorder {
  readonly stats: Readonly<RecorderStats>;
  /** The loop: runs until stop(). Never throws for a failed batch (logs, backs off, retries); throws only if the group cannot be created at the start. */
  run(): Promise<void>;
  /** Asks the loop to stop after the current batch (at most ~blockMs) and waits for it. */
  stop(): Promise<void>;
  /** Without blocking: this consumer's pending entries, claimable idle ones, then new ones until none are left. Returns entries processed. Not while run() is going. */
  drain(): Promise<number>;
}

const NOOP_LOG: RecorderLog = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** SQLite errors caused by the data itself, not by the moment: retrying the same batch would fail again. */
function isPoisonError(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  // Duck-typed: errors thrown by the native addon may come from another realm (jest's vm contexts).
  const name = 'name' in err ? err.name : undefined;
  if (name === 'TypeError' || name === 'RangeError') return true; // bad bind values
  const code = 'code' in err ? err.code : undefined;
  return typeof code === 'string' && /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/.test(code);
}

/**
 * The recorder: the only writer of SQLite. Reads `<prefix>:events` with the consumer group `recorder`:
 * 1. XGROUP CREATE <key> recorder 0 MKSTREAM (BUSYGROUP ignored): at 0, so what workers emitted before the first
 *    recorder ever started is recorded too.
 * 2. This consumer's own pending entries (XREADGROUP … 0): delivered before a crash, maybe applied, never acked.
 * 3. XAUTOCLAIM entries idle longer than claimIdleMs on other (dead) consumers.
 * 4. XREADGROUP … BLOCK blockMs COUNT batchSize … >.
 * Each batch: decode (garbage is logged, counted and acked), applyEvents in ONE transaction, XACK after COMMIT. A crash
 * between COMMIT and XACK replays the batch, which applyEvents makes harmless. On a Redis or SQLite error the batch is
 * not acked; the loop backs off and re-reads its pending entries first, so order and completeness hold.
 */
export function createRecorder(opts: RecorderOptions): Recorder {
  const { redis, store, consumer } = opts;
  const key = eventStreamKey(opts.prefix);
  const group = RECORDER_GROUP;
  const log = opts.log ?? NOOP_LOG;
  const batchSize = opts.batchSize ?? 1000;
  const blockMs = opts.blockMs ?? 1000;
  const claimIdleMs = opts.claimIdleMs ?? 60_000;
  const claimEveryMs = opts.claimEveryMs ?? Math.max(1, Math.floor(claimIdleMs / 2));
  const trimAcked = opts.trimAcked ?? true;
  const trimEveryMs = opts.trimEveryMs ?? 10_000;
  const retryDelayMs = opts.retryDelayMs ?? 500;
  const now = opts.now ?? Date.now;
  const leaseMs = opts.leaseMs ?? 10_000;
  const lease = createLease(redis, opts.prefix, consumer, leaseMs);
  const reader = createStreamReader(redis, key, group, consumer, batchSize);

  const stats: RecorderStats = {
    batches: 0,
    entries: 0,
    events: 0,
    eventsApplied: 0,
    rowsWritten: 0,
    rowsDeleted: 0,
    staleRows: 0,
    skippedUnknownRun: 0,
    ignored: 0,
    rejected: 0,
    claimed: 0,
    errors: 0,
    leases: 0,
  };
  let stopping = false;
  let running: Promise<void> | null = null;
  let wake: (() => void) | null = null;

  const ensureGroup = async (): Promise<void> => {
    if (await reader.ensureGroup()) log.info({ stream: key, group }, 'created consumer group');
  };

  const count = (r: ApplyResult): void => {
    stats.events += r.events;
    stats.eventsApplied += r.applied;
    stats.rowsWritten += r.rowsWritten;
    stats.rowsDeleted += r.rowsDeleted;
    stats.staleRows += r.staleRows;
    stats.skippedUnknownRun += r.unknownRun;
    stats.ignored += r.ignored;
    if (r.unknownRun > 0) log.warn({ count: r.unknownRun, runIds: r.unknownRunIds }, 'skipped events of unknown runs');
  };

  /** Sweeps with runs that finished since their statistics were last computed (null: all sweeps, at start). */
  let dirtySweeps: Set<string> | null = null;
  let lastStats = -Infinity;
  const statsEveryMs = opts.statsEveryMs ?? 2000;
  const markFinished = (events: readonly RunEvent[]): void => {
    const finished = events.filter((e) => e.kind === 'run-finished').map((e) => e.runId);
    if (finished.length === 0 || dirtySweeps === null) return;
    for (const id of sweepIdsOfRuns(store, finished)) dirtySweeps.add(id);
  };
  /** Recomputes the seed statistics of the sweeps that need it; a failure is logged, never fails recording. */
  const refreshStats = (force = false): void => {
    if (dirtySweeps !== null && dirtySweeps.size === 0) return;
    if (!force && now() - lastStats < statsEveryMs) return;
    lastStats = now();
    const ids = dirtySweeps === null ? allSweepIds(store) : [...dirtySweeps];
    dirtySweeps = new Set();
    for (const id of ids) {
      try {
        const r = refreshVariantStats(store, id);
        log.debug({ sweepId: id, ...r }, 'variant statistics refreshed');
      } catch (err: unknown) {
        log.warn({ err, sweepId: id }, 'could not refresh variant statistics');
      }
    }
  };

  /** Applies a batch; if SQLite refuses the data itself, applies event by event and rejects the bad ones. */
  const apply = (events: RunEvent[], ids: string[]): void => {
    if (events.length === 0) return;
    markFinished(events);
    try {
      count(applyEvents(store, events, ids));
      stats.batches += 1;
      return;
    } catch (err: unknown) {
      if (!isPoisonError(err)) throw err;
      log.warn({ err, count: events.length }, 'batch refused by SQLite; applying its events one by one');
    }
    events.forEach((e, i) => {
      try {
        count(applyEvents(store, [e], ids.slice(i, i + 1)));
        stats.batches += 1;
      } catch (err: unknown) {
        if (!isPoisonError(err)) throw err;
        stats.rejected += 1;
        log.error({ err, entryId: ids[i], runId: e.runId, kind: e.kind }, 'event refused by SQLite; skipping it');
      }
    });
  };

  const processEntries = async (entries: StreamEntry[]): Promise<void> => {
    if (entries.length === 0) return;
    const events: RunEvent[] = [];
    const eventIds: string[] = [];
    for (const [id, fields] of entries) {
      if (fields === null) {
        stats.rejected += 1;
        log.warn({ entryId: id, reason: 'the entry was deleted from the stream before it was acked' }, 'skipping bad event');
        continue;
      }
      try {
        events.push(decodeEvent(fields, `event ${id}`));
        eventIds.push(id);
      } catch (err: unknown) {
        stats.rejected += 1;
        log.warn({ entryId: id, reason: err instanceof Error ? err.message : String(err) }, 'skipping bad event');
      }
    }
    apply(events, eventIds); // COMMIT …
    await reader.ack(entries.map(([id]) => id)); // … then XACK
    stats.entries += entries.length;
    log.debug({ entries: entries.length, events: events.length, rowsWritten: stats.rowsWritten }, 'recorded batch');
  };

  const processPending = async (): Promise<number> => {
    let n = 0;
    let from = '0';
    for (;;) {
      const entries = await reader.pending(from);
      if (entries.length === 0) return n;
      await processEntries(entries);
      n += entries.length;
      from = entries[entries.length - 1]?.[0] ?? from;
    }
  };

  /** XAUTOCLAIMs and records the entries idle for at least `minIdleMs` on other consumers. */
  const claimIdle = async (minIdleMs = claimIdleMs, whose = 'a dead consumer'): Promise<number> => {
    let n = 0;
    let cursor = '0-0';
    do {
      const r = await reader.claim(minIdleMs, cursor);
      if (r.entries.length > 0) log.warn({ entries: r.entries.length, from: r.entries[0]?.[0] }, `claimed entries of ${whose}`);
      stats.claimed += r.entries.length;
      await processEntries(r.entries);
      n += r.entries.length;
      cursor = r.cursor;
    } while (cursor !== '0-0' && !stopping);
    return n;
  };

  const readNew = async (block: number | null): Promise<number> => {
    const entries = await reader.readNew(block);
    await processEntries(entries);
    return entries.length;
  };

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        wake = null;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(t);
        wake = null;
        resolve();
      };
    });

  const loop = async (): Promise<void> => {
    await ensureGroup();
    log.info({ stream: key, group, consumer }, 'recorder started');
    let needPending = true;
    let lastClaim = -Infinity;
    let lastTrim = now();
    let delay = retryDelayMs;
    let standingBy: string | null = null;
    let takeover = false;
    while (!stopping) {
      try {
        const l = await lease.renew();
        if (l !== 'renewed' && l !== 'acquired') {
          if (standingBy !== l) log.info({ holder: l }, 'another recorder holds the lease: standing by');
          standingBy = l;
          await sleep(Math.min(1000, leaseMs / 2));
          continue;
        }
        if (l === 'acquired') {
          stats.leases += 1;
          if (standingBy !== null) log.info({}, 'took over the lease: recording');
          takeover = standingBy !== null;
          standingBy = null;
          needPending = true;
        }
        if (takeover) {
          // The holder is gone (its lease ran out): its unacked entries are ours now, without the usual idle wait.
          await claimIdle(Math.min(leaseMs, claimIdleMs), 'the previous lease holder');
          takeover = false;
        }
        if (needPending) {
          // After an error the stream or the group may be gone (a Redis restart without persistence): recreate it.
          if (stats.errors > 0) await ensureGroup();
          const n = await processPending();
          if (n > 0) log.info({ entries: n }, 're-read pending entries');
          needPending = false;
        }
        if (now() - lastClaim >= claimEveryMs) {
          await claimIdle();
          lastClaim = now();
        }
        if (stopping) break;
        await readNew(blockMs);
        refreshStats();
        if (trimAcked && now() - lastTrim >= trimEveryMs) {
          lastTrim = now();
          await reader.trim();
        }
        delay = retryDelayMs;
      } catch (err: unknown) {
        stats.errors += 1;
        needPending = true;
        log.error({ err, retryInMs: delay }, 'recorder batch failed; will retry');
        if (!stopping) await sleep(delay);
        delay = Math.min(delay * 2, 30_000);
      }
    }
    await lease.release().catch(() => undefined);
    log.info({ ...stats }, 'recorder stopped');
  };

  return {
    stats,
    run() {
      if (running !== null) return running;
      stopping = false;
      running = loop().finally(() => {
        running = null;
      });
      return running;
    },
    async stop() {
      stopping = true;
      wake?.();
      await running;
    },
    async drain() {
      await ensureGroup();
      const l = await lease.renew();
      if (l !== 'renewed' && l !== 'acquired') return 0; // another recorder is recording
      if (l === 'acquired') stats.leases += 1;
      let n = await processPending();
      n += await claimIdle();
      for (;;) {
        const got = await readNew(null);
        if (got === 0) break;
        n += got;
      }
      if (trimAcked) await reader.trim();
      refreshStats(true);
      await lease.release();
      return n;
    },
  };
}
