import { and, asc, eq } from 'drizzle-orm';
import type { Store } from './open-store';
import { latestMetrics, metrics, runResults, sweepResults, type LatestMetricRow, type RunResultRow, type SweepResultRow } from './schema';

/** run_results of a sweep, in expansion order. */
export function runResultsBySweep(store: Store, sweepId: string): RunResultRow[] {
  return store.db.select().from(runResults).where(eq(runResults.sweepId, sweepId)).orderBy(asc(runResults.idx), asc(runResults.runId)).all();
}

/** sweep_results of a sweep: one row per variant (label minus seed), in sweep order. */
export function sweepResultsBySweep(store: Store, sweepId: string): SweepResultRow[] {
  return store.db.select().from(sweepResults).where(eq(sweepResults.sweepId, sweepId)).orderBy(asc(sweepResults.firstIdx)).all();
}

/** The latest value of every metric of a run. */
export function latestMetricsOfRun(store: Store, runId: string): LatestMetricRow[] {
  return store.db.select().from(latestMetrics).where(eq(latestMetrics.runId, runId)).orderBy(asc(latestMetrics.name)).all();
}

/** One metric of a run over steps (value null = NaN). */
export function metricSeries(store: Store, runId: string, name: string): { step: number; value: number | null }[] {
  return store.db
    .select({ step: metrics.step, value: metrics.value })
    .from(metrics)
    .where(and(eq(metrics.runId, runId), eq(metrics.name, name)))
    .orderBy(asc(metrics.step))
    .all();
}
