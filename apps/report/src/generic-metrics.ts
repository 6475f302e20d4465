import type { Store } from '@ablate/store';
import { lineChart, renderSvg, type SeriesRow } from './charts';

/**
 * Charts for the metrics the TARFlow panels do not draw: whatever names a sweep's own program reports (README, "Your own
 * training program"). One line chart per metric name, one line per run (labelled as in the results table), in name
 * order; the names the built-in trainer sends are left to the TARFlow panels or are bookkeeping.
 */
export const TARFLOW_METRICS: ReadonlySet<string> = new Set([
  'loss',
  'nll',
  'bpd',
  'prior_term',
  'logdet_term',
  'grad_norm',
  'lr',
  'images_per_sec',
  'mean_log_sigma',
  'diverged',
  'eval/nll',
  'eval/bpd',
  'eval/accuracy',
  'eval/classify_images_per_sec',
  'eval/class_consistency',
  'mu_norm',
]);

/** At most this many charts (the page stays readable with a program that logs hundreds of names). */
export const MAX_GENERIC_CHARTS = 24;

export interface GenericCharts {
  /** Metric name → its chart as SVG, in name order. */
  charts: { name: string; svg: string }[];
  /** Names beyond MAX_GENERIC_CHARTS, not drawn. */
  omitted: string[];
}

/** The metric names of these runs that no TARFlow panel draws, in name order. */
export function unknownMetricNames(store: Store, runIds: readonly string[]): string[] {
  if (runIds.length === 0) return [];
  const marks = runIds.map(() => '?').join(', ');
  return (store.sqlite.prepare(`SELECT DISTINCT name FROM metrics WHERE run_id IN (${marks}) ORDER BY name`).all(...runIds) as { name: string }[])
    .map((r) => r.name)
    .filter((n) => !TARFLOW_METRICS.has(n));
}

/** The unknown metrics of these runs (run id → label), rendered. */
export async function genericMetricCharts(store: Store, runs: readonly { runId: string; label: string }[]): Promise<GenericCharts> {
  const db = store.sqlite;
  const names = unknownMetricNames(
    store,
    runs.map((r) => r.runId),
  );
  const drawn = names.slice(0, MAX_GENERIC_CHARTS);
  const series = db.prepare('SELECT step, value FROM metrics WHERE run_id = ? AND name = ? AND value IS NOT NULL ORDER BY step');
  const variants = runs.map((r) => r.label);
  const charts = await Promise.all(
    drawn.map(async (name) => {
      const rows: SeriesRow[] = runs.flatMap((r) =>
        (series.all(r.runId, name) as { step: number; value: number }[]).map((p) => ({ variant: r.label, step: p.step, value: p.value })),
      );
      const sparse = rows.length <= runs.length * 30; // eval-like metrics: show the points
      return { name, svg: await renderSvg(lineChart({ title: name, yTitle: name, rows, variants, points: sparse })) };
    }),
  );
  return { charts, omitted: names.slice(MAX_GENERIC_CHARTS) };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page section for them ('' when there are none). */
export function genericMetricsSection(g: GenericCharts): string {
  if (g.charts.length === 0) return '';
  const charts = g.charts.map((c) => `<div class="chart" role="img" aria-label="${escapeHtml(`${c.name} per run`)}">${c.svg}</div>`).join('');
  const more =
    g.omitted.length === 0
      ? ''
      : `<p class="missing">${g.omitted.length} more metric(s) not drawn: ${escapeHtml(g.omitted.join(', '))} (query them with pnpm query)</p>`;
  return `<section id="other-metrics">\n<h2>Other metrics</h2>\n<div class="charts">${charts}</div>\n${more}</section>\n`;
}

/** Puts the section at the end of the page's body (a minimal hook, so the page builder itself need not know it). */
export function withGenericMetrics(html: string, section: string): string {
  if (section === '') return html;
  const at = html.lastIndexOf('</body>');
  return at < 0 ? `${html}${section}` : `${html.slice(0, at)}${section}${html.slice(at)}`;
}
