import { describe, expect, it } from '@jest/globals';
import { expandSweep, parseSweep } from '@ablate/sweep';
import { median, quantile } from './bench-stats';
import { generatedSweepYaml } from './bench-submit';

describe('bench statistics', () => {
  it('takes quantiles by nearest rank', () => {
    const xs = Array.from({ length: 200 }, (_, i) => 200 - i); // 200..1, unsorted on purpose
    expect(quantile(xs, 0.95)).toBe(190);
    expect(quantile(xs, 1)).toBe(200);
    expect(quantile(xs, 0)).toBe(1);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it('takes the median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe('generated sweep', () => {
  it('expands to side⁴ distinct runs', () => {
    const runs = expandSweep(parseSweep(generatedSweepYaml('bench-gen', 3), 'bench-gen.yaml'));
    expect(runs).toHaveLength(81);
    expect(new Set(runs.map((r) => r.runId)).size).toBe(81);
  });
});
