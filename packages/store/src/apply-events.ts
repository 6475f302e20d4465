import { and, eq, gt, Param, Placeholder, sql, type Query } from 'drizzle-orm';
import type { Statement } from 'better-sqlite3';
import type { RunEvent, RunFinishedEvent, RunReleasedEvent, RunStatusFinal } from '@ablate/events';
import type { Store } from './open-store';
import { artifacts, checkpoints, confusion, metrics, muNorms, runs, type RunStatus } from './schema';
import { compareStreamIds } from './stream-ids';

/** What one applyEvents call did. */
export interface ApplyResult {
  events: number;
  /** Events that changed or could have changed something (inserts may still have been replays). */
  applied: number;
  /** Events whose run id is not in `runs`: skipped. */
  unknownRun: number;
  /** Up to 10 of those run ids, for the log. */
  unknownRunIds: string[];
  /** run-started / run-finished that were stale or replays (see applyEvents), or a transition not allowed. */
  ignored: number;
  /** Rows inserted or updated. A replayed batch writes 0 rows. */
  rowsWritten: number;
  /** Rows deleted by a run-started that resumed from a checkpoint (the tail of the attempt that died). */
  rowsDeleted: number;
  /** Rows of an older attempt past the newest attempt's resume step, delivered late: dropped (needs entry ids). */
  staleRows: number;
}

/**
 * Which final status may replace which. A report never downgrades a known outcome:
 * - queued, running, failed → anything (a retry after a failure may succeed);
 * - cancelled → succeeded or diverged (the run really ended so before it saw the cancel), or cancelled again; not failed;
 * - diverged → succeeded (a later attempt) or diverged; not failed or cancelled;
 * - succeeded → stays succeeded.
 */
const FINISH_ALLOWED: Record<RunStatus, readonly RunStatusFinal[]> = {
  queued: ['succeeded', 'failed', 'cancelled', 'diverged'],
  running: ['succeeded', 'failed', 'cancelled', 'diverged'],
  failed: ['succeeded', 'failed', 'cancelled', 'diverged'],
  cancelled: ['succeeded', 'diverged', 'cancelled'],
  diverged: ['succeeded', 'diverged'],
  succeeded: ['succeeded'],
};

interface RunState {
  status: RunStatus;
  attempts: number;
  startedAt: number | null;
  finishedAt: number | null;
  resumedFrom: number | null;
  startedEntry: string | null;
}

type Statements = ReturnType<typeof prepare>;

/**
 * The better-sqlite3 statement of a drizzle query built with placeholders, checked to take them in `order`. The SQL is
 * still drizzle's (from the schema); only drizzle's per-call parameter mapping is skipped, which is ~⅓ of the cost of
 * an insert on the recorder's hot path (metrics, mu_norms).
 */
function rawStatement(store: Store, query: Query, order: readonly string[]): Statement {
  const names = query.params.map((p) => (p instanceof Param && p.value instanceof Placeholder ? p.value.name : p instanceof Placeholder ? p.name : '?'));
  if (names.join(',') !== order.join(',')) throw new Error(`statement parameters are (${names.join(', ')}), expected (${order.join(', ')}): ${query.sql}`);
  return store.sqlite.prepare(query.sql);
}
const statementsByStore = new WeakMap<Store, Statements>();

function prepare(store: Store) {
  const { db } = store;
  const p = sql.placeholder;
  return {
    runState: db
      .select({
        status: runs.status,
        attempts: runs.attempts,
        startedAt: runs.startedAt,
        finishedAt: runs.finishedAt,
        resumedFrom: runs.resumedFrom,
        startedEntry: runs.startedEntry,
      })
      .from(runs)
      .where(eq(runs.id, p('runId')))
      .prepare(),
    /** (runId, step, name, value) */
    metric: rawStatement(
      store,
      db
        .insert(metrics)
        .values({ runId: p('runId'), step: p('step'), name: p('name'), value: p('value') })
        .onConflictDoNothing()
        .toSQL(),
      ['runId', 'step', 'name', 'value'],
    ),
    /** (runId, step, class, norm) */
    muNorm: rawStatement(
      store,
      db
        .insert(muNorms)
        .values({ runId: p('runId'), step: p('step'), class: p('class'), norm: p('norm') })
        .onConflictDoNothing()
        .toSQL(),
      ['runId', 'step', 'class', 'norm'],
    ),
    /** (runId, step, kind, temperature, judge, trueClass, predictedClass, count) */
    confusion: rawStatement(
      store,
      db
        .insert(confusion)
        .values({
          runId: p('runId'),
          step: p('step'),
          kind: p('kind'),
          temperature: p('temperature'),
          judge: p('judge'),
          trueClass: p('trueClass'),
          predictedClass: p('predictedClass'),
          count: p('count'),
        })
        .onConflictDoNothing()
        .toSQL(),
      ['runId', 'step', 'kind', 'temperature', 'judge', 'trueClass', 'predictedClass', 'count'],
    ),
    checkpoint: db
      .insert(checkpoints)
      .values({ runId: p('runId'), step: p('step'), uri: p('uri'), bytes: p('bytes'), sha256: p('sha256') })
      .onConflictDoNothing()
      .prepare(),
    artifact: db
      .insert(artifacts)
      .values({ runId: p('runId'), step: p('step'), kind: p('kind'), uri: p('uri') })
      .onConflictDoNothing()
      .prepare(),
    deleteAfter: [metrics, muNorms, confusion, checkpoints, artifacts].map((t) =>
      db
        .delete(t)
        .where(and(eq(t.runId, p('runId')), gt(t.step, p('step'))))
        .prepare(),
    ),
  };
}

function statements(store: Store): Statements {
  let s = statementsByStore.get(store);
  if (s === undefined) {
    s = prepare(store);
    statementsByStore.set(store, s);
  }
  return s;
}

/** What an event handler works with: the store, its prepared statements, and the batch's result to count into. */
interface Batch {
  store: Store;
  st: Statements;
  result: ApplyResult;
}

/** Whether a row at `step` of an event with entry id `entryId` belongs to an attempt older than the newest start. */
function isStale(b: Batch, s: RunState, entryId: string | undefined, step: number): boolean {
  if (entryId === undefined || s.startedEntry === null || step <= (s.resumedFrom ?? -1)) return false;
  if (compareStreamIds(entryId, s.startedEntry) >= 0) return false;
  b.result.staleRows += 1;
  return true;
}

/** Whether an event (a finish or a release) is older than the run's newest start: from an older attempt. */
function olderThanStart(e: RunFinishedEvent | RunReleasedEvent, s: RunState, entryId: string | undefined): boolean {
  return entryId !== undefined && s.startedEntry !== null ? compareStreamIds(entryId, s.startedEntry) < 0 : s.startedAt !== null && e.at < s.startedAt;
}

/** One handler per event kind: false when the event was ignored (stale, a replay, a transition not allowed). */
type Handler<E extends RunEvent> = (b: Batch, e: E, s: RunState, entryId: string | undefined) => boolean;

const HANDLERS: { [K in RunEvent['kind']]: Handler<Extract<RunEvent, { kind: K }>> } = {
  metrics(b, e, s, entryId) {
    for (const r of e.rows) {
      if (!isStale(b, s, entryId, r.step)) b.result.rowsWritten += b.st.metric.run(e.runId, r.step, r.name, r.value).changes;
    }
    return true;
  },
  'mu-norms'(b, e, s, entryId) {
    if (isStale(b, s, entryId, e.step)) {
      b.result.staleRows += e.norms.length - 1;
      return true;
    }
    e.norms.forEach((norm, c) => {
      b.result.rowsWritten += b.st.muNorm.run(e.runId, e.step, c, norm).changes;
    });
    return true;
  },
  confusion(b, e, s, entryId) {
    if (isStale(b, s, entryId, e.step)) return true;
    e.matrix.forEach((row, c) =>
      row.forEach((count, k) => {
        b.result.rowsWritten += b.st.confusion.run(e.runId, e.step, e.sampleKind ?? 'denoised', e.temperature ?? 1, e.judge ?? 'cnn-v1', c, k, count).changes;
      }),
    );
    return true;
  },
  checkpoint(b, e, s, entryId) {
    if (!isStale(b, s, entryId, e.step))
      b.result.rowsWritten += b.st.checkpoint.run({ runId: e.runId, step: e.step, uri: e.uri, bytes: e.bytes, sha256: e.sha256 }).changes;
    return true;
  },
  artifact(b, e, s, entryId) {
    if (!isStale(b, s, entryId, e.step)) b.result.rowsWritten += b.st.artifact.run({ runId: e.runId, step: e.step, kind: e.artifact, uri: e.uri }).changes;
    return true;
  },
  'run-started'(b, e, s, entryId) {
    const newer =
      entryId !== undefined && s.startedEntry !== null
        ? compareStreamIds(entryId, s.startedEntry) > 0
        : s.startedAt === null || e.at > s.startedAt || (e.at === s.startedAt && e.attempt > s.attempts);
    if (!newer) return false;
    // Succeeded and diverged are final: the id is the config's hash and no sweep runs such a run again, so a start after
    // it comes from a copy that lost its job (cut off from Redis past its lock) and must neither reopen the run nor
    // delete its rows.
    if (s.status === 'succeeded' || s.status === 'diverged') return false;
    for (const del of b.st.deleteAfter) b.result.rowsDeleted += del.run({ runId: e.runId, step: e.resumeFrom ?? -1 }).changes;
    const status: RunStatus = s.status === 'cancelled' ? 'cancelled' : 'running';
    b.result.rowsWritten += b.store.db
      .update(runs)
      .set({
        status,
        attempts: e.attempt,
        workerHost: e.host,
        workerId: e.workerId,
        backend: e.backend,
        device: e.device,
        resumedFrom: e.resumeFrom,
        startedEntry: entryId ?? null,
        startedAt: e.at,
        finishedAt: null,
        error: null,
      })
      .where(eq(runs.id, e.runId))
      .run().changes;
    Object.assign(s, { status, attempts: e.attempt, startedAt: e.at, finishedAt: null, resumedFrom: e.resumeFrom, startedEntry: entryId ?? null });
    return true;
  },
  /** A released run goes back to queued, unless a newer start (or a finish) has been recorded since. */
  'run-released'(b, e, s, entryId) {
    if (s.status !== 'running') return false;
    if (olderThanStart(e, s, entryId)) return false;
    b.result.rowsWritten += b.store.db.update(runs).set({ status: 'queued' }).where(eq(runs.id, e.runId)).run().changes;
    s.status = 'queued';
    return true;
  },
  'run-finished'(b, e, s, entryId) {
    if (olderThanStart(e, s, entryId)) return false; // from an attempt older than the newest start
    if (s.status === e.status && s.finishedAt === e.at) return false; // replay
    if (!FINISH_ALLOWED[s.status].includes(e.status)) return false;
    b.result.rowsWritten += b.store.db
      .update(runs)
      .set({ status: e.status, finalStep: e.finalStep, elapsedMs: e.elapsedMs ?? null, error: e.error ?? null, finishedAt: e.at })
      .where(eq(runs.id, e.runId))
      .run().changes;
    Object.assign(s, { status: e.status, finishedAt: e.at });
    return true;
  },
};

function handle(b: Batch, e: RunEvent, s: RunState, entryId: string | undefined): boolean {
  return (HANDLERS[e.kind] as Handler<RunEvent>)(b, e, s, entryId);
}

/**
 * The recorder's write path: applies a batch of events in ONE synchronous transaction (BEGIN IMMEDIATE), so the batch
 * is all in or all out, and is idempotent, so a batch replayed after a crash between COMMIT and XACK changes nothing:
 *
 * - metrics, mu-norms, confusion, checkpoint, artifact: INSERT … ON CONFLICT DO NOTHING on (run_id, step, name | class |
 *   (true, predicted) class | ∅ | kind).
 * - run-started is applied only if it is newer than the start already recorded: later in the stream (entry id greater
 *   than runs.started_entry) when entry ids are given, else later in time (at > runs.started_at; same `at`: higher
 *   attempt). A replay or a late event of an older attempt is ignored, and so is any start of a succeeded run (a stale
 *   copy's: succeeded runs are never run again). Stream order does not depend on the workers'
 *   clocks, and attempt numbers are not used for order because a re-enqueued run starts again at attempt 1. When applied it sets
 *   status running (a 'cancelled' run stays cancelled), attempts, worker, backend, device, resumed_from, started_at,
 *   clears finished_at/error, and deletes the run's metrics, mu_norms, confusion, checkpoints and artifacts with step > resumeFrom
 *   (all of them when resumeFrom is null: a fresh start). Those rows came from an attempt that died after its
 *   checkpoint; the new attempt writes them again, so each (run, step, metric) exists once, from the attempt that lived.
 * - run-finished is ignored if older than the newest start (entry id < started_entry, or without ids at < started_at), if it is a replay (same status and
 *   finished_at), or if FINISH_ALLOWED forbids the transition (never cancelled → failed, never succeeded → anything).
 *   Otherwise it sets status, final_step, elapsed_ms, error, finished_at = at.
 * - run-released (the run checkpointed and went back on the queue) sets a running run back to queued, unless it is older
 *   than the newest start.
 * - An event for a run id that is not in `runs` is skipped and counted, never thrown.
 * - With `entryIds` (the stream entry id of each event, as the recorder passes them), a run-started also records its
 *   entry id (so later starts and finishes are ordered by the stream), and a data row whose entry precedes the newest run-started (so from an older attempt) and whose step is
 *   past that attempt's resume step is dropped: a dead attempt's tail delivered late (a replay after a crash between
 *   COMMIT and XACK, or entries claimed from a dead recorder) cannot creep back in.
 *
 * Throws only on SQLite errors (e.g. SQLITE_BUSY past busy_timeout); the transaction is then rolled back.
 */
export function applyEvents(store: Store, events: readonly RunEvent[], entryIds?: readonly string[]): ApplyResult {
  if (entryIds !== undefined && entryIds.length !== events.length)
    throw new RangeError(`applyEvents: ${events.length} events but ${entryIds.length} entry ids`);
  const st = statements(store);
  const result: ApplyResult = { events: events.length, applied: 0, unknownRun: 0, unknownRunIds: [], ignored: 0, rowsWritten: 0, rowsDeleted: 0, staleRows: 0 };
  const batch: Batch = { store, st, result };
  const known = new Map<string, RunState | null>();
  const stateOf = (runId: string): RunState | null => {
    let s = known.get(runId);
    if (s === undefined) {
      s = st.runState.get({ runId }) ?? null;
      known.set(runId, s);
    }
    return s;
  };

  const apply = (): void => {
    events.forEach((e, i) => {
      const s = stateOf(e.runId);
      if (s === null) {
        result.unknownRun += 1;
        if (result.unknownRunIds.length < 10 && !result.unknownRunIds.includes(e.runId)) result.unknownRunIds.push(e.runId);
        return;
      }
      if (handle(batch, e, s, entryIds?.[i])) result.applied += 1;
      else result.ignored += 1;
    });
  };
  store.sqlite.transaction(apply).immediate();
  return result;
}
