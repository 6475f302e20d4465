import { describe, expect, it } from '@jest/globals';
import { lrAt } from './lr-schedule';

describe('lrAt', () => {
  const s = { lr: 3e-3, warmupSteps: 50, totalSteps: 3000, minLrRatio: 0 };
  it('warms up linearly to lr', () => {
    expect(lrAt(s, 1)).toBeCloseTo(3e-3 / 50, 12);
    expect(lrAt(s, 25)).toBeCloseTo(1.5e-3, 12);
    expect(lrAt(s, 50)).toBeCloseTo(3e-3, 12);
  });
  it('then decays by a cosine to lr · minLrRatio', () => {
    expect(lrAt(s, 50 + 1475)).toBeCloseTo(1.5e-3, 6);
    expect(lrAt(s, 3000)).toBeCloseTo(0, 12);
    expect(lrAt({ ...s, minLrRatio: 0.1 }, 3000)).toBeCloseTo(3e-4, 12);
    for (let t = 51; t < 3000; t += 97) expect(lrAt(s, t + 1)).toBeLessThan(lrAt(s, t));
  });
  it('works without warmup', () => {
    expect(lrAt({ ...s, warmupSteps: 0 }, 0)).toBeCloseTo(3e-3, 12);
  });
});
