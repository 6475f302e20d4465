import type { Store } from '@ablate/store';
import { readFileSync } from 'node:fs';
import { confusionChart, lineChart, renderSvg, type SeriesRow } from './charts';
import { genericMetricCharts, genericMetricsSection, withGenericMetrics } from './generic-metrics';
import { buildPage } from './html';
import { loadSweepReport, type Point, type RunReport } from './report-data';

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
  const consistencyRows = rowsOf(report.runs, (r) => r.classConsistency);
  const [muNorm, loss, bpd, consistency] = await Promise.all([
    renderSvg(lineChart({ title: '‖μ‖ (mean over classes) over training', yTitle: '‖μ‖', rows: rowsOf(report.runs, (r) => r.muNorm), variants, yZero: true })),
    renderSvg(lineChart({ title: 'Training loss (NLL, nats/dim)', yTitle: 'loss', rows: rowsOf(report.runs, (r) => r.loss), variants })),
    renderSvg(lineChart({ title: 'Held-out bits/dim', yTitle: 'bits/dim', rows: rowsOf(report.runs, (r) => r.evalBpd), variants, points: true })),
    consistencyRows.length === 0 ? Promise.resolve(null) : renderSvg(lineChart({ title: 'Class-consistency of samples', yTitle: 'share labelled as sampled', rows: consistencyRows, variants, yZero: true, points: true })),
  ]);
  const confusion = new Map<string, string>();
  for (const r of report.runs) {
    if (r.confusion) confusion.set(r.result.runId, await renderSvg(confusionChart({ title: `step ${r.confusion.step}`, matrix: r.confusion.matrix })));
  }
  const generic = await genericMetricCharts(store, report.runs.map((r) => ({ runId: r.result.runId, label: r.result.label })));
  const page = buildPage({ report, image, charts: { muNorm, loss, bpd, consistency }, confusion, generatedAt: opts.now ?? new Date(), command: opts.command });
  const html = withGenericMetrics(page, genericMetricsSection(generic)); // metrics of a sweep's own program
  return { html, sweepId: report.sweep.id, sweepName: report.sweep.name, runs: report.runs.length, missingImages };
}
