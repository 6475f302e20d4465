export { CONFIG, confusionChart, lineChart, sweepChart, SWEEP_CHARTS } from './charts';
export type { SeriesRow, SweepChartDef } from './charts';
