export { openStore, MIGRATIONS_FOLDER } from './open-store';
export type { OpenStoreOptions, Store, StoreDb } from './open-store';
export { StoreError } from './store-error';
export * as schema from './schema';
export {
  artifacts,
  checkpoints,
  confusion,
  latestMetrics,
  metrics,
  muNorms,
  RUN_STATUSES,
  runResults,
  runs,
  sweepResults,
  sweepRuns,
  sweeps,
  variantComparisons,
  variantResults,
} from './schema';
export type {
  ArtifactRow,
  CheckpointRow,
  ConfusionRow,
  LatestMetricRow,
  MetricRow,
  MuNormRow,
  RunResultRow,
  RunRow,
  RunStatus,
  SweepResultRow,
  SweepRow,
  SweepRunRow,
  VariantComparisonRow,
  VariantResultRow,
} from './schema';
export {
  attachRuns,
  getRun,
  getSweep,
  insertRuns,
  runsBySweep,
  runStatusCounts,
  setRunsStatus,
  setRunStatus,
  sweepsOfRun,
  upsertSweep,
  variantGroupOf,
} from './runs';
export type { AttachRunsResult, RunInput, RunInSweep, RunStatusCounts, SetRunStatusOptions, SweepInput } from './runs';
export { applyEvents } from './apply-events';
export type { ApplyResult } from './apply-events';
export { compareStreamIds } from './stream-ids';
export { latestMetricsOfRun, metricSeries, runResultsBySweep, sweepResultsBySweep } from './results';
export { allSweepIds, refreshVariantStats, sweepIdsOfRuns, variantComparisonsBySweep, variantResultsBySweep } from './variant-stats';
export {
  artifactsOfRun,
  checkpointsOfRun,
  dataVersion,
  estimateEtaSec,
  findArtifact,
  findSweepId,
  judgeAccuraciesBySweep,
  latestConfusionOfRun,
  listSweeps,
  newestArtifactsBySweep,
  runProgressBySweep,
  metricSeriesOfRuns,
  muNormSeries,
  muNormSeriesOfRuns,
  runIdsOfSweep,
  sweepSummary,
  variantStatusCounts,
} from './queries';
export type {
  ArtifactRef,
  CheckpointRef,
  ConfusionMatrix,
  MetricPoint,
  RunProgress,
  RunProgressQuery,
  StatusCounts,
  SweepOverview,
  SweepSummary,
  VariantCounts,
} from './queries';
