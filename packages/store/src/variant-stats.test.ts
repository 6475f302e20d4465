import { afterEach, describe, expect, it } from '@jest/globals';
import { applyEvents } from './apply-events';
import type { Store } from './open-store';
import { insertRuns, upsertSweep } from './runs';
import { tempStore, T0 } from './test-utils/fixtures';
import { refreshVariantStats, variantComparisonsBySweep, variantResultsBySweep } from './variant-stats';

// Student's sleep data (R's `sleep`): drug 1 and drug 2 per patient; patient i is seed i.
const DRUG1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
const DRUG2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];

let cleanup: (() => void) | null = null;
afterEach(() => {
  cleanup?.();
  cleanup = null;
});

/** A sweep of variants × seeds (seeds outermost, as expandSweep orders them) whose runs succeeded with `value(v, seed)` as eval/accuracy. */
function sweepWith(
  store: Store,
  variants: string[],
  seeds: number[],
  value: (v: string, seed: number) => number | null,
  spec: Record<string, unknown> = {},
): void {
  upsertSweep(store, { id: 'sw', name: 'sw', file: 'sw.yaml', spec }, T0);
  const runs = seeds.flatMap((seed, k) =>
    variants.map((v, i) => ({
      id: `r-${v}-${seed}`,
      idx: k * variants.length + i,
      label: `mu_init=${v} seed=${seed}`,
      variant: { 'prior.mu_init': v, seed },
      config: { seed, prior: { mu_init: v } },
    })),
  );
  insertRuns(store, 'sw', runs, T0);
  const events = runs.flatMap((r) => {
    const v = value(r.variant['prior.mu_init'], r.variant.seed);
    return [
      { kind: 'run-started' as const, runId: r.id, attempt: 1, host: 'h', workerId: 'w', backend: 'wasm', device: 'cpu', resumeFrom: null, at: T0 + 1 },
      {
        kind: 'metrics' as const,
        runId: r.id,
        rows: [
          { step: 10, name: 'eval/accuracy', value: v ?? NaN },
          { step: 10, name: 'eval/classify_images_per_sec', value: 100 },
          { step: 5, name: 'eval/accuracy', value: 0 },
        ],
      },
      { kind: 'mu-norms' as const, runId: r.id, step: 0, norms: [1, 3] },
      { kind: 'run-finished' as const, runId: r.id, status: 'succeeded' as const, finalStep: 10, elapsedMs: 1, at: T0 + 2 },
    ];
  });
  applyEvents(store, events);
}

describe('refreshVariantStats', () => {
  it('variant_results: n, mean, sd and the t interval over seeds of the final value; variant_comparisons: paired t against the first variant', () => {
    const t = tempStore();
    cleanup = t.cleanup;
    const seeds = DRUG1.map((_, i) => i);
    sweepWith(t.store, ['drug1', 'drug2'], seeds, (v, s) => (v === 'drug1' ? DRUG1[s] : DRUG2[s]) ?? null);
    expect(refreshVariantStats(t.store, 'sw', T0)).toEqual({ variants: 2, rows: 2 * 3 + 3 });

    const results = variantResultsBySweep(t.store, 'sw');
    expect(results.map((r) => [r.variantGroup, r.metric])).toEqual([
      ['prior.mu_init=drug1', 'eval/accuracy'],
      ['prior.mu_init=drug1', 'mu_norm/final'],
      ['prior.mu_init=drug1', 'mu_norm/init'],
      ['prior.mu_init=drug2', 'eval/accuracy'],
      ['prior.mu_init=drug2', 'mu_norm/final'],
      ['prior.mu_init=drug2', 'mu_norm/init'],
    ]);
    const d1 = results[0];
    expect(d1?.n).toBe(10);
    expect(d1?.mean).toBeCloseTo(0.75, 10); // R: mean(sleep$extra[1:10]) = 0.75, t.test CI -0.5297804 2.0297804
    expect(d1?.ciLow).toBeCloseTo(-0.5297804, 6);
    expect(d1?.ciHigh).toBeCloseTo(2.0297804, 6);
    expect(d1?.seedsJson[3]).toEqual({ seed: 3, value: -1.2, run_id: 'r-drug1-3' });
    expect(results[1]?.mean).toBe(2); // mean ‖μ_c‖ of [1, 3]
    expect(results[1]?.sd).toBe(0);

    const cmp = variantComparisonsBySweep(t.store, 'sw').find((c) => c.metric === 'eval/accuracy');
    expect(cmp).toMatchObject({ variantGroup: 'prior.mu_init=drug2', baselineGroup: 'prior.mu_init=drug1', nPairs: 10, method: 'paired-t', verdict: 'higher' });
    expect(cmp?.meanDiff).toBeCloseTo(1.58, 10);
    expect(cmp?.ciLow).toBeCloseTo(0.7001142, 6); // R: t.test(extra ~ group, data = sleep, paired = TRUE)
    expect(cmp?.pValue).toBeCloseTo(0.002833, 5);
  });

  it('the sweep file baseline: picks the baseline; unpaired seeds and failed runs are left out; a refresh replaces the rows', () => {
    const t = tempStore();
    cleanup = t.cleanup;
    sweepWith(t.store, ['zero', 'randn', 'data'], [0, 1, 2], (v, s) => (v === 'randn' && s === 2 ? null : ({ zero: 1, randn: 2, data: 3 }[v] ?? 0) + s / 10), {
      baseline: { 'prior.mu_init': 'randn' },
    });
    // data seed 1 failed: it has no final value in the statistics
    t.store.sqlite.prepare("UPDATE runs SET status = 'failed' WHERE id = 'r-data-1'").run();
    refreshVariantStats(t.store, 'sw', T0);
    refreshVariantStats(t.store, 'sw', T0 + 1); // idempotent: replaces, never duplicates
    const acc = variantResultsBySweep(t.store, 'sw').filter((r) => r.metric === 'eval/accuracy');
    expect(acc.map((r) => [r.variantGroup, r.n, r.updatedAt])).toEqual([
      ['prior.mu_init=zero', 3, T0 + 1],
      ['prior.mu_init=randn', 2, T0 + 1],
      ['prior.mu_init=data', 2, T0 + 1],
    ]);
    const cmps = variantComparisonsBySweep(t.store, 'sw').filter((c) => c.metric === 'eval/accuracy');
    expect(cmps.map((c) => [c.variantGroup, c.baselineGroup, c.nPairs])).toEqual([
      ['prior.mu_init=zero', 'prior.mu_init=randn', 2],
      ['prior.mu_init=data', 'prior.mu_init=randn', 1],
    ]);
    expect(cmps[0]?.meanDiff).toBeCloseTo(-1, 10); // zero − randn at seeds 0, 1: exactly −1 each
    expect(cmps[0]?.sdDiff).toBe(0);
    expect(cmps[1]?.verdict).toBe('too few pairs');
  });
});
