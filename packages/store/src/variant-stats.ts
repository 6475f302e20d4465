import { pairedComparison, summarize } from '@ablate/stats';
import { asc, eq } from 'drizzle-orm';
import type { Store } from './open-store';
import { variantComparisons, variantResults, type VariantComparisonRow, type VariantResultRow } from './schema';

/**
 * The final metrics the statistics are made of, per succeeded run: `loss`, every `eval/…` metric at the run's highest
 * step (except throughput and the judges' own held-out accuracy, which are not outcomes of the run), and the mean ‖μ_c‖
 * at init and at the end (`mu_norm/init`, `mu_norm/final`).
 */
const FINAL_METRICS_SQL = `
SELECT lm.run_id AS runId, lm.name AS name, lm.value AS value
FROM sweep_runs sr
JOIN runs r ON r.id = sr.run_id AND r.status = 'succeeded'
JOIN latest_metrics lm ON lm.run_id = sr.run_id
WHERE sr.sweep_id = ?
  AND (lm.name = 'loss' OR lm.name LIKE 'eval/%')
  AND lm.name NOT LIKE '%per_sec%' AND lm.name NOT LIKE 'eval/judge_accuracy/%'
UNION ALL
SELECT sr.run_id, 'mu_norm/init', (SELECT avg(norm) FROM mu_norms WHERE run_id = sr.run_id AND step = 0)
FROM sweep_runs sr JOIN runs r ON r.id = sr.run_id AND r.status = 'succeeded' WHERE sr.sweep_id = ?
UNION ALL
SELECT sr.run_id, 'mu_norm/final', (SELECT avg(norm) FROM mu_norms WHERE run_id = sr.run_id AND step = (SELECT max(step) FROM mu_norms WHERE run_id = sr.run_id))
FROM sweep_runs sr JOIN runs r ON r.id = sr.run_id AND r.status = 'succeeded' WHERE sr.sweep_id = ?`;

const RUNS_SQL = `
SELECT sr.run_id AS runId, sr.idx AS idx, sr.variant_group AS variantGroup, sr.variant_json AS variantJson,
       json_extract(r.config_json, '$.seed') AS seed
FROM sweep_runs sr JOIN runs r ON r.id = sr.run_id
WHERE sr.sweep_id = ? ORDER BY sr.idx`;

/** JSON with object keys sorted: equal values, equal text. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function withoutSeed(variant: Record<string, unknown>): Record<string, unknown> {
  const { seed: _seed, ...rest } = variant;
  return rest;
}

interface RunRow {
  runId: string;
  idx: number;
  variantGroup: string;
  variantJson: string;
  seed: number | null;
}

/**
 * The sweep's baseline variant group: the variant whose parameter values are the sweep file's `baseline:` (parameters
 * it leaves out at the first variant's values), else the first variant in sweep order.
 */
function baselineGroup(runs: readonly RunRow[], baseline: Record<string, unknown> | undefined): string | null {
  const first = runs[0];
  if (first === undefined) return null;
  if (baseline === undefined || Object.keys(baseline).length === 0) return first.variantGroup;
  const want = stableJson({ ...withoutSeed(JSON.parse(first.variantJson) as Record<string, unknown>), ...baseline });
  return runs.find((r) => stableJson(withoutSeed(JSON.parse(r.variantJson) as Record<string, unknown>)) === want)?.variantGroup ?? first.variantGroup;
}

/**
 * Recomputes variant_results and variant_comparisons of one sweep from its succeeded runs (replacing the old rows, in
 * one transaction). Called by the recorder when runs of the sweep finish; safe to call any time.
 */
export function refreshVariantStats(store: Store, sweepId: string, now = Date.now()): { variants: number; rows: number } {
  const { sqlite } = store;
  const spec = sqlite.prepare('SELECT spec_json AS specJson FROM sweeps WHERE id = ?').get(sweepId) as { specJson: string } | undefined;
  if (spec === undefined) return { variants: 0, rows: 0 };
  const baseline = (JSON.parse(spec.specJson) as { baseline?: Record<string, unknown> }).baseline;
  const runs = sqlite.prepare(RUNS_SQL).all(sweepId) as RunRow[];
  const finals = sqlite.prepare(FINAL_METRICS_SQL).all(sweepId, sweepId, sweepId) as { runId: string; name: string; value: number | null }[];

  const runById = new Map(runs.map((r) => [r.runId, r]));
  const firstIdx = new Map<string, number>();
  for (const r of runs) if (!firstIdx.has(r.variantGroup)) firstIdx.set(r.variantGroup, r.idx);
  // variant group → metric → seed → { value, runId }
  const table = new Map<string, Map<string, Map<number, { value: number; runId: string }>>>();
  for (const f of finals) {
    const run = runById.get(f.runId);
    if (run === undefined || f.value === null) continue;
    const byMetric = table.get(run.variantGroup) ?? new Map<string, Map<number, { value: number; runId: string }>>();
    table.set(run.variantGroup, byMetric);
    const bySeed = byMetric.get(f.name) ?? new Map<number, { value: number; runId: string }>();
    byMetric.set(f.name, bySeed);
    bySeed.set(run.seed ?? 0, { value: f.value, runId: f.runId });
  }

  const results: (typeof variantResults.$inferInsert)[] = [];
  for (const [group, byMetric] of table) {
    for (const [metric, bySeed] of byMetric) {
      const seeds = [...bySeed.entries()].sort((a, b) => a[0] - b[0]).map(([seed, v]) => ({ seed, value: v.value, run_id: v.runId }));
      const s = summarize(seeds.map((x) => x.value));
      results.push({
        sweepId,
        variantGroup: group,
        metric,
        firstIdx: firstIdx.get(group) ?? 0,
        n: s.n,
        mean: s.mean,
        sd: s.sd,
        ciLow: s.ciLow,
        ciHigh: s.ciHigh,
        seedsJson: seeds,
        updatedAt: now,
      });
    }
  }

  const comparisons: (typeof variantComparisons.$inferInsert)[] = [];
  const base = baselineGroup(runs, baseline);
  const baseMetrics = base === null ? undefined : table.get(base);
  if (base !== null && baseMetrics !== undefined) {
    for (const [group, byMetric] of table) {
      if (group === base) continue;
      for (const [metric, bySeed] of byMetric) {
        const baseBySeed = baseMetrics.get(metric);
        if (baseBySeed === undefined) continue;
        const pairs = [...bySeed.entries()].flatMap(([seed, v]) => {
          const b = baseBySeed.get(seed);
          return b === undefined ? [] : [[v.value, b.value] as const];
        });
        const c = pairedComparison(pairs);
        comparisons.push({
          sweepId,
          variantGroup: group,
          baselineGroup: base,
          metric,
          firstIdx: firstIdx.get(group) ?? 0,
          nPairs: c.nPairs,
          meanDiff: c.meanDiff,
          sdDiff: c.sdDiff,
          ciLow: c.ciLow,
          ciHigh: c.ciHigh,
          pValue: c.pValue,
          method: c.method,
          minDetectableDiff: c.minDetectableDiff,
          verdict: c.verdict,
          updatedAt: now,
        });
      }
    }
  }

  store.db.transaction((tx) => {
    tx.delete(variantResults).where(eq(variantResults.sweepId, sweepId)).run();
    tx.delete(variantComparisons).where(eq(variantComparisons.sweepId, sweepId)).run();
    for (let i = 0; i < results.length; i += 200)
      tx.insert(variantResults)
        .values(results.slice(i, i + 200))
        .run();
    for (let i = 0; i < comparisons.length; i += 200)
      tx.insert(variantComparisons)
        .values(comparisons.slice(i, i + 200))
        .run();
  });
  return { variants: table.size, rows: results.length + comparisons.length };
}

/** The sweeps a set of runs belongs to. */
export function sweepIdsOfRuns(store: Store, runIds: readonly string[]): string[] {
  if (runIds.length === 0) return [];
  const stmt = store.sqlite.prepare('SELECT DISTINCT sweep_id AS id FROM sweep_runs WHERE run_id = ?');
  const out = new Set<string>();
  for (const id of new Set(runIds)) for (const r of stmt.all(id) as { id: string }[]) out.add(r.id);
  return [...out];
}

/** Every sweep id. */
export function allSweepIds(store: Store): string[] {
  return (store.sqlite.prepare('SELECT id FROM sweeps ORDER BY created_at').all() as { id: string }[]).map((r) => r.id);
}

/** variant_results of a sweep, in sweep order, then by metric. */
export function variantResultsBySweep(store: Store, sweepId: string): VariantResultRow[] {
  return store.db
    .select()
    .from(variantResults)
    .where(eq(variantResults.sweepId, sweepId))
    .orderBy(asc(variantResults.firstIdx), asc(variantResults.metric))
    .all();
}

/** variant_comparisons of a sweep, in sweep order, then by metric. */
export function variantComparisonsBySweep(store: Store, sweepId: string): VariantComparisonRow[] {
  return store.db
    .select()
    .from(variantComparisons)
    .where(eq(variantComparisons.sweepId, sweepId))
    .orderBy(asc(variantComparisons.firstIdx), asc(variantComparisons.metric))
    .all();
}
