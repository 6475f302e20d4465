import type { TopLevelSpec } from 'vega-lite';

/**
 * Charts as Vega-Lite specs rendered to SVG in Node by Vega itself (no browser, no canvas: text widths are estimated).
 * vega and vega-lite are ESM-only, so they are loaded with a dynamic import from this CommonJS package.
 */
type VegaModule = typeof import('vega');
type VegaLiteModule = typeof import('vega-lite');
let modules: Promise<[VegaModule, VegaLiteModule]> | null = null;
const load = () => (modules ??= Promise.all([import('vega'), import('vega-lite')]));

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vl] = await load();
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

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
export function lineChart(opts: { title: string; yTitle: string; rows: SeriesRow[]; variants: string[]; width?: number; height?: number; yScale?: 'linear' | 'log'; yZero?: boolean; points?: boolean }): TopLevelSpec {
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
      color: { field: 'variant', type: 'nominal', title: 'variant', sort: opts.variants, scale: { domain: opts.variants, scheme: opts.variants.length <= 10 ? 'tableau10' : 'category20' }, legend: { orient: 'bottom', columns: 2 } },
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
