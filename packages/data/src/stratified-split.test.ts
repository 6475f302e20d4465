import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataError } from './data-error';
import type { Dataset } from './dataset';
import { loadEmbeddedMnist } from './embedded-mnist';
import { splitStratified, testCountsPerClass, type Split } from './stratified-split';
import { makeTempDir } from './test-utils/idx-fixture';
import { syntheticDataset } from './test-utils/synthetic-dataset';

let tmp: ReturnType<typeof makeTempDir>;
let mnist: Dataset;
let split: Split;
beforeAll(() => {
  tmp = makeTempDir('split');
  mnist = loadEmbeddedMnist({ cacheDir: tmp.dir }).dataset;
  split = splitStratified(mnist, { seed: 0 });
});
afterAll(() => tmp.cleanup());

function classCounts(labels: Uint8Array): number[] {
  const c = new Array<number>(10).fill(0);
  for (const y of labels) c[y] = (c[y] ?? 0) + 1;
  return c;
}

describe('splitStratified on the embedded MNIST', () => {
  it('sizes add up to 10,000 with round(10000/6) = 1667 in test', () => {
    expect(split.train.count + split.test.count).toBe(10000);
    expect([split.train.count, split.test.count]).toEqual([8333, 1667]);
    expect(split.train.labels).toHaveLength(8333);
    expect(split.test.images).toHaveLength(1667 * 784);
  });

  it('has every class in both splits, in proportion within ±1 per class', () => {
    const all = classCounts(mnist.labels);
    const test = classCounts(split.test.labels);
    const train = classCounts(split.train.labels);
    all.forEach((n, c) => {
      expect(test[c]).toBeGreaterThan(0);
      expect(train[c]).toBeGreaterThan(0);
      expect(Math.abs((test[c] ?? 0) - n / 6)).toBeLessThan(1);
      expect(Math.abs((train[c] ?? 0) - (n * 5) / 6)).toBeLessThan(1);
    });
  });

  it('train and test are disjoint and together cover every example; images and labels come from those indices', () => {
    const seen = new Uint8Array(10000);
    for (const i of [...split.trainIndices, ...split.testIndices]) seen[i] = (seen[i] ?? 0) + 1;
    expect(seen.every((n) => n === 1)).toBe(true);
    for (const k of [0, 17, 1666]) {
      const i = split.testIndices[k] ?? -1;
      expect(split.test.labels[k]).toBe(mnist.labels[i]);
      expect(Array.from(split.test.images.subarray(k * 784, (k + 1) * 784))).toEqual(Array.from(mnist.images.subarray(i * 784, (i + 1) * 784)));
    }
  });

  it('is identical for the same seed and different for another seed', () => {
    const again = splitStratified(mnist, { seed: 0 });
    expect(Array.from(again.testIndices)).toEqual(Array.from(split.testIndices));
    expect(Array.from(again.trainIndices)).toEqual(Array.from(split.trainIndices));
    expect(Buffer.from(again.train.images.buffer).equals(Buffer.from(split.train.images.buffer))).toBe(true);
    const other = splitStratified(mnist, { seed: 1 });
    const testSet = new Set(split.testIndices);
    const overlap = [...other.testIndices].filter((i) => testSet.has(i)).length;
    expect(overlap).toBeLessThan(1667 / 2); // a random other split shares about 1/6 of the test set
    expect(other.test.count).toBe(1667);
  });

  it('orders each split randomly, so a prefix of the test set has many classes', () => {
    expect(new Set(split.test.labels.subarray(0, 50)).size).toBeGreaterThanOrEqual(8);
  });

  it('takes the test fraction from the options', () => {
    const half = splitStratified(mnist, { testFraction: 0.5, seed: 3 });
    expect([half.train.count, half.test.count]).toEqual([5000, 5000]);
  });
});

describe('splitStratified options and edge cases', () => {
  it('shares round(N·f) by largest remainder, ties to the lower class', () => {
    expect(testCountsPerClass([3, 3, 3], 0.5)).toEqual([2, 2, 1]);
    expect(testCountsPerClass([1001, 1127, 991], 1 / 6)).toEqual([167, 188, 165]);
    expect(testCountsPerClass([10, 0, 5], 0.2)).toEqual([2, 0, 1]);
  });

  it('rejects a test fraction outside (0, 1) and a non-integer seed', () => {
    const ds = syntheticDataset(20, 2);
    expect(() => splitStratified(ds, { testFraction: 1 })).toThrow(DataError);
    expect(() => splitStratified(ds, { testFraction: 0 })).toThrow('testFraction must be a number strictly between 0 and 1, got 0');
    expect(() => splitStratified(ds, { testFraction: Number.NaN })).toThrow('got NaN');
    expect(() => splitStratified(ds, { seed: 0.5 })).toThrow('splitSeed must be an integer, got 0.5');
  });
});
