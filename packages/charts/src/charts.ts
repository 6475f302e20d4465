import type { TopLevelSpec } from 'vega-lite';

/**
 * The sweep charts as Vega-Lite specs: pure data, no vega runtime. pnpm report renders them to SVG in Node
 * (apps/report/src/charts.ts), pnpm ui embeds them with vega-embed in the browser and streams points into them.
 */

export const CONFIG = {
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridOpacity: 0.5 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320 },
  title: { fontSize: 14, anchor: 'start' as const },
  view: { stroke: null },
};

export interface SeriesRow {
  variant: string;
  step: number;
  value: number;
}

/** One line per variant over training steps. */
export function lineChart(opts: {
  title: string;
  yTitle: string;
  rows: SeriesRow[];
  variants: string[];
  width?: number;
  height?: number;
  yScale?: 'linear' | 'log';
  yZero?: boolean;
  points?: boolean;
}): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: opts.title,
    width: opts.width ?? 560,
    height: opts.height ?? 260,
    data: { values: opts.rows.filter((r) => Number.isFinite(r.value)) },
    mark: { type: 'line', strokeWidth: 1.8, interpolate: 'linear', point: opts.points ?? false },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step', axis: { format: 'd' } },
      y: { field: 'value', type: 'quantitative', title: opts.yTitle, scale: { type: opts.yScale ?? 'linear', zero: opts.yZero ?? false } },
      color: {
        field: 'variant',
        type: 'nominal',
        title: 'variant',
        sort: opts.variants,
        scale: { domain: opts.variants, scheme: opts.variants.length <= 10 ? 'tableau10' : 'category20' },
        legend: { orient: 'bottom', columns: 2 },
      },
    },
    config: CONFIG,
  };
}

/** A confusion matrix as a heatmap with counts: rows = the class sampled from, columns = the classifier's label. */
export function confusionChart(opts: { title: string; matrix: number[][]; size?: number }): TopLevelSpec {
  const values = opts.matrix.flatMap((row, t) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    return row.map((count, p) => ({ sampled: String(t), labelled: String(p), count, share: count / total }));
  });
  const classes = opts.matrix.map((_, i) => String(i));
  const size = opts.size ?? 230;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: opts.title,
    width: size,
    height: size,
    data: { values },
    encoding: {
      x: { field: 'labelled', type: 'ordinal', sort: classes, title: 'classifier label', axis: { labelAngle: 0 } },
      y: { field: 'sampled', type: 'ordinal', sort: classes, title: 'sampled from class' },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'share', type: 'quantitative', scale: { scheme: 'blues', domain: [0, 1] }, legend: null } } },
      {
        mark: { type: 'text', fontSize: 9 },
        transform: [{ filter: 'datum.count > 0' }],
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: '#222' },
        },
      },
    ],
    config: { ...CONFIG, axis: { ...CONFIG.axis, grid: false } },
  };
}

/** A sweep chart: which series it plots and how. `series` names a metric, or `mu_norm` (mean over classes of ‖μ_c‖). */
export interface SweepChartDef {
  key: 'muNorm' | 'loss' | 'nll' | 'consistency';
  series: string;
  title: string;
  yTitle: string;
  yZero?: boolean;
  points?: boolean;
}

/** The four curves of a sweep, as the report and the ui show them. */
export const SWEEP_CHARTS: readonly SweepChartDef[] = [
  { key: 'muNorm', series: 'mu_norm', title: '‖μ‖ (mean over classes) over training', yTitle: '‖μ‖', yZero: true },
  { key: 'loss', series: 'loss', title: 'Training loss (NLL, nats/dim)', yTitle: 'loss' },
  { key: 'nll', series: 'eval/nll', title: 'Held-out NLL (nats/dim)', yTitle: 'nats/dim', points: true },
  {
    key: 'consistency',
    series: 'eval/consistency/raw/t1.0',
    title: 'Class-consistency of raw samples (T = 1, judges’ mean)',
    yTitle: 'share labelled as sampled',
    yZero: true,
    points: true,
  },
];

/** A sweep chart's spec for these rows (one line per variant). */
export function sweepChart(def: SweepChartDef, rows: SeriesRow[], variants: string[], size: { width?: number; height?: number } = {}): TopLevelSpec {
  return lineChart({ title: def.title, yTitle: def.yTitle, rows, variants, yZero: def.yZero, points: def.points, ...size });
}
