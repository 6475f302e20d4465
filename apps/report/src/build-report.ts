import type { Store } from '@ablate/store';
import { readFileSync } from 'node:fs';
import { confusionChart, renderSvg, sweepChart, SWEEP_CHARTS, type SeriesRow, type SweepChartDef } from './charts';
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
  const pick: Record<SweepChartDef['key'], (r: RunReport) => Point[]> = { muNorm: (r) => r.muNorm, loss: (r) => r.loss, bpd: (r) => r.evalBpd, consistency: (r) => r.classConsistency };
  const chart = (key: SweepChartDef['key'], rows: SeriesRow[]) => {
    const def = SWEEP_CHARTS.find((c) => c.key === key);
    if (def === undefined) throw new Error(`no chart ${key}`);
    return renderSvg(sweepChart(def, rows, variants));
  };
  const consistencyRows = rowsOf(report.runs, pick.consistency);
  const [muNorm, loss, bpd, consistency] = await Promise.all([
    chart('muNorm', rowsOf(report.runs, pick.muNorm)),
    chart('loss', rowsOf(report.runs, pick.loss)),
    chart('bpd', rowsOf(report.runs, pick.bpd)),
    consistencyRows.length === 0 ? Promise.resolve(null) : chart('consistency', consistencyRows),
  ]);
  const confusion = new Map<string, string>();
  for (const r of report.runs) {
    if (r.confusion) confusion.set(r.result.runId, await renderSvg(confusionChart({ title: `step ${r.confusion.step}`, matrix: r.confusion.matrix })));
  }
  const html = buildPage({ report, image, charts: { muNorm, loss, bpd, consistency }, confusion, generatedAt: opts.now ?? new Date(), command: opts.command });
  return { html, sweepId: report.sweep.id, sweepName: report.sweep.name, runs: report.runs.length, missingImages };
}
