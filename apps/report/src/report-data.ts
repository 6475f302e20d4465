import {
  findSweepId,
  getSweep,
  judgeAccuraciesBySweep,
  latestConfusionOfRun,
  metricSeries,
  muNormSeries,
  newestArtifactsBySweep,
  runResultsBySweep,
  runStatusCounts,
  variantComparisonsBySweep,
  variantResultsBySweep,
  type RunResultRow,
  type Store,
  type SweepRow,
  type VariantComparisonRow,
  type VariantResultRow,
} from '@ablate/store';
import { summarize } from '@ablate/stats';

/** A series point of one run. */
export interface Point {
  step: number;
  value: number | null;
}

export interface ImageRef {
  step: number;
  /** Path as the worker recorded it (on the shared artifact store). */
  uri: string;
}

/** Everything the report shows about one run of the sweep. */
export interface RunReport {
  result: RunResultRow;
  /** Per swept parameter (seed excluded): its display value, e.g. `mu_init=randn mu_std=0.02` or `lr_scale=0.1`. */
  axes: Record<string, string>;
  loss: Point[];
  evalNll: Point[];
  /** Class-consistency of raw samples at T = 1 (judges' mean), or of the one-judge era's denoised samples. */
  classConsistency: Point[];
  /** Mean over classes of ‖μ_c‖, per step. */
  muNorm: Point[];
  /** The newest image of each kind (samples, samples-denoised, mu). */
  images: Partial<Record<string, ImageRef>>;
  /** The confusion matrix at the newest step that has one, or null. */
  confusion: { step: number; matrix: number[][] } | null;
}

/** One variant's curve over steps: mean over its seeds with the 95% CI of the mean (null where fewer than 2 seeds). */
export interface BandPoint {
  variant: string;
  step: number;
  mean: number;
  lo: number | null;
  hi: number | null;
  n: number;
}

/** What the seed statistics of a sweep say (variant_results, variant_comparisons) and what backs them. */
export interface SeedStats {
  /** Some variant has two or more seeds: the report leads with means ± CI. */
  seeded: boolean;
  /** Variants (variant groups, as in SQL) in sweep order. */
  variants: string[];
  /** A variant group's name for people: its runs' label without the seed (`mu_init=randn mu_std=1`). */
  labels: Record<string, string>;
  baseline: string | null;
  results: VariantResultRow[];
  comparisons: VariantComparisonRow[];
  /** Each judge's held-out accuracy (metric eval/judge_accuracy/<judge>), as recorded by the sweep's runs. */
  judges: { name: string; accuracy: number }[];
  /** Per curve metric: one band per variant. */
  bands: Record<string, BandPoint[]>;
}

export interface SweepReport {
  sweep: SweepRow;
  stats: SeedStats;
  /** Swept parameters in sweep-file order (seed excluded), with their values in first-seen order. */
  axes: { key: string; values: string[] }[];
  runs: RunReport[];
  counts: Record<string, number>;
}

/** `prior` + {mu_init: randn, mu_std: 0.02} → `mu_init=randn mu_std=0.02`; `prior.lr_scale` + 0.1 → `lr_scale=0.1`. */
export function axisValueLabel(key: string, value: unknown): string {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join(' ');
  }
  const last = key.split('.').at(-1) ?? key;
  return `${last}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`;
}

function consistencySeries(now: Point[], older: () => Point[]): Point[] {
  return now.length > 0 ? now : older();
}

/**
 * Reads what the report needs from the sweep database (read-only queries). Throws a plain Error naming the sweep if
 * it is not there; the caller turns that into a usage error.
 */
export function loadSweepReport(store: Store, sweepRef: string): SweepReport | null {
  const id = findSweepId(store, sweepRef); // by id, else the newest sweep of that name
  const full = id === undefined ? undefined : getSweep(store, id);
  if (full === undefined) return null;

  const results = runResultsBySweep(store, full.id);
  const series = (runId: string, name: string): Point[] => metricSeries(store, runId, name);
  const newestImages = new Map<string, Partial<Record<string, ImageRef>>>();
  for (const a of newestArtifactsBySweep(store, full.id)) newestImages.set(a.runId, { ...newestImages.get(a.runId), [a.kind]: { step: a.step, uri: a.uri } });

  const axisOrder: string[] = [];
  const axisValues = new Map<string, string[]>();
  const runs = results.map((result): RunReport => {
    const axes: Record<string, string> = {};
    for (const [key, value] of Object.entries(result.variantJson)) {
      if (key === 'seed') continue;
      const label = axisValueLabel(key, value);
      axes[key] = label;
      if (!axisValues.has(key)) {
        axisOrder.push(key);
        axisValues.set(key, []);
      }
      const vs = axisValues.get(key) ?? [];
      if (!vs.includes(label)) vs.push(label);
    }
    return {
      result,
      axes,
      loss: series(result.runId, 'loss'),
      evalNll: series(result.runId, 'eval/nll'),
      classConsistency: consistencySeries(series(result.runId, 'eval/consistency/raw/t1.0'), () => series(result.runId, 'eval/class_consistency')),
      muNorm: muNormSeries(store, result.runId),
      images: newestImages.get(result.runId) ?? {},
      confusion: latestConfusionOfRun(store, result.runId),
    };
  });
  const { total, ...byStatus } = runStatusCounts(store, full.id);
  const stats = seedStats(store, full.id, results, (runId, name) => (name === 'mu_norm' ? muNormSeries(store, runId) : series(runId, name)));
  return { sweep: full, stats, axes: axisOrder.map((key) => ({ key, values: axisValues.get(key) ?? [] })), runs, counts: { ...byStatus, total } };
}

/** Curves drawn with bands in a seeded sweep: the metric name, or `mu_norm` for the mean ‖μ_c‖. */
export const BAND_METRICS = ['mu_norm', 'loss', 'eval/nll', 'eval/consistency/raw/t1.0'] as const;

function seedStats(store: Store, sweepId: string, results: RunResultRow[], seriesOf: (runId: string, name: string) => Point[]): SeedStats {
  const variants: string[] = [];
  const labels: Record<string, string> = {};
  for (const r of results) {
    if (variants.includes(r.variantGroup)) continue;
    variants.push(r.variantGroup);
    labels[r.variantGroup] = r.label.replace(/(^| )seed=\S+/, '').trim() || r.variantGroup;
  }
  const vr = variantResultsBySweep(store, sweepId);
  const comparisons = variantComparisonsBySweep(store, sweepId);
  const perVariant = new Map<string, number>();
  for (const r of results) if (r.status === 'succeeded') perVariant.set(r.variantGroup, (perVariant.get(r.variantGroup) ?? 0) + 1);
  const seeded = [...perVariant.values()].some((n) => n >= 2);
  const judgeRows = judgeAccuraciesBySweep(store, sweepId);
  const rank = (name: string) => {
    const i = ['deep', 'shallow'].indexOf(name); // the main judge first
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  const judges = judgeRows.sort((a, b) => rank(a.name) - rank(b.name));
  const bands: Record<string, BandPoint[]> = {};
  if (seeded) {
    for (const metric of BAND_METRICS) {
      const out: BandPoint[] = [];
      for (const v of variants) {
        const byStep = new Map<number, number[]>();
        for (const r of results.filter((x) => x.variantGroup === v && x.status === 'succeeded')) {
          for (const p of seriesOf(r.runId, metric)) if (p.value !== null) byStep.set(p.step, [...(byStep.get(p.step) ?? []), p.value]);
        }
        for (const [step, values] of [...byStep.entries()].sort((a, b) => a[0] - b[0])) {
          const s = summarize(values);
          if (s.mean !== null) out.push({ variant: labels[v] ?? v, step, mean: s.mean, lo: s.ciLow, hi: s.ciHigh, n: s.n });
        }
      }
      bands[metric] = out;
    }
  }
  return {
    seeded,
    variants,
    labels,
    baseline: comparisons[0]?.baselineGroup ?? (seeded ? (variants[0] ?? null) : null),
    results: vr,
    comparisons,
    judges,
    bands,
  };
}
