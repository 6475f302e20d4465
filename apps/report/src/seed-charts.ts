import type { TopLevelSpec } from 'vega-lite';
import { CONFIG } from './charts';
import type { BandPoint } from './report-data';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

function colorOf(variants: string[], legend = true) {
  return {
    field: 'variant',
    type: 'nominal' as const,
    title: 'variant',
    sort: variants,
    scale: { domain: variants, scheme: variants.length <= 10 ? 'tableau10' : 'category20' },
    legend: legend ? { orient: 'bottom' as const, columns: 2 } : null,
  };
}

/**
 * One variant's mean over seeds per step as a line, with its 95% CI as a band (only where the variant has two or more
 * seeds at that step).
 */
export function bandChart(opts: {
  title: string;
  yTitle: string;
  points: BandPoint[];
  variants: string[];
  yZero?: boolean;
  width?: number;
  height?: number;
}): TopLevelSpec {
  const values = opts.points.map((p) => ({ variant: p.variant, step: p.step, mean: p.mean, lo: p.lo ?? p.mean, hi: p.hi ?? p.mean, n: p.n }));
  const x = { field: 'step', type: 'quantitative' as const, title: 'step', axis: { format: 'd' } };
  return {
    $schema: SCHEMA,
    title: opts.title,
    width: opts.width ?? 560,
    height: opts.height ?? 260,
    data: { values },
    encoding: { x, color: colorOf(opts.variants) },
    layer: [
      {
        mark: { type: 'area', opacity: 0.18 },
        encoding: { y: { field: 'lo', type: 'quantitative', title: opts.yTitle, scale: { zero: opts.yZero ?? false } }, y2: { field: 'hi' } },
      },
      { mark: { type: 'line', strokeWidth: 1.8 }, encoding: { y: { field: 'mean', type: 'quantitative', title: opts.yTitle } } },
    ],
    config: CONFIG,
  };
}

/**
 * A final metric per variant: every seed's value as a dot, the mean as a tick and its 95% CI as a bar. The interval
 * layer is marked role "ci" so a browser can find it.
 */
export function seedDotChart(opts: {
  title: string;
  yTitle: string;
  variants: string[];
  seeds: { variant: string; seed: number; value: number }[];
  means: { variant: string; mean: number; lo: number | null; hi: number | null; n: number }[];
  percent?: boolean;
  width?: number;
}): TopLevelSpec {
  const y = (field: string) => ({
    field,
    type: 'quantitative' as const,
    title: opts.yTitle,
    scale: { zero: false },
    ...(opts.percent ? { axis: { format: '.0%' } } : {}),
  });
  const x = { field: 'variant', type: 'nominal' as const, sort: opts.variants, title: null, axis: { labelAngle: 0, labelLimit: 160 } };
  return {
    $schema: SCHEMA,
    title: opts.title,
    width: opts.width ?? Math.max(260, 90 * opts.variants.length),
    height: 220,
    layer: [
      {
        data: { values: opts.means.filter((m) => m.lo !== null && m.hi !== null) },
        mark: { type: 'rule', strokeWidth: 2.5, opacity: 0.55, description: 'ci' },
        encoding: { x, y: y('lo'), y2: { field: 'hi' }, color: colorOf(opts.variants, false) },
      },
      {
        data: { values: opts.means },
        mark: { type: 'tick', thickness: 2.5, size: 26, description: 'mean' },
        encoding: { x, y: y('mean'), color: colorOf(opts.variants, false) },
      },
      {
        data: { values: opts.seeds },
        mark: { type: 'point', filled: true, size: 26, opacity: 0.75, description: 'seed' },
        encoding: {
          x,
          xOffset: { field: 'seed', type: 'nominal' },
          y: y('value'),
          color: colorOf(opts.variants, false),
          tooltip: [{ field: 'seed' }, { field: 'value', format: '.4f' }],
        },
      },
    ],
    config: CONFIG,
  };
}
