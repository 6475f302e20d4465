import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Store } from './open-store';
import { RUN_STATUSES, runs, sweeps, type RunRow, type RunStatus, type SweepRow } from './schema';

export interface SweepInput {
  id: string;
  name: string;
  /** The sweep YAML it came from. */
  file: string;
  /** The parsed sweep spec (stored as JSON). */
  spec: unknown;
}

/** Creates the sweep or updates its name, file and spec (created_at is kept). */
export function upsertSweep(store: Store, sweep: SweepInput, now: number = Date.now()): SweepRow {
  const [row] = store.db
    .insert(sweeps)
    .values({ id: sweep.id, name: sweep.name, file: sweep.file, specJson: sweep.spec, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({ target: sweeps.id, set: { name: sweep.name, file: sweep.file, specJson: sweep.spec, updatedAt: now } })
    .returning()
    .all();
  if (row === undefined) throw new Error(`upsertSweep returned no row for ${sweep.id}`);
  return row;
}

export interface RunInput {
  /** The run id (hash of the resolved config), also the BullMQ job id. */
  id: string;
  idx: number;
  label: string;
  /** The swept values of this run, e.g. { 'prior.mu_init': 'zero', seed: 1 }. */
  variant: Record<string, unknown>;
  /** The resolved run config. */
  config: unknown;
  /** Runs that differ only in seed share it. Default: variantGroupOf(variant). */
  variantGroup?: string;
}

/** `prior.mu_init=zero prior.mu_std=0.02`: the variant without its `seed`, as sweep_results groups runs. */
export function variantGroupOf(variant: Record<string, unknown>): string {
  const parts = Object.entries(variant)
    .filter(([k]) => k !== 'seed')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return parts.length === 0 ? '(base)' : parts.join(' ');
}

const CHUNK = 500; // rows per INSERT: 9 columns × 500 stays far below SQLite's variable limit

/**
 * Inserts the runs of a sweep as 'queued', in one transaction. Runs that already exist (a re-submitted sweep) are left
 * as they are (ON CONFLICT DO NOTHING). Returns the ids that are new, in input order: the ones to enqueue.
 */
export function insertRuns(store: Store, sweepId: string, input: readonly RunInput[], now: number = Date.now()): string[] {
  const tx = store.sqlite.transaction((): string[] => {
    const fresh = new Set<string>();
    for (let i = 0; i < input.length; i += CHUNK) {
      const values = input.slice(i, i + CHUNK).map((r) => ({
        id: r.id,
        sweepId,
        idx: r.idx,
        label: r.label,
        variantGroup: r.variantGroup ?? variantGroupOf(r.variant),
        variantJson: r.variant,
        configJson: r.config,
        status: 'queued' as const,
        queuedAt: now,
      }));
      for (const { id } of store.db.insert(runs).values(values).onConflictDoNothing().returning({ id: runs.id }).all()) fresh.add(id);
    }
    const out: string[] = [];
    for (const r of input) if (fresh.delete(r.id)) out.push(r.id);
    return out;
  });
  return tx.immediate();
}

export interface SetRunStatusOptions {
  /** Change only a run whose status is one of these (e.g. cancel only queued or running runs). */
  from?: readonly RunStatus[];
  /** Stored in runs.error (null clears it). */
  error?: string | null;
  now?: number;
}

/**
 * Sets a run's status from outside the event stream (scheduler: cancel, requeue). 'queued' resets queued_at and clears
 * finished_at and error; a final status sets finished_at. Returns whether the run changed.
 */
export function setRunStatus(store: Store, runId: string, status: RunStatus, opts: SetRunStatusOptions = {}): boolean {
  const now = opts.now ?? Date.now();
  const set: Partial<typeof runs.$inferInsert> = { status };
  if (status === 'queued') Object.assign(set, { queuedAt: now, finishedAt: null, error: null });
  else if (status !== 'running') set.finishedAt = now;
  if (opts.error !== undefined) set.error = opts.error;
  const where = opts.from === undefined ? eq(runs.id, runId) : and(eq(runs.id, runId), inArray(runs.status, [...opts.from]));
  return store.db.update(runs).set(set).where(where).run().changes > 0;
}

export function getRun(store: Store, runId: string): RunRow | undefined {
  return store.db.select().from(runs).where(eq(runs.id, runId)).get();
}

export function getSweep(store: Store, sweepId: string): SweepRow | undefined {
  return store.db.select().from(sweeps).where(eq(sweeps.id, sweepId)).get();
}

/** The runs of a sweep in expansion order. */
export function runsBySweep(store: Store, sweepId: string): RunRow[] {
  return store.db.select().from(runs).where(eq(runs.sweepId, sweepId)).orderBy(asc(runs.idx), asc(runs.id)).all();
}

export type RunStatusCounts = Record<RunStatus, number> & { total: number };

/** How many runs of the sweep are in each status (every status present, 0 when none), and the total. */
export function runStatusCounts(store: Store, sweepId: string): RunStatusCounts {
  const counts = Object.fromEntries(RUN_STATUSES.map((s) => [s, 0])) as Record<RunStatus, number>;
  let total = 0;
  const rows = store.db
    .select({ status: runs.status, n: sql<number>`count(*)` })
    .from(runs)
    .where(eq(runs.sweepId, sweepId))
    .groupBy(runs.status)
    .all();
  for (const { status, n } of rows) {
    counts[status] = n;
    total += n;
  }
  return { ...counts, total };
}
