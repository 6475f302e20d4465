import type { Store } from './open-store';
import { RUN_STATUSES, type RunStatus } from './schema';

/**
 * Read-side queries for `pnpm status` and `pnpm ui`: few statements, each answering for a whole sweep, so that a
 * 10,000-run sweep reads in milliseconds. Plain prepared SQL (better-sqlite3) where drizzle cannot express a
 * correlated subquery on the WITHOUT ROWID metrics key.
 */

export type StatusCounts = Record<RunStatus, number> & { total: number };

function emptyCounts(): StatusCounts {
  return { ...(Object.fromEntries(RUN_STATUSES.map((s) => [s, 0])) as Record<RunStatus, number>), total: 0 };
}

export interface SweepOverview {
  id: string;
  name: string;
  file: string;
  createdAt: number;
  updatedAt: number;
  counts: StatusCounts;
}

/** Every sweep (oldest first) with its run counts per status, in two statements. */
export function listSweeps(store: Store): SweepOverview[] {
  const sweeps = store.sqlite
    .prepare('SELECT id, name, file, created_at AS createdAt, updated_at AS updatedAt FROM sweeps ORDER BY created_at, id')
    .all() as Omit<SweepOverview, 'counts'>[];
  const rows = store.sqlite
    .prepare(
      'SELECT sr.sweep_id AS sweepId, r.status AS status, count(*) AS n FROM sweep_runs sr JOIN runs r ON r.id = sr.run_id GROUP BY sr.sweep_id, r.status',
    )
    .all() as { sweepId: string; status: RunStatus; n: number }[];
  const counts = new Map<string, StatusCounts>();
  for (const { sweepId, status, n } of rows) {
    const c = counts.get(sweepId) ?? emptyCounts();
    c[status] = n;
    c.total += n;
    counts.set(sweepId, c);
  }
  return sweeps.map((s) => ({ ...s, counts: counts.get(s.id) ?? emptyCounts() }));
}

/** A sweep by id, or else the newest sweep with that name; undefined when neither exists. */
export function findSweepId(store: Store, ref: string): string | undefined {
  const byId = store.sqlite.prepare('SELECT id FROM sweeps WHERE id = ?').get(ref) as { id: string } | undefined;
  if (byId) return byId.id;
  return (store.sqlite.prepare('SELECT id FROM sweeps WHERE name = ? ORDER BY created_at DESC LIMIT 1').get(ref) as { id: string } | undefined)?.id;
}

export interface VariantCounts {
  /** sweep_runs.variant_group: the run's swept values without its seed. */
  variantGroup: string;
  /** Smallest idx of the variant's runs (sweep order). */
  firstIdx: number;
  counts: StatusCounts;
}

/** Run counts per status for each variant of the sweep (runs that differ only in seed), in sweep order. One statement. */
export function variantStatusCounts(store: Store, sweepId: string): VariantCounts[] {
  const rows = store.sqlite
    .prepare(
      `SELECT sr.variant_group AS variantGroup, r.status AS status, count(*) AS n, min(sr.idx) AS firstIdx
       FROM sweep_runs sr JOIN runs r ON r.id = sr.run_id WHERE sr.sweep_id = ? GROUP BY sr.variant_group, r.status`,
    )
    .all(sweepId) as { variantGroup: string; status: RunStatus; n: number; firstIdx: number }[];
  const byGroup = new Map<string, VariantCounts>();
  for (const { variantGroup, status, n, firstIdx } of rows) {
    const v = byGroup.get(variantGroup) ?? { variantGroup, firstIdx, counts: emptyCounts() };
    v.counts[status] = n;
    v.counts.total += n;
    v.firstIdx = Math.min(v.firstIdx, firstIdx);
    byGroup.set(variantGroup, v);
  }
  return [...byGroup.values()].sort((a, b) => a.firstIdx - b.firstIdx);
}

/** A run of a sweep with where it stands: status, newest step and loss, worker, timing. */
export interface RunProgress {
  runId: string;
  idx: number;
  label: string;
  variantGroup: string;
  status: RunStatus;
  attempts: number;
  workerHost: string | null;
  workerId: string | null;
  backend: string | null;
  device: string | null;
  /** The newest step with a training loss (or the run's final step when it has none); 0 before the first. */
  step: number;
  /** train.steps of the run's config (null if the config has none). */
  totalSteps: number | null;
  /** Training loss at `step` (null: none yet, or NaN). */
  loss: number | null;
  /** eval/accuracy at its newest eval (null: none yet). */
  accuracy: number | null;
  /** Checkpoint step the newest attempt resumed from. */
  resumedFrom: number | null;
  queuedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  elapsedMs: number | null;
  error: string | null;
}

export interface RunProgressQuery {
  /** Only runs in these statuses. */
  status?: readonly RunStatus[];
  /** Only these runs. */
  runIds?: readonly string[];
  limit?: number;
  offset?: number;
}

const PROGRESS_SELECT = `SELECT r.id AS runId, sr.idx AS idx, sr.label AS label, sr.variant_group AS variantGroup, r.status AS status,
  r.attempts AS attempts, r.worker_host AS workerHost, r.worker_id AS workerId, r.backend AS backend, r.device AS device,
  coalesce((SELECT step FROM metrics m WHERE m.run_id = r.id AND m.name = 'loss' ORDER BY m.step DESC LIMIT 1), r.final_step, 0) AS step,
  json_extract(r.config_json, '$.train.steps') AS totalSteps,
  (SELECT value FROM metrics m WHERE m.run_id = r.id AND m.name = 'loss' ORDER BY m.step DESC LIMIT 1) AS loss,
  (SELECT value FROM metrics m WHERE m.run_id = r.id AND m.name = 'eval/accuracy' ORDER BY m.step DESC LIMIT 1) AS accuracy,
  r.resumed_from AS resumedFrom, r.queued_at AS queuedAt, r.started_at AS startedAt, r.finished_at AS finishedAt,
  r.elapsed_ms AS elapsedMs, r.error AS error
FROM sweep_runs sr JOIN runs r ON r.id = sr.run_id`;

/** The sweep's runs (in sweep order) with their progress, in one statement; filter by status or ids, page with limit/offset. */
export function runProgressBySweep(store: Store, sweepId: string, q: RunProgressQuery = {}): RunProgress[] {
  const where = ['sr.sweep_id = ?'];
  const args: unknown[] = [sweepId];
  if (q.status !== undefined) {
    if (q.status.length === 0) return [];
    where.push(`r.status IN (${q.status.map(() => '?').join(', ')})`);
    args.push(...q.status);
  }
  if (q.runIds !== undefined) {
    if (q.runIds.length === 0) return [];
    where.push(`r.id IN (SELECT value FROM json_each(?))`);
    args.push(JSON.stringify(q.runIds));
  }
  let sql = `${PROGRESS_SELECT} WHERE ${where.join(' AND ')} ORDER BY sr.idx, sr.run_id`;
  if (q.limit !== undefined) {
    sql += ' LIMIT ? OFFSET ?';
    args.push(q.limit, q.offset ?? 0);
  }
  return store.sqlite.prepare(sql).all(...args) as RunProgress[];
}

/**
 * Seconds left for a running run, from its steps per second since it started (or resumed) as the database saw it:
 * null when it cannot be told yet (not running, no step since its start, no step target).
 */
export function estimateEtaSec(
  run: Pick<RunProgress, 'status' | 'step' | 'totalSteps' | 'resumedFrom' | 'startedAt'>,
  now: number = Date.now(),
): number | null {
  if (run.status !== 'running' || run.startedAt === null || run.totalSteps === null) return null;
  const done = run.step - (run.resumedFrom ?? 0);
  const elapsedSec = (now - run.startedAt) / 1000;
  if (done <= 0 || elapsedSec <= 0) return null;
  return Math.max(0, (run.totalSteps - run.step) / (done / elapsedSec));
}

export interface SweepSummary {
  sweepId: string;
  counts: StatusCounts;
  variants: VariantCounts[];
  /** Running runs in sweep order (at most `limit`), each with its ETA. */
  running: (RunProgress & { etaSec: number | null })[];
  /** Failed runs in sweep order (at most `limit`), with their errors. */
  failures: RunProgress[];
}

/** What `pnpm status <sweep>` shows by default: a handful of statements whatever the sweep's size. */
export function sweepSummary(store: Store, sweepId: string, opts: { limit?: number; now?: number } = {}): SweepSummary {
  const variants = variantStatusCounts(store, sweepId);
  const counts = emptyCounts();
  for (const v of variants) for (const s of [...RUN_STATUSES, 'total'] as const) counts[s] += v.counts[s];
  const limit = opts.limit ?? 20;
  const now = opts.now ?? Date.now();
  const running = runProgressBySweep(store, sweepId, { status: ['running'], limit }).map((r) => ({ ...r, etaSec: estimateEtaSec(r, now) }));
  const failures = runProgressBySweep(store, sweepId, { status: ['failed'], limit });
  return { sweepId, counts, variants, running, failures };
}

/**
 * A number that changes whenever another connection commits to the database (SQLite's data_version pragma, per
 * connection): cheap enough to poll every few hundred milliseconds to know whether anything needs re-reading.
 */
export function dataVersion(store: Store): number {
  return store.sqlite.pragma('data_version', { simple: true }) as number;
}

export interface MetricPoint {
  runId: string;
  name: string;
  step: number;
  value: number | null;
}

/** The run ids of a sweep in sweep order (at most `limit`). */
export function runIdsOfSweep(store: Store, sweepId: string, limit = -1): string[] {
  return (
    store.sqlite.prepare('SELECT run_id AS id FROM sweep_runs WHERE sweep_id = ? ORDER BY idx, run_id LIMIT ?').all(sweepId, limit) as { id: string }[]
  ).map((r) => r.id);
}

/** The given metrics of these runs with step > afterStep[runId] (default −1: all), ordered by run (as given), name, step. */
export function metricSeriesOfRuns(
  store: Store,
  runIds: readonly string[],
  names: readonly string[],
  afterStep: ReadonlyMap<string, number> = new Map(),
): MetricPoint[] {
  if (names.length === 0) return [];
  const stmt = store.sqlite.prepare(
    `SELECT run_id AS runId, name, step, value FROM metrics WHERE run_id = ? AND name IN (${names.map(() => '?').join(', ')}) AND step > ? ORDER BY name, step`,
  );
  return runIds.flatMap((id) => stmt.all(id, ...names, afterStep.get(id) ?? -1) as MetricPoint[]);
}

/** Mean over classes of ‖μ_c‖ per step (name `mu_norm`) of these runs, steps > afterStep[runId]. */
export function muNormSeriesOfRuns(store: Store, runIds: readonly string[], afterStep: ReadonlyMap<string, number> = new Map()): MetricPoint[] {
  const stmt = store.sqlite.prepare(
    `SELECT run_id AS runId, 'mu_norm' AS name, step, avg(norm) AS value FROM mu_norms WHERE run_id = ? AND step > ? GROUP BY step ORDER BY step`,
  );
  return runIds.flatMap((id) => stmt.all(id, afterStep.get(id) ?? -1) as MetricPoint[]);
}

export interface ArtifactRef {
  runId: string;
  kind: string;
  step: number;
  uri: string;
}

/** The newest artifact of each kind (samples, samples-denoised, mu, …) of every run of a sweep. */
export function newestArtifactsBySweep(store: Store, sweepId: string): ArtifactRef[] {
  return store.sqlite
    .prepare(
      `SELECT a.run_id AS runId, a.kind AS kind, a.step AS step, a.uri AS uri FROM sweep_runs sr JOIN artifacts a ON a.run_id = sr.run_id
       WHERE sr.sweep_id = ? AND a.step = (SELECT max(step) FROM artifacts b WHERE b.run_id = a.run_id AND b.kind = a.kind) ORDER BY sr.idx, a.kind`,
    )
    .all(sweepId) as ArtifactRef[];
}

/** Whether a run has an artifact recorded at this uri (the ui serves only recorded files). */
export function findArtifact(store: Store, runId: string, kind: string, step: number): ArtifactRef | undefined {
  return store.sqlite.prepare('SELECT run_id AS runId, kind, step, uri FROM artifacts WHERE run_id = ? AND kind = ? AND step = ?').get(runId, kind, step) as
    ArtifactRef | undefined;
}

export interface CheckpointRef {
  step: number;
  uri: string;
  bytes: number;
}

/** A run's checkpoints, oldest first. */
export function checkpointsOfRun(store: Store, runId: string): CheckpointRef[] {
  return store.sqlite.prepare('SELECT step, uri, bytes FROM checkpoints WHERE run_id = ? ORDER BY step').all(runId) as CheckpointRef[];
}

/** A run's artifacts, oldest first. */
export function artifactsOfRun(store: Store, runId: string): ArtifactRef[] {
  return store.sqlite.prepare('SELECT run_id AS runId, kind, step, uri FROM artifacts WHERE run_id = ? ORDER BY step, kind').all(runId) as ArtifactRef[];
}

/** Mean over classes of ‖μ_c‖ per step of one run. */
export function muNormSeries(store: Store, runId: string): { step: number; value: number | null }[] {
  return store.sqlite.prepare('SELECT step, avg(norm) AS value FROM mu_norms WHERE run_id = ? GROUP BY step ORDER BY step').all(runId) as {
    step: number;
    value: number | null;
  }[];
}

export interface ConfusionMatrix {
  step: number;
  /** matrix[c][k]: class-c samples the judge labelled k. */
  matrix: number[][];
}

/**
 * A run's confusion matrix at the newest step that has one, or null: the main judge on raw samples at T = 1 where
 * recorded (two-judge runs), else what the run has (one-judge era: denoised).
 */
export function latestConfusionOfRun(store: Store, runId: string): ConfusionMatrix | null {
  const { step } = store.sqlite.prepare('SELECT max(step) AS step FROM confusion WHERE run_id = ?').get(runId) as { step: number | null };
  if (step === null) return null;
  const cells = store.sqlite
    .prepare(
      `SELECT true_class AS t, predicted_class AS p, count FROM confusion c WHERE run_id = ? AND step = ?
       AND (kind, temperature, judge) = (SELECT kind, temperature, judge FROM confusion WHERE run_id = c.run_id AND step = c.step
            ORDER BY (kind = 'raw' AND temperature = 1 AND judge = 'deep') DESC, kind DESC, temperature DESC, judge LIMIT 1)`,
    )
    .all(runId, step) as { t: number; p: number; count: number }[];
  const n = Math.max(...cells.map((c) => Math.max(c.t, c.p))) + 1;
  const matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (const c of cells) {
    const row = matrix[c.t];
    if (row) row[c.p] = c.count;
  }
  return { step, matrix };
}

/** Each judge's held-out accuracy (metric eval/judge_accuracy/<judge>, its best over the sweep's runs), by judge name. */
export function judgeAccuraciesBySweep(store: Store, sweepId: string): { name: string; accuracy: number }[] {
  return store.sqlite
    .prepare(
      `SELECT substr(m.name, length('eval/judge_accuracy/') + 1) AS name, max(m.value) AS accuracy FROM metrics m JOIN sweep_runs sr ON sr.run_id = m.run_id
       WHERE sr.sweep_id = ? AND m.name LIKE 'eval/judge_accuracy/%' GROUP BY m.name ORDER BY m.name`,
    )
    .all(sweepId) as { name: string; accuracy: number }[];
}
