import { describe, expect, it } from '@jest/globals';
import { createBatchIterator, epochPermutation, type Batch, type DataOrderState } from './batch-iterator';
import { DataError } from './data-error';
import { syntheticDataset } from './test-utils/synthetic-dataset';

const ds = syntheticDataset(10, 3); // image i: every pixel = i / 10

const take = (it: { next(): Batch }, n: number): Batch[] => Array.from({ length: n }, () => it.next());
const indicesOf = (batches: Batch[]): number[] => batches.flatMap((b) => Array.from(b.indices));

describe('createBatchIterator', () => {
  it('emits fixed-size batches whose images and labels are those of the indices', () => {
    const it = createBatchIterator(ds, { batchSize: 4, seed: 1 });
    for (const b of take(it, 7)) {
      expect([b.images.length, b.labels.length, b.indices.length]).toEqual([4 * 2 * 2, 4, 4]);
      b.indices.forEach((i, k) => {
        expect(b.labels[k]).toBe(i % 3);
        expect(Array.from(b.images.subarray(k * 4, (k + 1) * 4))).toEqual(new Array(4).fill(Math.fround(i / 10)));
      });
    }
  });

  it('covers every index exactly once per epoch, with a different order each epoch, wrapping across epochs', () => {
    const it = createBatchIterator(ds, { batchSize: 3, seed: 5 });
    const stream = indicesOf(take(it, 10)); // 30 indices = 3 epochs; batches 4 and 7 straddle epochs
    const epochs = [stream.slice(0, 10), stream.slice(10, 20), stream.slice(20, 30)];
    for (const e of epochs) expect([...e].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(new Set(epochs.map((e) => e.join())).size).toBe(3);
    expect(epochs[1]).toEqual(Array.from(epochPermutation(5, 1, 10)));
    expect(it.state()).toEqual({ seed: 5, epoch: 3, cursor: 0 });
  });

  it('is pinned: epoch orders must not change, or resumed runs would see other batches than before', () => {
    expect(Array.from(epochPermutation(0, 0, 10))).toEqual([8, 7, 1, 3, 0, 4, 2, 5, 9, 6]);
    expect(Array.from(epochPermutation(0, 1, 10))).toEqual([7, 4, 2, 1, 5, 8, 0, 9, 3, 6]);
  });

  it('is deterministic for a seed and differs for another seed', () => {
    const a = indicesOf(take(createBatchIterator(ds, { batchSize: 4, seed: 9 }), 6));
    const b = indicesOf(take(createBatchIterator(ds, { batchSize: 4, seed: 9 }), 6));
    const c = indicesOf(take(createBatchIterator(ds, { batchSize: 4, seed: 10 }), 6));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('resuming from state() (through JSON, as in a checkpoint) gives the same later batches as an uninterrupted run', () => {
    for (const stopAfter of [0, 1, 2, 3, 5, 8]) {
      const uninterrupted = createBatchIterator(ds, { batchSize: 4, seed: 3 });
      const all = take(uninterrupted, 12);
      const first = createBatchIterator(ds, { batchSize: 4, seed: 3 });
      take(first, stopAfter);
      const saved = JSON.parse(JSON.stringify(first.state())) as DataOrderState;
      const resumed = createBatchIterator(ds, { batchSize: 4, seed: 3, state: saved });
      const rest = take(resumed, 12 - stopAfter);
      expect(rest.map((b) => Array.from(b.indices))).toEqual(all.slice(stopAfter).map((b) => Array.from(b.indices)));
      expect(Buffer.from(rest[rest.length - 1]?.images.buffer ?? new ArrayBuffer(0)).equals(Buffer.from(all[11]?.images.buffer ?? new ArrayBuffer(1)))).toBe(
        true,
      );
      expect(resumed.state()).toEqual(uninterrupted.state());
    }
  });

  it('state() after an epoch boundary points at the next epoch; cursor = count is accepted as the same point', () => {
    const it = createBatchIterator(ds, { batchSize: 5, seed: 2 });
    take(it, 2);
    expect(it.state()).toEqual({ seed: 2, epoch: 1, cursor: 0 });
    const a = createBatchIterator(ds, { batchSize: 5, seed: 2, state: { seed: 2, epoch: 0, cursor: 10 } }).next();
    expect(Array.from(a.indices)).toEqual(Array.from(it.next().indices));
  });

  it('handles a batch larger than the data set by spanning epochs', () => {
    const b = createBatchIterator(ds, { batchSize: 25, seed: 0 }).next();
    const counts = new Array<number>(10).fill(0);
    for (const i of b.indices) counts[i] = (counts[i] ?? 0) + 1;
    expect(counts.every((n) => n === 2 || n === 3)).toBe(true);
  });

  it('rejects bad options and a state that does not fit', () => {
    expect(() => createBatchIterator(ds, { batchSize: 0, seed: 1 })).toThrow('batchSize must be a positive integer, got 0');
    expect(() => createBatchIterator(ds, { batchSize: 2, seed: 1.5 })).toThrow(DataError);
    expect(() => createBatchIterator(ds, { batchSize: 2, seed: 1, state: { seed: 2, epoch: 0, cursor: 0 } })).toThrow(
      'resume state has data order seed 2, but this run uses seed 1',
    );
    expect(() => createBatchIterator(ds, { batchSize: 2, seed: 1, state: { seed: 1, epoch: 0, cursor: 11 } })).toThrow(
      'resume state cursor must be an integer in 0..10 for a data set of 10, got 11',
    );
    expect(() => createBatchIterator(ds, { batchSize: 2, seed: 1, state: { seed: 1, epoch: -1, cursor: 0 } })).toThrow('epoch must be an integer ≥ 0, got -1');
    expect(() => createBatchIterator(syntheticDataset(0, 2), { batchSize: 2, seed: 1 })).toThrow('cannot iterate over an empty data set');
  });
});
