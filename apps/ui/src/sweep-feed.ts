import { sweepChart, SWEEP_CHARTS, type SeriesRow, type SweepChartDef } from '@ablate/charts';
import {
  artifactsOfRun,
  checkpointsOfRun,
  estimateEtaSec,
  getRun,
  getSweep,
  listSweeps,
  metricSeriesOfRuns,
  muNormSeriesOfRuns,
  newestArtifactsBySweep,
  runProgressBySweep,
  sweepsOfRun,
  variantStatusCounts,
  type MetricPoint,
  type RunProgress,
  type StatusCounts,
  type Store,
} from '@ablate/store';

/** Charts plot the first runs of a sweep only: a 10,000-run sweep is read with `pnpm status` or SQL, not as 10,000 lines. */
export const MAX_CHART_RUNS = 40;
/** The runs table lists this many runs (in sweep order) and says how many it leaves out. */
export const MAX_TABLE_RUNS = 1000;

export type UiRun = RunProgress & { etaSec: number | null };

export interface UiImage {
  runId: string;
  label: string;
  kind: string;
  step: number;
  /** Where the page loads it: /artifacts/<run>/<kind>/<step>. */
  url: string;
}

export interface SweepSnapshot {
  sweep: { id: string; name: string; file: string; createdAt: number };
  counts: StatusCounts;
  runs: UiRun[];
  totalRuns: number;
  charts: { key: SweepChartDef['key']; title: string; spec: unknown }[];
  chartRuns: number;
  points: Record<string, SeriesRow[]>;
  images: UiImage[];
}

/** What changed since the last snapshot or diff a feed sent. */
export interface SweepDiff {
  counts?: StatusCounts;
  runs?: UiRun[];
  points?: Record<string, SeriesRow[]>;
  images?: UiImage[];
}

const imageUrl = (a: { runId: string; kind: string; step: number }) => `/artifacts/${encodeURIComponent(a.runId)}/${encodeURIComponent(a.kind)}/${a.step}`;

/**
 * One browser's view of one sweep: a snapshot, then diffs. It remembers what it sent (each run's row, the newest step
 * of each series of each run, the image set), so a diff holds only what changed: a changed run's row, the points after
 * the ones sent, the images if a newer one was recorded.
 */
export class SweepFeed {
  private readonly sentRuns = new Map<string, string>();
  private readonly sentStep = new Map<string, Map<string, number>>(); // series → run → newest step sent
  private sentImages = '';
  private chartRunIds: string[] = [];
  private labels = new Map<string, string>();

  constructor(
    private readonly store: Store,
    readonly sweepId: string,
  ) {}

  private readRuns(now: number): { runs: UiRun[]; total: number } {
    const all = runProgressBySweep(this.store, this.sweepId);
    return { runs: all.slice(0, MAX_TABLE_RUNS).map((r) => ({ ...r, etaSec: estimateEtaSec(r, now) })), total: all.length };
  }

  private counts(): StatusCounts {
    const variants = variantStatusCounts(this.store, this.sweepId);
    const c = { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, diverged: 0, total: 0 } as StatusCounts;
    for (const v of variants) for (const k of Object.keys(c) as (keyof StatusCounts)[]) c[k] += v.counts[k];
    return c;
  }

  /** New points of every chart since what was sent, as chart rows (variant = the run's label). */
  private newPoints(): Record<string, SeriesRow[]> {
    const out: Record<string, SeriesRow[]> = {};
    const metricNames = SWEEP_CHARTS.filter((c) => c.series !== 'mu_norm').map((c) => c.series);
    const after = (series: string) => this.sentStep.get(series) ?? new Map<string, number>();
    const fresh: MetricPoint[] = [];
    // One statement per run for all metrics: take the smallest step sent over the metric series, filter after.
    const minAfter = new Map<string, number>();
    for (const id of this.chartRunIds) minAfter.set(id, Math.min(...metricNames.map((n) => after(n).get(id) ?? -1)));
    fresh.push(...metricSeriesOfRuns(this.store, this.chartRunIds, metricNames, minAfter));
    fresh.push(...muNormSeriesOfRuns(this.store, this.chartRunIds, after('mu_norm')));
    for (const p of fresh) {
      const sent = after(p.name);
      if (p.step <= (sent.get(p.runId) ?? -1)) continue;
      sent.set(p.runId, p.step);
      this.sentStep.set(p.name, sent);
      const def = SWEEP_CHARTS.find((c) => c.series === p.name);
      if (def === undefined || p.value === null || !Number.isFinite(p.value)) continue;
      (out[def.key] ??= []).push({ variant: this.labels.get(p.runId) ?? p.runId, step: p.step, value: p.value });
    }
    return out;
  }

  private images(): UiImage[] {
    return newestArtifactsBySweep(this.store, this.sweepId)
      .filter((a) => this.labels.has(a.runId))
      .map((a) => ({ runId: a.runId, label: this.labels.get(a.runId) ?? a.runId, kind: a.kind, step: a.step, url: imageUrl(a) }));
  }

  /** The whole page's data; null when the sweep does not exist. Resets what the feed remembers. */
  snapshot(now: number = Date.now()): SweepSnapshot | null {
    const sweep = getSweep(this.store, this.sweepId);
    if (sweep === undefined) return null;
    const { runs, total } = this.readRuns(now);
    this.sentRuns.clear();
    this.sentStep.clear();
    for (const r of runs) this.sentRuns.set(r.runId, JSON.stringify(r));
    const charted = runs.slice(0, MAX_CHART_RUNS);
    this.chartRunIds = charted.map((r) => r.runId);
    this.labels = new Map(charted.map((r) => [r.runId, r.label || r.runId]));
    const variants = charted.map((r) => r.label || r.runId);
    const charts = SWEEP_CHARTS.map((def) => {
      const spec = sweepChart(def, [], variants, { width: 520, height: 240 }) as unknown as Record<string, unknown>;
      return { key: def.key, title: def.title, spec: { ...spec, data: { name: 'series' }, autosize: { type: 'pad', resize: true } } };
    });
    const images = this.images();
    this.sentImages = JSON.stringify(images);
    return {
      sweep: { id: sweep.id, name: sweep.name, file: sweep.file, createdAt: sweep.createdAt },
      counts: this.counts(),
      runs,
      totalRuns: total,
      charts,
      chartRuns: charted.length,
      points: this.newPoints(),
      images,
    };
  }

  /** What changed since the last snapshot or diff; null when nothing did. Running runs' ETAs change with time alone. */
  diff(now: number = Date.now()): SweepDiff | null {
    const out: SweepDiff = {};
    const { runs } = this.readRuns(now);
    const changed = runs.filter((r) => {
      const json = JSON.stringify(r);
      if (this.sentRuns.get(r.runId) === json) return false;
      this.sentRuns.set(r.runId, json);
      return true;
    });
    if (changed.length > 0) {
      out.runs = changed;
      out.counts = this.counts();
    }
    const points = this.newPoints();
    if (Object.keys(points).length > 0) out.points = points;
    const images = this.images();
    const json = JSON.stringify(images);
    if (json !== this.sentImages) {
      this.sentImages = json;
      out.images = images;
    }
    return Object.keys(out).length === 0 ? null : out;
  }
}

/** The sweeps list of the front page. */
export function sweepsList(store: Store) {
  return listSweeps(store).map((s) => ({ id: s.id, name: s.name, file: s.file, createdAt: s.createdAt, counts: s.counts }));
}

export interface RunLogLine {
  at: number | null;
  step: number | null;
  text: string;
}

/**
 * A run's history as the database has it. Workers write no per-run log file (their pino logs go to their own stdout,
 * on their own machine), so these lines are the run's recorded events: queued, started (attempt, worker, backend,
 * resumed from), evals, checkpoints, images, and how it ended with its error.
 */
export function runLog(store: Store, runId: string): { run: ReturnType<typeof getRun>; sweeps: string[]; lines: RunLogLine[] } | null {
  const run = getRun(store, runId);
  if (run === undefined) return null;
  const lines: RunLogLine[] = [{ at: run.queuedAt, step: null, text: 'queued' }];
  if (run.startedAt !== null) {
    lines.push({
      at: run.startedAt,
      step: run.resumedFrom,
      text: `attempt ${run.attempts} started on ${run.workerId ?? '?'} @ ${run.workerHost ?? '?'} (${[run.backend, run.device].filter(Boolean).join(', ') || 'backend ?'})${run.resumedFrom !== null ? `, resumed from the step-${run.resumedFrom} checkpoint` : ', from scratch'}`,
    });
  }
  const evals = new Map<number, string[]>();
  for (const p of metricSeriesOfRuns(
    store,
    [runId],
    ['eval/nll', 'eval/bpd', 'eval/accuracy', 'eval/consistency/raw/t1.0', 'eval/consistency/raw/t0.7', 'eval/class_consistency'],
  )) {
    const list = evals.get(p.step) ?? [];
    list.push(`${p.name.slice(5)} ${p.value === null ? 'NaN' : p.value.toFixed(4)}`);
    evals.set(p.step, list);
  }
  for (const [step, parts] of evals) lines.push({ at: null, step, text: `eval: ${parts.join(', ')}` });
  for (const c of checkpointsOfRun(store, runId)) lines.push({ at: null, step: c.step, text: `checkpoint ${(c.bytes / 1024).toFixed(0)} KiB: ${c.uri}` });
  for (const a of artifactsOfRun(store, runId)) lines.push({ at: null, step: a.step, text: `image ${a.kind}: ${a.uri}` });
  lines.sort((a, b) => (a.step ?? -1) - (b.step ?? -1) || (a.at ?? 0) - (b.at ?? 0));
  if (run.finishedAt !== null) lines.push({ at: run.finishedAt, step: run.finalStep, text: `${run.status}${run.error ? `: ${run.error}` : ''}` });
  return { run, sweeps: sweepsOfRun(store, runId), lines };
}
