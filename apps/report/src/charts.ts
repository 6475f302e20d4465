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

export { CONFIG, confusionChart, lineChart, sweepChart, SWEEP_CHARTS } from '@ablate/charts';
export type { SeriesRow, SweepChartDef } from '@ablate/charts';
