import { describe, expect, it } from '@jest/globals';
import { pairedComparison, summarize } from './index';

// Student's (1908) sleep data, as in R's `sleep`: extra hours of sleep of 10 patients under two drugs.
const DRUG1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
const DRUG2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];

describe('pairedComparison', () => {
  it("matches R's t.test(extra ~ group, data = sleep, paired = TRUE)", () => {
    // R 4.x: t = -4.0621, df = 9, p-value = 0.002833; 95 percent CI -2.4598858 -0.7001142; mean difference -1.58 (1 − 2).
    const c = pairedComparison(DRUG2.map((b, i) => [b, DRUG1[i] ?? NaN] as const));
    expect(c.nPairs).toBe(10);
    expect(c.meanDiff).toBeCloseTo(1.58, 10);
    expect(c.sdDiff).toBeCloseTo(1.229995, 5);
    expect(c.ciLow).toBeCloseTo(0.7001142, 6);
    expect(c.ciHigh).toBeCloseTo(2.4598858, 6);
    expect(c.pValue).toBeCloseTo(0.002833, 5);
    expect(c.verdict).toBe('higher');
    expect(c.method).toBe('paired-t');
    // R: qt(.975, 9) = 2.262157, qt(.8, 9) = 0.8834039; (t_{.975,9} + t_{.80,9}) · sd/√n = (2.262157 + 0.8834039) · 1.229995/√10
    expect(c.minDetectableDiff).toBeCloseTo((2.262157 + 0.8834039) * (1.229995 / Math.sqrt(10)), 4);
  });

  it('reverses sign and verdict when the roles swap', () => {
    const c = pairedComparison(DRUG1.map((a, i) => [a, DRUG2[i] ?? NaN] as const));
    expect(c.meanDiff).toBeCloseTo(-1.58, 10);
    expect(c.ciHigh).toBeCloseTo(-0.7001142, 6);
    expect(c.verdict).toBe('lower');
  });

  it('says "no difference detected" when the CI covers 0, and "too few pairs" below two', () => {
    const c = pairedComparison([
      [1, 0],
      [0, 1],
      [2, 1.5],
      [1, 1.5],
    ]);
    expect(c.verdict).toBe('no difference detected');
    expect(c.ciLow).toBeLessThan(0);
    expect(c.ciHigh).toBeGreaterThan(0);
    expect(pairedComparison([[1, 0]]).verdict).toBe('too few pairs');
    expect(pairedComparison([[1, 0]]).meanDiff).toBe(1);
    expect(pairedComparison([]).nPairs).toBe(0);
  });

  it('drops pairs with a missing (NaN) side', () => {
    const c = pairedComparison([
      [1, NaN],
      [2, 1],
      [3, 1],
      [4, 1],
    ]);
    expect(c.nPairs).toBe(3);
    expect(c.meanDiff).toBeCloseTo(2, 12);
  });
});

describe('summarize', () => {
  it('mean, sd and the t interval of the mean (textbook: 5 values, t_{.975,4} = 2.776445)', () => {
    const s = summarize([2, 4, 4, 5, 5]);
    expect(s.n).toBe(5);
    expect(s.mean).toBeCloseTo(4, 12);
    expect(s.sd).toBeCloseTo(Math.sqrt(1.5), 12);
    expect(s.ciLow).toBeCloseTo(4 - 2.776445 * Math.sqrt(1.5 / 5), 5);
    expect(s.ciHigh).toBeCloseTo(4 + 2.776445 * Math.sqrt(1.5 / 5), 5);
  });

  it('one value has no spread; none has no mean', () => {
    expect(summarize([3])).toEqual({ n: 1, mean: 3, sd: null, ciLow: null, ciHigh: null });
    expect(summarize([NaN])).toEqual({ n: 0, mean: null, sd: null, ciLow: null, ciHigh: null });
  });
});
