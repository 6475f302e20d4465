import type { RunReport, SweepReport } from './report-data';

/** What the page builder needs besides the data: images as data URIs, and the charts already rendered to SVG. */
export interface PageInputs {
  report: SweepReport;
  /** `uri` → data URI, or null when the file cannot be read (shown as a note, never as a broken image). */
  image: (uri: string) => string | null;
  charts: { muNorm: string; loss: string; bpd: string; consistency: string | null };
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
  const head = ['variant', 'status', 'steps', 'NLL (nats/dim)', 'bits/dim', 'flow accuracy', 'class-consistency', '‖μ‖ init', '‖μ‖ end', 'wall time', 'backend'];
  const rows = report.runs.map(({ result: r }) => {
    const cells = [
      `<td class="variant">${escapeHtml(r.label)}</td>`,
      `<td class="status ${escapeHtml(r.status)}">${escapeHtml(r.status)}${r.error ? `<div class="error">${escapeHtml(r.error)}</div>` : ''}</td>`,
      `<td>${r.finalStep ?? '–'}</td>`,
      `<td>${fmt(r.finalEvalNll, 4)}</td>`,
      `<td>${fmt(r.finalEvalBpd, 3)}</td>`,
      `<td>${pct(r.finalEvalAccuracy)}</td>`,
      `<td>${pct(r.finalClassConsistency)}</td>`,
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

const STYLE = `
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
`;

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
  const axesText = report.axes.length === 0 ? 'nothing (one run)' : report.axes.map((a) => `<code>${escapeHtml(a.key)}</code> (${a.values.length})`).join(' × ');
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

<h2>Results</h2>
${resultsTable(report)}
<p class="note">NLL and bits/dim: held-out −log p(x | c) of the noisy data per dimension at the last eval. Flow accuracy: argmax over classes of
the class prior's density of the flow's latent, on held-out digits, in one forward pass. Class-consistency: the share of the run's
generated samples (denoised) that an independent CNN digit classifier labels with the class they were sampled from, at the last eval.
‖μ‖: mean over classes of the prior mean's norm, at initialisation and at the end.</p>

<h2>Uncurated samples</h2>
<p class="note">One row per class (0–9), after one-step score denoising, from the newest eval.</p>
${variantGrid(report, (r) => imageCell(inputs, r, 'samples-denoised', 'samples'))}

<h2>Learned prior means μ<sub>c</sub></h2>
<p class="note">μ<sub>c</sub> of classes 0–9 in image space (un-patchified, clipped to [−1, 1]), at the newest eval.</p>
${variantGrid(report, (r) => imageCell(inputs, r, 'mu', 'prior means'))}

<h2>‖μ‖ over training</h2>
<div class="charts">${chart(inputs.charts.muNorm, '‖μ‖ over training, one line per variant')}</div>

<h2>Loss curves</h2>
<div class="charts">${chart(inputs.charts.loss, 'training loss per variant')}${chart(inputs.charts.bpd, 'held-out bits per dimension per variant')}${chart(inputs.charts.consistency, 'class-consistency per variant')}</div>

<h2>Confusion matrices</h2>
<p class="note">Rows: the class a sample was drawn from; columns: the digit classifier's label; cells: sample counts, shaded by row share. Off-diagonal mass is mode mixing.</p>
${variantGrid(report, (r) => {
  const svg = inputs.confusion.get(r.result.runId);
  return svg ? `<div class="chart" role="img" aria-label="${escapeHtml(`confusion matrix, ${r.result.label}`)}">${svg}</div>` : '<div class="missing">no confusion matrix recorded</div>';
})}
</body>
</html>
`;
}
