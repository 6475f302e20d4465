/**
 * @ablate/stats: the statistics of a sweep with seeds. Each variant's final metric over its seeds (mean ± 95% CI), and
 * each variant against the baseline, paired by seed. Distributions come from stdlib (@stdlib/stats-base-dists-t-*),
 * not hand-written approximations.
 */
import tCdf = require('@stdlib/stats-base-dists-t-cdf');
import tQuantile = require('@stdlib/stats-base-dists-t-quantile');

export interface Summary {
  n: number;
  mean: number | null;
  /** Sample standard deviation (n − 1); null for n < 2. */
  sd: number | null;
  /** 95% confidence interval of the mean, Student t with n − 1 degrees of freedom; null for n < 2. */
  ciLow: number | null;
  ciHigh: number | null;
}

const finite = (xs: readonly number[]) => xs.filter((x) => Number.isFinite(x));

function meanSd(xs: readonly number[]): { mean: number; sd: number | null } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, sd: null };
  const ss = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
  return { mean, sd: Math.sqrt(ss / (n - 1)) };
}

/** Mean, standard deviation and the `level` (default 95%) t confidence interval of the mean; NaN values are dropped. */
export function summarize(values: readonly number[], level = 0.95): Summary {
  const xs = finite(values);
  const n = xs.length;
  if (n === 0) return { n: 0, mean: null, sd: null, ciLow: null, ciHigh: null };
  const { mean, sd } = meanSd(xs);
  if (sd === null) return { n, mean, sd: null, ciLow: null, ciHigh: null };
  const half = tQuantile(1 - (1 - level) / 2, n - 1) * (sd / Math.sqrt(n));
  return { n, mean, sd, ciLow: mean - half, ciHigh: mean + half };
}

export type Verdict = 'higher' | 'lower' | 'no difference detected' | 'too few pairs';

export interface Comparison {
  nPairs: number;
  /** Mean of (variant − baseline) over the pairs. */
  meanDiff: number | null;
  sdDiff: number | null;
  ciLow: number | null;
  ciHigh: number | null;
  /** Two-sided p-value of the paired t test (H0: mean difference 0). */
  pValue: number | null;
  method: 'paired-t';
  /**
   * The smallest true mean difference that a paired t test on this many pairs, with this spread of differences, detects
   * with 80% power at the two-sided 5% level: (t_{0.975, n−1} + t_{0.80, n−1}) · sd / √n (the usual approximation).
   */
  minDetectableDiff: number | null;
  verdict: Verdict;
}

/**
 * Paired comparison of variant against baseline: pairs are (variant value, baseline value) of the same seed. Paired t:
 * with the same seed both runs see the same data order, noise draws and sample seeds, so the pair difference removes
 * most of the seed-to-seed noise, and the t interval is exact for normal differences. A bootstrap would need far more
 * than the 5–10 pairs a sweep has (its percentile interval undercovers at such n), so it is not used.
 */
export function pairedComparison(pairs: readonly (readonly [number, number])[], level = 0.95, power = 0.8): Comparison {
  const diffs = pairs.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b)).map(([a, b]) => a - b);
  const n = diffs.length;
  const none: Comparison = {
    nPairs: n,
    meanDiff: null,
    sdDiff: null,
    ciLow: null,
    ciHigh: null,
    pValue: null,
    method: 'paired-t',
    minDetectableDiff: null,
    verdict: 'too few pairs',
  };
  if (n === 0) return none;
  const { mean, sd } = meanSd(diffs);
  if (sd === null) return { ...none, meanDiff: mean };
  const se = sd / Math.sqrt(n);
  const tCrit = tQuantile(1 - (1 - level) / 2, n - 1);
  const ciLow = mean - tCrit * se,
    ciHigh = mean + tCrit * se;
  // sd = 0: every pair differs by the same amount; the test is degenerate (t = ±∞, or 0/0 when all differences are 0).
  const pValue = se === 0 ? (mean === 0 ? 1 : 0) : 2 * (1 - tCdf(Math.abs(mean / se), n - 1));
  const minDetectableDiff = (tCrit + tQuantile(power, n - 1)) * se;
  const verdict: Verdict = ciLow > 0 ? 'higher' : ciHigh < 0 ? 'lower' : 'no difference detected';
  return { nPairs: n, meanDiff: mean, sdDiff: sd, ciLow, ciHigh, pValue, method: 'paired-t', minDetectableDiff, verdict };
}
