import { describe, expect, it } from '@jest/globals';
import { classConsistency } from './consistency';

describe('classConsistency', () => {
  it('counts class-c samples labelled k, the overall share labelled right, and each class share', () => {
    const sampled = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2];
    const predicted = [0, 0, 0, 1, 1, 2, 2, 2, 2, 2];
    const c = classConsistency(sampled, predicted, 3);
    expect(c.confusion).toEqual([
      [3, 1, 0],
      [0, 1, 3],
      [0, 0, 2],
    ]);
    expect(c.consistency).toBeCloseTo(6 / 10);
    expect(c.perClass).toEqual([0.75, 0.25, 1]);
    expect(c.count).toBe(10);
  });

  it('a class with no samples has NaN consistency; bad input is refused', () => {
    expect(classConsistency([0, 0], [0, 1], 2).perClass[1]).toBeNaN();
    expect(() => classConsistency([0, 1], [0], 2)).toThrow(/2 classes but 1 predictions/);
    expect(() => classConsistency([0, 5], [0, 1], 2)).toThrow(/outside 0\.\.1/);
  });
});
