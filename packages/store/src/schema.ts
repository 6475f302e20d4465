import { sql } from 'drizzle-orm';
import { check, index, integer, primaryKey, real, sqliteTable, sqliteView, text } from 'drizzle-orm/sqlite-core';

/**
 * The one SQLite database of a setup. TS names are camelCase, SQL names snake_case (drizzle `casing: 'snake_case'`).
 * Times are epoch milliseconds (INTEGER). JSON columns hold the JSON text, queryable with json_extract().
 * Migrations: `pnpm db:generate` (drizzle-kit) writes drizzle/NNNN_*.sql from this file. Two custom migrations hold
 * what drizzle-kit cannot express: 0001 rebuilds metrics and mu_norms as WITHOUT ROWID tables, 0002 creates the views.
 * A later generated migration that rebuilds metrics or mu_norms would drop WITHOUT ROWID: re-add it by hand there.
 */

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'diverged'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const sweeps = sqliteTable('sweeps', {
  id: text().primaryKey(),
  name: text().notNull(),
  /** The sweep YAML file it was submitted from. */
  file: text().notNull(),
  /** The parsed sweep spec. */
  specJson: text({ mode: 'json' }).$type<unknown>().notNull(),
  createdAt: integer().notNull(),
  updatedAt: integer().notNull(),
});

/**
 * A run, whichever sweeps it belongs to. Its id is a hash of the resolved config, so two sweeps that expand to the same
 * config share the run: it is trained once. What a run is within a sweep (position, label, variant) is in sweep_runs.
 */
export const runs = sqliteTable(
  'runs',
  {
    /** Hash of the resolved config; also the BullMQ job id. */
    id: text().primaryKey(),
    /** The resolved run config, verbatim. */
    configJson: text({ mode: 'json' }).$type<unknown>().notNull(),
    status: text({ enum: RUN_STATUSES }).notNull().default('queued'),
    /** BullMQ attempt number of the newest run-started (0 = never started; a re-enqueued run starts again at 1). */
    attempts: integer().notNull().default(0),
    workerHost: text(),
    workerId: text(),
    backend: text(),
    device: text(),
    /** Checkpoint step the newest attempt resumed from (null: from scratch). */
    resumedFrom: integer(),
    /** Stream entry id of the newest attempt's run-started: data events before it belong to older attempts. */
    startedEntry: text(),
    queuedAt: integer().notNull(),
    startedAt: integer(),
    finishedAt: integer(),
    finalStep: integer(),
    elapsedMs: integer(),
    error: text(),
  },
  (t) => [check('runs_status_check', sql`${t.status} IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'diverged')`)],
);

/**
 * Which runs a sweep has (many to many): one row per (sweep, run), with what the run is in that sweep. A run shared
 * by two sweeps (e.g. prior-init-mini's runs inside prior-init-lr) has one runs row and two sweep_runs rows, which
 * may differ in idx, label and variant (each sweep labels it by its own swept keys).
 */
export const sweepRuns = sqliteTable(
  'sweep_runs',
  {
    sweepId: text()
      .notNull()
      .references(() => sweeps.id, { onDelete: 'cascade' }),
    runId: text()
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    /** Position in the sweep's expansion. */
    idx: integer().notNull(),
    label: text().notNull(),
    /** The label without the seed: runs that differ only in seed share it (sweep_results groups by it). */
    variantGroup: text().notNull(),
    /** The swept values of this run in this sweep, e.g. {"prior.mu_init":"zero","seed":1}. */
    variantJson: text({ mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    /** When the run was linked to the sweep. */
    addedAt: integer().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.sweepId, t.runId] }),
    index('sweep_runs_sweep_idx').on(t.sweepId, t.idx),
    /** The sweeps of a run, and ON DELETE CASCADE from runs without a scan. */
    index('sweep_runs_run').on(t.runId),
  ],
);

/**
 * One row per (run, step, metric name). `value` NULL means NaN (SQLite has no NaN); ±Infinity are stored as such.
 * The key is ordered (run_id, name, step), so it is also the index for "metric X of run R over steps", and the table is
 * WITHOUT ROWID (migration 0001: drizzle cannot declare that): one b-tree per row instead of three, which is most of
 * the recorder's ingest rate.
 */
export const metrics = sqliteTable(
  'metrics',
  {
    runId: text()
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    step: integer().notNull(),
    name: text().notNull(),
    value: real(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.name, t.step] })],
);

/** ‖μ_c‖ of each class c at a step. NULL means NaN. WITHOUT ROWID, like metrics (migration 0001). */
export const muNorms = sqliteTable(
  'mu_norms',
  {
    runId: text()
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    step: integer().notNull(),
    class: integer().notNull(),
    norm: real(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.step, t.class] })],
);

/**
 * How a judge (digit classifier) labelled a run's generated samples at an eval step: count of class-c samples labelled
 * k, per sample kind ('raw' or 'denoised'), sampling temperature and judge. Rows of runs recorded before there were
 * two judges read kind 'denoised', temperature 1, judge 'cnn-v1'. WITHOUT ROWID (migrations 0003, 0004).
 */
export const confusion = sqliteTable(
  'confusion',
  {
    runId: text()
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    step: integer().notNull(),
    kind: text().notNull().default('denoised'),
    temperature: real().notNull().default(1),
    judge: text().notNull().default('cnn-v1'),
    trueClass: integer().notNull(),
    predictedClass: integer().notNull(),
    count: integer().notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.step, t.kind, t.temperature, t.judge, t.trueClass, t.predictedClass] })],
);

export const checkpoints = sqliteTable(
  'checkpoints',
  {
    runId: text()
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    step: integer().notNull(),
    uri: text().notNull(),
    bytes: integer().notNull(),
    sha256: text().notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.step] })],
);

/** Images and other files of a run: kind is `samples`, `samples-denoised`, `mu`, … */
export const artifacts = sqliteTable(
  'artifacts',
  {
    runId: text()
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    step: integer().notNull(),
    kind: text().notNull(),
    uri: text().notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.step, t.kind] })],
);

/**
 * Seeds are the unit of replication. Per sweep, variant (runs that differ only in seed: sweep_runs.variant_group) and
 * final metric of its succeeded runs: n seeds, mean, sample standard deviation and the 95% confidence interval of the
 * mean (Student t with n − 1 degrees of freedom). Written by the recorder whenever a run of the sweep finishes.
 */
export const variantResults = sqliteTable(
  'variant_results',
  {
    sweepId: text()
      .notNull()
      .references(() => sweeps.id, { onDelete: 'cascade' }),
    variantGroup: text().notNull(),
    metric: text().notNull(),
    /** Smallest idx of the variant's runs in the sweep: lists variants in sweep order. */
    firstIdx: integer().notNull(),
    n: integer().notNull(),
    mean: real(),
    sd: real(),
    ciLow: real(),
    ciHigh: real(),
    /** The per-seed values: [{"seed":0,"value":0.71,"run_id":"…"}, …]. */
    seedsJson: text({ mode: 'json' }).$type<{ seed: number; value: number; run_id: string }[]>().notNull(),
    updatedAt: integer().notNull(),
  },
  (t) => [primaryKey({ columns: [t.sweepId, t.variantGroup, t.metric] })],
);

/**
 * Every variant of a sweep against its baseline variant, per final metric, paired by seed (the same seed gives both
 * runs the same data order, noise and samples): n pairs, mean difference (variant − baseline), its 95% CI and the
 * two-sided p-value; `method` names the test ('paired-t'), `min_detectable_diff` the smallest true difference that n
 * pairs with this spread would detect with 80% power at the 5% level, and `verdict` says it in words.
 */
export const variantComparisons = sqliteTable(
  'variant_comparisons',
  {
    sweepId: text()
      .notNull()
      .references(() => sweeps.id, { onDelete: 'cascade' }),
    variantGroup: text().notNull(),
    baselineGroup: text().notNull(),
    metric: text().notNull(),
    firstIdx: integer().notNull(),
    nPairs: integer().notNull(),
    meanDiff: real(),
    sdDiff: real(),
    ciLow: real(),
    ciHigh: real(),
    pValue: real(),
    method: text().notNull(),
    minDetectableDiff: real(),
    /** 'higher', 'lower', 'no difference detected' or 'too few pairs'. */
    verdict: text().notNull(),
    updatedAt: integer().notNull(),
  },
  (t) => [primaryKey({ columns: [t.sweepId, t.variantGroup, t.metric] })],
);

// ---- views: created by the custom migrations drizzle/0002_views.sql (recreated in 0003_confusion.sql); declared here with .existing() so drizzle can
// query them with types and drizzle-kit leaves them alone.

/** Per run and metric name, the value at the highest step. */
export const latestMetrics = sqliteView('latest_metrics', {
  runId: text().notNull(),
  name: text().notNull(),
  step: integer().notNull(),
  value: real(),
}).existing();

/**
 * One row per (sweep, run) membership: what the run is in that sweep, how it ended, and its final numbers. A run in
 * two sweeps has two rows (same outcome, each with its sweep's idx, label and variant).
 */
export const runResults = sqliteView('run_results', {
  runId: text().notNull(),
  sweepId: text().notNull(),
  sweepName: text().notNull(),
  idx: integer().notNull(),
  label: text().notNull(),
  variantGroup: text().notNull(),
  variantJson: text({ mode: 'json' }).$type<Record<string, unknown>>().notNull(),
  status: text({ enum: RUN_STATUSES }).notNull(),
  attempts: integer().notNull(),
  backend: text(),
  device: text(),
  finalStep: integer(),
  /** Training loss (nll, nats/dim) at the highest step that has one. */
  finalLoss: real(),
  finalEvalNll: real(),
  finalEvalBpd: real(),
  finalEvalAccuracy: real(),
  /** One judge's share of denoised samples labelled with their class (`eval/class_consistency`): runs of the one-judge era. */
  finalClassConsistency: real(),
  /** The two judges' mean class-consistency of raw samples at T = 1 (`eval/consistency/raw/t1.0`), last eval. */
  finalConsistencyT1: real('final_consistency_t1'),
  /** The same at T = 0.7. */
  finalConsistencyT07: real('final_consistency_t07'),
  /** The same for denoised samples at T = 1. */
  finalConsistencyDenoised: real(),
  /** Share of raw T = 1 samples the two judges label alike. */
  finalJudgeAgreementT1: real('final_judge_agreement_t1'),
  /** The run config's seed. */
  seed: integer(),
  /** Mean over classes of ‖μ_c‖ at step 0. */
  muNormInit: real(),
  /** Mean over classes of ‖μ_c‖ at the highest step with μ norms. */
  muNormFinal: real(),
  elapsedMs: integer(),
  startedAt: integer(),
  finishedAt: integer(),
  error: text(),
}).existing();

/** Per sweep variant (the sweep's runs grouped by variant_group, i.e. label minus seed): counts, and means over its succeeded runs. */
export const sweepResults = sqliteView('sweep_results', {
  sweepId: text().notNull(),
  sweepName: text().notNull(),
  variantGroup: text().notNull(),
  /** Smallest idx of the group, to list variants in sweep order. */
  firstIdx: integer().notNull(),
  runs: integer().notNull(),
  /** The means below are over these. */
  succeeded: integer().notNull(),
  failed: integer().notNull(),
  diverged: integer().notNull(),
  cancelled: integer().notNull(),
  /** Queued or running. */
  unfinished: integer().notNull(),
  meanFinalLoss: real(),
  meanEvalNll: real(),
  meanEvalBpd: real(),
  minEvalBpd: real(),
  maxEvalBpd: real(),
  meanEvalAccuracy: real(),
  meanClassConsistency: real(),
  meanConsistencyT1: real('mean_consistency_t1'),
  meanConsistencyT07: real('mean_consistency_t07'),
  meanMuNormInit: real(),
  meanMuNormFinal: real(),
  meanElapsedMs: real(),
}).existing();

export type SweepRow = typeof sweeps.$inferSelect;
export type RunRow = typeof runs.$inferSelect;
export type SweepRunRow = typeof sweepRuns.$inferSelect;
export type MetricRow = typeof metrics.$inferSelect;
export type MuNormRow = typeof muNorms.$inferSelect;
export type ConfusionRow = typeof confusion.$inferSelect;
export type CheckpointRow = typeof checkpoints.$inferSelect;
export type ArtifactRow = typeof artifacts.$inferSelect;
export type LatestMetricRow = typeof latestMetrics.$inferSelect;
export type RunResultRow = typeof runResults.$inferSelect;
export type SweepResultRow = typeof sweepResults.$inferSelect;
export type VariantResultRow = typeof variantResults.$inferSelect;
export type VariantComparisonRow = typeof variantComparisons.$inferSelect;
