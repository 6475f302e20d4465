import { formatDiff, formatMetric, HEADLINE_METRICS, metricTitle } from './metrics';
import type { RunReport, SweepReport } from './report-data';

/** What the page builder needs besides the data: images as data URIs, and the charts already rendered to SVG. */
export interface PageInputs {
  report: SweepReport;
  /** `uri` → data URI, or null when the file cannot be read (shown as a note, never as a broken image). */
  image: (uri: string) => string | null;
  charts: { muNorm: string; loss: string; nll: string; consistency: string | null };
  /** A seeded sweep's charts: per headline metric the seeds with mean ± 95% CI, and the curves with bands. */
  seed: { dots: { metric: string; svg: string }[]; bands: { metric: string; svg: string }[] } | null;
  /** Run id → confusion matrix SVG. */
  confusion: Map<string, string>;
  generatedAt: Date;
  command: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const fmt = (v: number | null | undefined, digits = 3): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const pct = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(1)}%`);
function duration(ms: number | null): string {
  if (ms === null) return '–';
  const s = ms / 1000;
  return s < 90 ? `${s.toFixed(1)} s` : s < 5400 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(2)} h`;
}

function resultsTable(report: SweepReport): string {
  const head = [
    'run',
    'status',
    'steps',
    'NLL (nats/dim)',
    'bits/8-bit pixel †',
    'flow accuracy',
    'class-consistency (raw, T = 1)',
    '‖μ‖ init',
    '‖μ‖ end',
    'wall time',
    'backend',
  ];
  const rows = report.runs.map(({ result: r }) => {
    const cells = [
      `<td class="variant">${escapeHtml(r.label)}</td>`,
      `<td class="status ${escapeHtml(r.status)}">${escapeHtml(r.status)}${r.error ? `<div class="error">${escapeHtml(r.error)}</div>` : ''}</td>`,
      `<td>${r.finalStep ?? '–'}</td>`,
      `<td>${fmt(r.finalEvalNll, 4)}</td>`,
      `<td>${fmt(r.finalEvalBpd, 3)}</td>`,
      `<td>${pct(r.finalEvalAccuracy)}</td>`,
      `<td>${pct(r.finalConsistencyT1 ?? r.finalClassConsistency)}</td>`,
      `<td>${fmt(r.muNormInit, 2)}</td>`,
      `<td>${fmt(r.muNormFinal, 2)}</td>`,
      `<td>${duration(r.elapsedMs)}</td>`,
      `<td>${escapeHtml([r.backend, r.device].filter(Boolean).join(' · ') || '–')}</td>`,
    ];
    return `<tr>${cells.join('')}</tr>`;
  });
  return `<table class="results"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

/**
 * Lays out one cell per run: a rows × columns table when the sweep varies exactly two parameters (rows = the first,
 * columns = the second, as in the sweep file), else one row of labelled cells in sweep order.
 */
function variantGrid(report: SweepReport, cell: (run: RunReport) => string): string {
  const [a, b] = report.axes;
  if (report.axes.length === 2 && a && b) {
    const header = `<tr><th></th>${b.values.map((v) => `<th>${escapeHtml(v)}</th>`).join('')}</tr>`;
    const body = a.values.map((va) => {
      const cells = b.values.map((vb) => {
        const runs = report.runs.filter((r) => r.axes[a.key] === va && r.axes[b.key] === vb);
        return `<td>${runs.length === 0 ? '<span class="missing">no run</span>' : runs.map(cell).join('')}</td>`;
      });
      return `<tr><th class="row-head">${escapeHtml(va)}</th>${cells.join('')}</tr>`;
    });
    return `<table class="grid"><thead>${header}</thead><tbody>${body.join('')}</tbody></table>`;
  }
  return `<div class="strip">${report.runs.map((r) => `<figure>${cell(r)}<figcaption>${escapeHtml(r.result.label)}</figcaption></figure>`).join('')}</div>`;
}

function imageCell(inputs: PageInputs, run: RunReport, kind: string, alt: string): string {
  const ref = run.images[kind];
  if (!ref) return `<div class="missing">no ${escapeHtml(kind)} image recorded</div>`;
  const data = inputs.image(ref.uri);
  if (data === null) return `<div class="missing">image not readable: ${escapeHtml(ref.uri)}</div>`;
  return `<img src="${data}" alt="${escapeHtml(`${alt}, ${run.result.label}, step ${ref.step}`)}" title="${escapeHtml(`${run.result.label} · step ${ref.step}`)}"><div class="step">step ${ref.step}</div>`;
}

export const STYLE = `
  :root { color-scheme: light; }
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px 32px; color: #1d1d1f; background: #fff; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  h2 { font-size: 17px; margin: 32px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
  .meta { color: #555; font-size: 13px; }
  .meta code { background: #f3f3f3; padding: 1px 4px; border-radius: 3px; }
  table.results { border-collapse: collapse; font-variant-numeric: tabular-nums; }
  table.results th, table.results td { border: 1px solid #ddd; padding: 4px 8px; text-align: right; vertical-align: top; }
  table.results th { background: #f6f6f6; }
  table.results td.variant, table.results td.status { text-align: left; }
  td.status.succeeded { color: #1a7f37; } td.status.failed, td.status.diverged { color: #b3261e; } td.status.running { color: #9a6700; }
  .error { color: #b3261e; font-size: 12px; max-width: 360px; white-space: pre-wrap; }
  table.grid { border-collapse: collapse; }
  table.grid th, table.grid td { padding: 6px; vertical-align: top; text-align: center; }
  table.grid th.row-head { text-align: right; max-width: 160px; }
  .strip { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
  figure { margin: 0; text-align: center; }
  figcaption { font-size: 13px; margin-top: 4px; }
  img { image-rendering: pixelated; width: 290px; max-width: 100%; border: 1px solid #ccc; }
  .step { color: #777; font-size: 11px; }
  .missing { color: #b3261e; font-size: 12px; border: 1px dashed #d0a0a0; padding: 12px; }
  .charts { display: flex; flex-wrap: wrap; gap: 24px; }
  .chart svg { max-width: 100%; height: auto; }
  .note { color: #555; font-size: 13px; max-width: 900px; }
  .seeds { color: #666; font-size: 11px; }
  .ci { color: #555; font-size: 12px; }
  .verdict.higher { color: #1a7f37; } .verdict.lower { color: #b3261e; } .verdict.none { color: #555; }
  table.results tr.group-start td { border-top: 2px solid #bbb; }
`;

function ciText(name: string, mean: number | null, lo: number | null, hi: number | null, n: number): string {
  if (mean === null) return '–';
  const half = lo !== null && hi !== null ? (hi - lo) / 2 : null;
  return `${escapeHtml(formatMetric(name, mean, 4))}${half === null ? '' : ` <span class="ci">± ${escapeHtml(formatDiff(name, half, 4).replace(/^[+−±]/, ''))}</span>`} <span class="ci">(n = ${n})</span>`;
}

/** The judges and which consistency figure the report leads with, and why. */
function judgesNote(report: SweepReport): string {
  const j = report.stats.judges;
  const list =
    j.length === 0
      ? 'no judge accuracy recorded'
      : j.map((x) => `<b>${escapeHtml(x.name)}</b> ${escapeHtml(formatMetric('accuracy', x.accuracy))} on held-out digits`).join(', ');
  return `<p class="note">Judges (digit classifiers that label the generated samples): ${list}. The figure this report leads with is
the <b>judges' mean class-consistency of raw samples</b> (no denoising) at T = 1: held-out accuracy does not validate a judge on
generated digits (two CNNs of similar held-out accuracy can score the same samples many points apart), so no single judge's number
is taken as the truth; the mean halves the weight of either one's quirks, each judge's own figure is shown beside it, and their
agreement on the generated samples says how far to trust both. Raw samples are used because denoising is part of the sampler,
not of the model's prior.</p>`;
}

function seedSections(inputs: PageInputs): string {
  const { stats } = inputs.report;
  if (!stats.seeded || inputs.seed === null) return '';
  const label = (group: string | null) => (group === null ? '–' : (stats.labels[group] ?? group));
  const metrics = HEADLINE_METRICS.filter((m) => stats.results.some((r) => r.metric === m.name));
  const head = ['variant', ...metrics.map((m) => metricTitle(m.name))];
  const rows = stats.variants.map((v) => {
    const cells = metrics.map((m) => {
      const r = stats.results.find((x) => x.variantGroup === v && x.metric === m.name);
      if (!r) return '<td>–</td>';
      const seeds = r.seedsJson.map((x) => `${x.seed}: ${formatMetric(m.name, x.value, 4)}`).join(', ');
      return `<td>${ciText(m.name, r.mean, r.ciLow, r.ciHigh, r.n)}<div class="seeds" title="per seed">${escapeHtml(seeds)}</div></td>`;
    });
    return `<tr><td class="variant">${escapeHtml(label(v))}${v === stats.baseline ? ' <span class="ci">(baseline)</span>' : ''}</td>${cells.join('')}</tr>`;
  });
  const table = `<table class="results seed-results"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('\n')}</tbody></table>`;

  const cmpRows = stats.variants
    .filter((v) => v !== stats.baseline)
    .flatMap((v) =>
      metrics.flatMap((m, i) => {
        const c = stats.comparisons.find((x) => x.variantGroup === v && x.metric === m.name);
        if (!c) return [];
        const verdict =
          c.verdict === 'higher' || c.verdict === 'lower'
            ? `<span class="verdict ${c.verdict}">${c.verdict}</span>`
            : c.verdict === 'too few pairs'
              ? `<span class="verdict none">too few paired seeds (n = ${c.nPairs})</span>`
              : `<span class="verdict none">no difference detected with n = ${c.nPairs} seeds (smallest detectable ≈ ${escapeHtml(formatDiff(m.name, c.minDetectableDiff, 4).replace(/^[+−±]/, ''))})</span>`;
        const ci =
          c.ciLow === null || c.ciHigh === null ? '–' : `[${escapeHtml(formatDiff(m.name, c.ciLow, 4))}, ${escapeHtml(formatDiff(m.name, c.ciHigh, 4))}]`;
        return [
          `<tr${i === 0 ? ' class="group-start"' : ''}><td class="variant">${escapeHtml(label(v))}</td><td class="variant">${escapeHtml(metricTitle(m.name))}</td><td>${escapeHtml(formatDiff(m.name, c.meanDiff, 4))}</td><td>${ci}</td><td>${c.pValue === null ? '–' : c.pValue < 0.001 ? '&lt; 0.001' : c.pValue.toFixed(3)}</td><td>${c.nPairs}</td><td class="variant">${verdict}</td></tr>`,
        ];
      }),
    );
  const cmpTable = `<table class="results comparisons"><thead><tr><th>variant</th><th>metric</th><th>difference (variant − baseline)</th><th>95% CI</th><th>p</th><th>pairs</th><th>verdict</th></tr></thead><tbody>${cmpRows.join('\n')}</tbody></table>`;
  const chart = (svg: string, label: string) => `<div class="chart" role="img" aria-label="${escapeHtml(label)}">${svg}</div>`;
  return `
<h2>Results over seeds: mean ± 95% CI</h2>
<p class="note">Seeds are the unit of replication: each variant (a run config without its seed) ran with several seeds, and every
number below is the mean of its succeeded seeds ± the half-width of the 95% confidence interval of that mean (Student t, n − 1
degrees of freedom), with the per-seed values beneath. Same data as <code>SELECT * FROM variant_results</code>.</p>
${judgesNote(inputs.report)}
${table}
<div class="charts">${inputs.seed.dots.map((d) => chart(d.svg, `${metricTitle(d.metric)} per seed, mean and 95% CI per variant`)).join('')}</div>

<h2>Against the baseline, paired by seed</h2>
<p class="note">Each variant against the baseline <b>${escapeHtml(label(stats.baseline))}</b> (the sweep's first variant, or its
<code>baseline:</code>), run for run with the same seed (the same seed gives both runs the same data order, noise and sample draws),
by a paired t test: the mean difference, its 95% CI and the two-sided p-value. “No difference detected” is not “no difference”: it
comes with the smallest true difference that this many pairs, at this spread, would detect with 80% power. Same data as
<code>SELECT * FROM variant_comparisons</code>.</p>
${cmpTable}

<h2>Curves over seeds</h2>
<div class="charts">${inputs.seed.bands.map((b) => chart(b.svg, `${b.metric} over training, mean and 95% band per variant`)).join('')}</div>
`;
}

/** The whole page: one self-contained HTML document (inline CSS, images as data URIs, charts as inline SVG, no script). */
export function buildPage(inputs: PageInputs): string {
  const { report } = inputs;
  const s = report.sweep;
  const spec = s.specJson as { description?: unknown } | null;
  const description = typeof spec?.description === 'string' ? spec.description : '';
  const counts = Object.entries(report.counts)
    .filter(([k, n]) => k !== 'total' && n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const axesText =
    report.axes.length === 0 ? 'nothing (one run)' : report.axes.map((a) => `<code>${escapeHtml(a.key)}</code> (${a.values.length})`).join(' × ');
  const chart = (svg: string | null, label: string) => (svg === null ? '' : `<div class="chart" role="img" aria-label="${escapeHtml(label)}">${svg}</div>`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(s.name)} — sweep report</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Sweep <code>${escapeHtml(s.name)}</code></h1>
<p class="meta">${description ? `${escapeHtml(description)}<br>` : ''}File <code>${escapeHtml(s.file)}</code> · varies ${axesText} · ${report.counts.total ?? 0} runs: ${escapeHtml(counts || 'none')}<br>
Generated ${escapeHtml(inputs.generatedAt.toISOString())} by <code>${escapeHtml(inputs.command)}</code></p>

${seedSections(inputs)}
<h2>${report.stats.seeded ? 'Every run' : 'Results'}</h2>
${resultsTable(report)}
<p class="note">NLL: held-out −log p(x | c) per dimension, in nats, of the data scaled to [−1, 1] with the training noise (Gaussian, std
0.1) added, at the last eval. † The bits figure is (NLL + ln 128) / ln 2: the same density with pixels rescaled to [0, 256), in bits.
It is <b>not</b> the discrete bits/dim of the literature (that dequantises with uniform noise of one grey level; this model sees
Gaussian noise of 12.8 grey levels), so compare it only between runs of this project. Flow accuracy: argmax over classes of the
class prior's density of the flow's latent, on held-out digits, in one forward pass. Class-consistency: the share of the run's raw
generated samples at T = 1 that the judges (two independent CNN digit classifiers; their mean) label with the class they were
sampled from, at the last eval (runs recorded before there were two judges: one classifier on denoised samples). ‖μ‖: mean over
classes of the prior mean's norm, at initialisation and at the end.</p>

<h2>Uncurated samples</h2>
<p class="note">One row per class (0–9), after one-step score denoising, from the newest eval.</p>
${variantGrid(report, (r) => imageCell(inputs, r, 'samples-denoised', 'samples'))}

<h2>Learned prior means μ<sub>c</sub></h2>
<p class="note">μ<sub>c</sub> of classes 0–9 in image space (un-patchified, clipped to [−1, 1]), at the newest eval.</p>
${variantGrid(report, (r) => imageCell(inputs, r, 'mu', 'prior means'))}

<h2>‖μ‖ over training</h2>
<div class="charts">${chart(inputs.charts.muNorm, '‖μ‖ over training, one line per variant')}</div>

<h2>Loss curves</h2>
<div class="charts">${chart(inputs.charts.loss, 'training loss per variant')}${chart(inputs.charts.nll, 'held-out NLL per variant')}${chart(inputs.charts.consistency, 'class-consistency per variant')}</div>

<h2>Confusion matrices</h2>
<p class="note">Rows: the class a sample was drawn from; columns: the digit classifier's label; cells: sample counts, shaded by row share. Off-diagonal mass is mode mixing.</p>
${variantGrid(report, (r) => {
  const svg = inputs.confusion.get(r.result.runId);
  return svg
    ? `<div class="chart" role="img" aria-label="${escapeHtml(`confusion matrix, ${r.result.label}`)}">${svg}</div>`
    : '<div class="missing">no confusion matrix recorded</div>';
})}
</body>
</html>
`;
}
