/** The final metrics a seeded report leads with, in order, with their units. */
export const HEADLINE_METRICS: { name: string; unit: string; percent: boolean; better: 'higher' | 'lower' | null }[] = [
  { name: 'eval/nll', unit: 'nats/dim', percent: false, better: 'lower' },
  { name: 'eval/accuracy', unit: 'accuracy', percent: true, better: 'higher' },
  { name: 'eval/consistency/raw/t1.0', unit: 'class-consistency', percent: true, better: 'higher' },
  { name: 'eval/consistency/raw/t0.7', unit: 'class-consistency', percent: true, better: 'higher' },
  { name: 'eval/consistency/denoised/t1.0', unit: 'class-consistency', percent: true, better: 'higher' },
  { name: 'eval/consistency/raw/t1.0/deep', unit: 'class-consistency', percent: true, better: 'higher' },
  { name: 'eval/consistency/raw/t1.0/shallow', unit: 'class-consistency', percent: true, better: 'higher' },
  { name: 'eval/judge_agreement/raw/t1.0', unit: 'agreement', percent: true, better: null },
  { name: 'mu_norm/final', unit: '‖μ‖', percent: false, better: null },
];

const TITLES: Record<string, string> = {
  'eval/nll': 'Held-out NLL (nats/dim)',
  'eval/bpd': 'Held-out NLL in bits per 8-bit pixel (see note)',
  'eval/accuracy': 'Flow accuracy (one pass, held-out digits)',
  loss: 'Training loss (nats/dim)',
  'mu_norm/final': '‖μ‖ at the end (mean over classes)',
  'mu_norm/init': '‖μ‖ at init (mean over classes)',
};

/** A metric's name for people: `eval/consistency/raw/t0.7/deep` → `Class-consistency, raw samples, T = 0.7, judge deep`. */
export function metricTitle(name: string): string {
  const known = TITLES[name];
  if (known) return known;
  const c = /^eval\/(consistency|judge_agreement)\/(raw|denoised)\/t([0-9.]+)(?:\/(.+))?$/.exec(name);
  if (c) {
    const what = c[1] === 'consistency' ? 'Class-consistency' : 'Judges’ agreement';
    const who = c[4] ? `, judge ${c[4]}` : c[1] === 'consistency' ? ', judges’ mean' : '';
    return `${what}, ${c[2]} samples, T = ${c[3]}${who}`;
  }
  return name;
}

/** A value as the metric shows it: a share as a percentage, anything else with `digits` decimals. */
export function formatMetric(name: string, v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const percent = HEADLINE_METRICS.find((m) => m.name === name)?.percent ?? /consistency|agreement|accuracy/.test(name);
  return percent ? `${(v * 100).toFixed(1)}%` : v.toFixed(digits);
}

/** A difference as the metric shows it: percentage points for shares. */
export function formatDiff(name: string, v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const percent = HEADLINE_METRICS.find((m) => m.name === name)?.percent ?? /consistency|agreement|accuracy/.test(name);
  const sign = v > 0 ? '+' : v < 0 ? '−' : '±';
  return percent ? `${sign}${Math.abs(v * 100).toFixed(1)} pt` : `${sign}${Math.abs(v).toFixed(digits)}`;
}
