import { DataError } from './data-error';
import { indicesByClass, subsetDataset, type Dataset } from './dataset';
import { createRng, subStreamSeed, shuffleInPlace } from './prng';

export const DEFAULT_TEST_FRACTION = 1 / 6;
export const DEFAULT_SPLIT_SEED = 0;

export interface SplitOptions {
  testFraction?: number; // default 1/6
  seed?: number; // default 0
}

export interface Split {
  train: Dataset;
  test: Dataset;
  trainIndices: Int32Array; // positions in the source data set, in the order of `train`
  testIndices: Int32Array;
}

// Sub-stream keys for subStreamSeed, so the per-class draws and the final orders never share a stream.
const STREAM_CLASS = 0x53504c43; // 'SPLC'
const STREAM_ORDER = 0x53504c4f; // 'SPLO'

/**
 * How many test examples each class gets: round(N·f) in total, shared by largest remainder,
 * so each class gets floor(n_c·f) or one more (within ±1 of its exact share).
 */
export function testCountsPerClass(classSizes: number[], testFraction: number): number[] {
  const exact = classSizes.map((n) => n * testFraction);
  const counts = exact.map(Math.floor);
  const total = Math.round(classSizes.reduce((a, b) => a + b, 0) * testFraction);
  let remaining = total - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((e, c) => ({ c, frac: e - Math.floor(e) })).sort((a, b) => b.frac - a.frac || a.c - b.c);
  for (const { c } of order) {
    if (remaining <= 0) break;
    const n = counts[c] ?? 0;
    if (n < (classSizes[c] ?? 0)) {
      counts[c] = n + 1;
      remaining--;
    }
  }
  return counts;
}

/**
 * A deterministic train/test split stratified by class: same data, fraction and seed → same split on every machine.
 * Each split comes in its own seeded random order, so any prefix of it is a fair sample.
 */
export function splitStratified(ds: Dataset, opts: SplitOptions = {}): Split {
  const testFraction = opts.testFraction ?? DEFAULT_TEST_FRACTION;
  const seed = opts.seed ?? DEFAULT_SPLIT_SEED;
  if (typeof testFraction !== 'number' || !(testFraction > 0 && testFraction < 1)) {
    throw new DataError(undefined, `testFraction must be a number strictly between 0 and 1, got ${String(testFraction)}`);
  }
  if (!Number.isSafeInteger(seed)) throw new DataError(undefined, `splitSeed must be an integer, got ${String(seed)}`);

  const byClass = indicesByClass(ds);
  const nTest = testCountsPerClass(
    byClass.map((ix) => ix.length),
    testFraction,
  );
  const testIndices = new Int32Array(nTest.reduce((a, b) => a + b, 0));
  const trainIndices = new Int32Array(ds.count - testIndices.length);
  let t = 0;
  let r = 0;
  byClass.forEach((ix, c) => {
    const shuffled = shuffleInPlace(Int32Array.from(ix), createRng(subStreamSeed(seed, STREAM_CLASS, c)));
    const k = nTest[c] ?? 0;
    testIndices.set(shuffled.subarray(0, k), t);
    trainIndices.set(shuffled.subarray(k), r);
    t += k;
    r += shuffled.length - k;
  });
  shuffleInPlace(trainIndices, createRng(subStreamSeed(seed, STREAM_ORDER, 0)));
  shuffleInPlace(testIndices, createRng(subStreamSeed(seed, STREAM_ORDER, 1)));
  return { train: subsetDataset(ds, trainIndices), test: subsetDataset(ds, testIndices), trainIndices, testIndices };
}
