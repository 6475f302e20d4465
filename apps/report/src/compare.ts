import { summarize, type Summary } from '@ablate/stats';
import {
  findSweepId,
  getSweep,
  metricSeriesOfRuns,
  muNormSeriesOfRuns,
  runResultsBySweep,
  type MetricPoint,
  type RunResultRow,
  type Store,
} from '@ablate/store';
import { lineChart, renderSvg } from './charts';
import { escapeHtml, STYLE } from './html';

/**
 * `pnpm report <sweep> --compare <other>`: two sweeps of the same ablation run by two implementations (say the PyTorch
 * TARFlow of examples/pytorch-tarflow and the built-in tfjs one), run for run. Runs pair up by their swept values and
 * seed (sweep_runs.variant_group and the seed, 0 where the sweep has none): final NLL, accuracy, consistency under both
 * judges and ‖μ‖ side by side, each beside the other sweep's spread over its seeds where it has several, and the curves
 * of every pair on one chart.
 */

/** The finals compared, as metric names: `mu_norm` is the mean of ‖μ_c‖ over classes (the mu_norms table). */
export const COMPARED_METRICS: readonly { name: string; title: string; percent: boolean; digits: number }[] = [
  { name: 'eval/nll', title: 'held-out NLL (nats/dim)', percent: false, digits: 4 },
  { name: 'eval/accuracy', title: 'flow accuracy', percent: true, digits: 1 },
  { name: 'eval/consistency/raw/t1.0', title: 'consistency, raw T = 1 (judges’ mean)', percent: true, digits: 1 },
  { name: 'eval/consistency/raw/t0.7', title: 'consistency, raw T = 0.7', percent: true, digits: 1 },
  { name: 'eval/consistency/denoised/t1.0', title: 'consistency, denoised T = 1', percent: true, digits: 1 },
  { name: 'eval/consistency/raw/t1.0/deep', title: 'judge deep, raw T = 1', percent: true, digits: 1 },
  { name: 'eval/consistency/raw/t1.0/shallow', title: 'judge shallow, raw T = 1', percent: true, digits: 1 },
  { name: 'mu_norm', title: '‖μ‖ at the end', percent: false, digits: 2 },
];
const CURVES = [
  { name: 'mu_norm', title: '‖μ‖ (mean over classes)' },
  { name: 'eval/nll', title: 'held-out NLL (nats/dim)' },
  { name: 'eval/consistency/raw/t1.0', title: 'consistency, raw T = 1' },
] as const;

export interface ComparedRun {
  row: RunResultRow;
  seed: number;
  /** Metric name → value at the run's last step of that metric. */
  finals: Record<string, number>;
  /** Metric name → the run's series. */
  series: Record<string, { step: number; value: number }[]>;
}

export interface ComparisonPair {
  variant: string;
  label: string;
  seed: number;
  a: ComparedRun;
  b: ComparedRun | null;
  /** Per metric: the other sweep's runs of this variant over all their seeds. */
  bSeeds: Record<string, Summary & { min: number | null; max: number | null }>;
}

export interface Comparison {
  a: { id: string; name: string };
  b: { id: string; name: string };
  pairs: ComparisonPair[];
}

function seedOf(r: RunResultRow): number {
  const v = r.variantJson as { seed?: unknown };
  return typeof v.seed === 'number' ? v.seed : (r.seed ?? 0);
}

function loadRuns(store: Store, sweepId: string): ComparedRun[] {
  const rows = runResultsBySweep(store, sweepId).filter((r) => r.status === 'succeeded');
  const ids = rows.map((r) => r.runId);
  const points: MetricPoint[] = [
    ...metricSeriesOfRuns(
      store,
      ids,
      COMPARED_METRICS.map((m) => m.name).filter((n) => n !== 'mu_norm'),
    ),
    ...muNormSeriesOfRuns(store, ids),
  ];
  const byRun = new Map<string, MetricPoint[]>();
  for (const p of points) byRun.set(p.runId, [...(byRun.get(p.runId) ?? []), p]);
  return rows.map((row) => {
    const series: ComparedRun['series'] = {};
    for (const p of byRun.get(row.runId) ?? []) if (p.value !== null) (series[p.name] ??= []).push({ step: p.step, value: p.value });
    const finals: Record<string, number> = {};
    for (const [name, s] of Object.entries(series)) {
      s.sort((x, y) => x.step - y.step);
      const last = s.at(-1);
      if (last) finals[name] = last.value;
    }
    return { row, seed: seedOf(row), finals, series };
  });
}

/** The two sweeps' runs, paired; null when a sweep is not in the database (the caller names it). */
export function loadComparison(store: Store, refA: string, refB: string): Comparison | { missing: string } {
  const idA = findSweepId(store, refA);
  if (idA === undefined) return { missing: refA };
  const idB = findSweepId(store, refB);
  if (idB === undefined) return { missing: refB };
  const runsA = loadRuns(store, idA);
  const runsB = loadRuns(store, idB);
  const pairs = runsA.map((a): ComparisonPair => {
    const variant = a.row.variantGroup;
    const sameVariant = runsB.filter((b) => b.row.variantGroup === variant);
    const bSeeds: ComparisonPair['bSeeds'] = {};
    for (const m of COMPARED_METRICS) {
      const xs = sameVariant.map((b) => b.finals[m.name]).filter((v): v is number => v !== undefined);
      bSeeds[m.name] = { ...summarize(xs), min: xs.length ? Math.min(...xs) : null, max: xs.length ? Math.max(...xs) : null };
    }
    return { variant, label: a.row.label.replace(/\s*seed=\d+$/, ''), seed: a.seed, a, b: sameVariant.find((b) => b.seed === a.seed) ?? null, bSeeds };
  });
  return { a: { id: idA, name: getSweep(store, idA)?.name ?? idA }, b: { id: idB, name: getSweep(store, idB)?.name ?? idB }, pairs };
}

const show = (m: (typeof COMPARED_METRICS)[number], v: number | null | undefined): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '–' : m.percent ? `${(v * 100).toFixed(m.digits)}%` : v.toFixed(m.digits);

/** Where a value sits against the other implementation's seeds: inside their range, or how far outside. */
export function placeAgainstSeeds(v: number | undefined, s: { n: number; min: number | null; max: number | null }): string {
  if (v === undefined || s.n < 2 || s.min === null || s.max === null) return '';
  if (v >= s.min && v <= s.max) return 'within';
  return v < s.min ? 'below' : 'above';
}

function pairTable(c: Comparison): string {
  const head = [
    'run',
    'metric',
    c.a.name,
    `${c.b.name} (same seed)`,
    'difference',
    `${c.b.name} over its seeds: mean [95% CI] (min–max)`,
    `${c.a.name} vs those seeds`,
  ];
  const rows = c.pairs.flatMap((p) =>
    COMPARED_METRICS.map((m, i) => {
      const a = p.a.finals[m.name];
      const b = p.b?.finals[m.name];
      const s = p.bSeeds[m.name] ?? { n: 0, mean: null, sd: null, ciLow: null, ciHigh: null, min: null, max: null };
      const diff = a !== undefined && b !== undefined ? a - b : null;
      const diffText =
        diff === null ? '–' : m.percent ? `${diff >= 0 ? '+' : ''}${(diff * 100).toFixed(m.digits)} pt` : `${diff >= 0 ? '+' : ''}${diff.toFixed(m.digits)}`;
      const seeds =
        s.n === 0
          ? '–'
          : s.n === 1
            ? `${show(m, s.mean)} (1 seed)`
            : `${show(m, s.mean)} [${show(m, s.ciLow)}, ${show(m, s.ciHigh)}] (${show(m, s.min)}–${show(m, s.max)}, n = ${s.n})`;
      const first = i === 0 ? `<td class="variant" rowspan="${COMPARED_METRICS.length}">${escapeHtml(p.label)}<br><small>seed ${p.seed}</small></td>` : '';
      return `<tr>${first}<td>${escapeHtml(m.title)}</td><td>${show(m, a)}</td><td>${p.b ? show(m, b) : 'no run'}</td><td>${diffText}</td><td>${seeds}</td><td>${placeAgainstSeeds(a, s)}</td></tr>`;
    }),
  );
  return `<table class="results"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

async function pairCharts(c: Comparison): Promise<string> {
  const cells: string[] = [];
  for (const p of c.pairs) {
    for (const curve of CURVES) {
      const names = [`${c.a.name}`, `${c.b.name}`];
      const rows = [
        ...(p.a.series[curve.name] ?? []).map((pt) => ({ variant: c.a.name, ...pt })),
        ...(p.b?.series[curve.name] ?? []).map((pt) => ({ variant: c.b.name, ...pt })),
      ];
      if (rows.length === 0) continue;
      const svg = await renderSvg(
        lineChart({
          title: `${p.label}, seed ${p.seed}: ${curve.title}`,
          yTitle: curve.title,
          rows,
          variants: names,
          width: 300,
          height: 170,
          points: curve.name !== 'mu_norm',
        }),
      );
      cells.push(`<div class="chart" role="img" aria-label="${escapeHtml(`${curve.title}, ${p.label}`)}">${svg}</div>`);
    }
  }
  return `<div class="charts">${cells.join('\n')}</div>`;
}

export async function buildComparisonPage(c: Comparison, opts: { command: string; now?: Date }): Promise<string> {
  const title = `${c.a.name} vs ${c.b.name}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} — run for run</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Run for run: <code>${escapeHtml(c.a.name)}</code> vs <code>${escapeHtml(c.b.name)}</code></h1>
<p class="meta">Each succeeded run of <code>${escapeHtml(c.a.name)}</code> beside the run of <code>${escapeHtml(c.b.name)}</code> with the same swept
values and the same seed (0 where a sweep has no seeds). Generated ${escapeHtml((opts.now ?? new Date()).toISOString())} by <code>${escapeHtml(opts.command)}</code>.</p>
<h2>Final values</h2>
${pairTable(c)}
<p class="note">A seed is the same number in both, not the same random stream: two implementations draw their random numbers
differently, so a pair differs by the seed-to-seed noise even where the implementations agree. The right-hand columns say how large
that noise is: the other sweep's runs of the variant over all its seeds (mean, 95% CI of the mean by Student t, min–max), and whether
this run falls within their range. NLL: held-out −log p(x | c) per dimension in nats (noisy data scaled to [−1, 1]); consistency:
the share of generated samples both judges (the worker's two digit CNNs, the same for both sweeps) label with the class they were
drawn from.</p>
<h2>Curves, pair by pair</h2>
${await pairCharts(c)}
</body>
</html>
`;
}
