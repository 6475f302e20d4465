import type { Store } from '@ablate/store';
import { readFileSync } from 'node:fs';
import { confusionChart, renderSvg, sweepChart, SWEEP_CHARTS, type SeriesRow, type SweepChartDef } from './charts';
import { genericMetricCharts, genericMetricsSection, withGenericMetrics } from './generic-metrics';
import { buildPage } from './html';
import { loadSweepReport, type Point, type RunReport, type SweepReport } from './report-data';
import { bandChart, seedDotChart } from './seed-charts';
import { HEADLINE_METRICS, metricTitle } from './metrics';

export interface BuiltReport {
  html: string;
  sweepId: string;
  sweepName: string;
  runs: number;
  /** Images that could not be read (missing file on this machine's view of the artifact store). */
  missingImages: string[];
}

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function rowsOf(runs: RunReport[], pick: (r: RunReport) => Point[]): SeriesRow[] {
  return runs.flatMap((r) => pick(r).flatMap((p) => (p.value === null ? [] : [{ variant: r.result.label, step: p.step, value: p.value }])));
}

/** Builds the sweep's report page, or returns null when the database has no such sweep (by id or name). */
export async function buildReport(store: Store, sweepRef: string, opts: { command: string; now?: Date }): Promise<BuiltReport | null> {
  const report = loadSweepReport(store, sweepRef);
  if (report === null) return null;
  const variants = report.runs.map((r) => r.result.label);
  const missingImages: string[] = [];
  const image = (uri: string): string | null => {
    try {
      const bytes = readFileSync(uri);
      if (!bytes.subarray(0, 8).equals(PNG_MAGIC)) throw new Error('not a PNG');
      return `data:image/png;base64,${bytes.toString('base64')}`;
    } catch {
      missingImages.push(uri);
      return null;
    }
  };
  const pick: Record<SweepChartDef['key'], (r: RunReport) => Point[]> = {
    muNorm: (r) => r.muNorm,
    loss: (r) => r.loss,
    nll: (r) => r.evalNll,
    consistency: (r) => r.classConsistency,
  };
  const chart = (key: SweepChartDef['key'], rows: SeriesRow[]) => {
    const def = SWEEP_CHARTS.find((c) => c.key === key);
    if (def === undefined) throw new Error(`no chart ${key}`);
    return renderSvg(sweepChart(def, rows, variants));
  };
  const consistencyRows = rowsOf(report.runs, pick.consistency);
  const [muNorm, loss, nll, consistency] = await Promise.all([
    chart('muNorm', rowsOf(report.runs, pick.muNorm)),
    chart('loss', rowsOf(report.runs, pick.loss)),
    chart('nll', rowsOf(report.runs, pick.nll)),
    consistencyRows.length === 0 ? Promise.resolve(null) : chart('consistency', consistencyRows),
  ]);
  const seed = report.stats.seeded ? await seedCharts(report) : null;
  const confusion = new Map<string, string>();
  for (const r of report.runs) {
    if (r.confusion) confusion.set(r.result.runId, await renderSvg(confusionChart({ title: `step ${r.confusion.step}`, matrix: r.confusion.matrix })));
  }
  const generic = await genericMetricCharts(
    store,
    report.runs.map((r) => ({ runId: r.result.runId, label: r.result.label })),
  );
  const page = buildPage({
    report,
    image,
    charts: { muNorm, loss, nll, consistency },
    seed,
    confusion,
    generatedAt: opts.now ?? new Date(),
    command: opts.command,
  });
  const html = withGenericMetrics(page, genericMetricsSection(generic)); // metrics of a sweep's own program
  return { html, sweepId: report.sweep.id, sweepName: report.sweep.name, runs: report.runs.length, missingImages };
}

/** The seeded sweep's charts: a dot-and-interval chart per headline metric, and the curves with 95% bands. */
async function seedCharts(report: SweepReport): Promise<{ dots: { metric: string; svg: string }[]; bands: { metric: string; svg: string }[] }> {
  const { stats } = report;
  const label = (group: string) => stats.labels[group] ?? group;
  const dots: { metric: string; svg: string }[] = [];
  for (const m of HEADLINE_METRICS) {
    const rows = stats.results.filter((r) => r.metric === m.name);
    if (rows.length === 0) continue;
    const spec = seedDotChart({
      title: metricTitle(m.name),
      yTitle: m.unit,
      variants: stats.variants.map(label),
      percent: m.percent,
      means: rows.flatMap((r) => (r.mean === null ? [] : [{ variant: label(r.variantGroup), mean: r.mean, lo: r.ciLow, hi: r.ciHigh, n: r.n }])),
      seeds: rows.flatMap((r) => r.seedsJson.map((s) => ({ variant: label(r.variantGroup), seed: s.seed, value: s.value }))),
    });
    dots.push({ metric: m.name, svg: await renderSvg(spec) });
  }
  const bandTitles: Record<string, [string, string, boolean]> = {
    mu_norm: ['‖μ‖ (mean over classes), mean over seeds ± 95% CI', '‖μ‖', true],
    loss: ['Training loss (NLL, nats/dim), mean over seeds ± 95% CI', 'nats/dim', false],
    'eval/nll': ['Held-out NLL (nats/dim), mean over seeds ± 95% CI', 'nats/dim', false],
    'eval/consistency/raw/t1.0': ["Class-consistency of raw samples (T = 1, judges' mean), mean over seeds ± 95% CI", 'share labelled as sampled', true],
  };
  const bands: { metric: string; svg: string }[] = [];
  for (const [metric, points] of Object.entries(stats.bands)) {
    const [title, yTitle, yZero] = bandTitles[metric] ?? [metric, metric, false];
    if (points.length > 0) bands.push({ metric, svg: await renderSvg(bandChart({ title, yTitle, points, variants: stats.variants.map(label), yZero })) });
  }
  return { dots, bands };
}
