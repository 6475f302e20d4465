import { DataError } from './data-error';
import type { Dataset } from './dataset';
import { createRng, subStreamSeed, permutation } from './prng';

/** Where a data stream is. {seed, epoch, cursor} determines every later batch; the trainer stores it in checkpoints. */
export interface DataOrderState {
  seed: number;
  epoch: number; // 0-based
  cursor: number; // position in this epoch's permutation of the next example
}

export interface Batch {
  images: Float32Array; // (B, H, W)
  labels: Int32Array; // (B,)
  indices: Int32Array; // (B,) positions in the data set
}

export interface BatchIterator {
  next(): Batch;
  state(): DataOrderState;
}

const STREAM_EPOCH = 0x45504f43; // 'EPOC': keeps these draws apart from other uses of the same seed

/** The order of epoch `epoch`: a permutation of 0..n-1 that depends only on (seed, epoch, n). */
export function epochPermutation(seed: number, epoch: number, n: number): Int32Array {
  return permutation(n, createRng(subStreamSeed(seed, STREAM_EPOCH, epoch)));
}

function checkOptions(ds: Dataset, opts: { batchSize: number; seed: number; state?: DataOrderState }): DataOrderState {
  const { batchSize, seed, state } = opts;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new DataError(undefined, `batchSize must be a positive integer, got ${String(batchSize)}`);
  if (!Number.isSafeInteger(seed)) throw new DataError(undefined, `data order seed must be an integer, got ${String(seed)}`);
  if (ds.count < 1) throw new DataError(undefined, 'cannot iterate over an empty data set');
  if (state === undefined) return { seed, epoch: 0, cursor: 0 };
  if (state.seed !== seed) throw new DataError(undefined, `resume state has data order seed ${state.seed}, but this run uses seed ${seed}`);
  if (!Number.isSafeInteger(state.epoch) || state.epoch < 0)
    throw new DataError(undefined, `resume state epoch must be an integer ≥ 0, got ${String(state.epoch)}`);
  if (!Number.isSafeInteger(state.cursor) || state.cursor < 0 || state.cursor > ds.count) {
    throw new DataError(undefined, `resume state cursor must be an integer in 0..${ds.count} for a data set of ${ds.count}, got ${String(state.cursor)}`);
  }
  return state.cursor === ds.count ? { seed, epoch: state.epoch + 1, cursor: 0 } : { seed, epoch: state.epoch, cursor: state.cursor };
}

/**
 * Fixed-size batches in a seeded order: each epoch is a fresh permutation of the whole set; a batch that runs off
 * the end of an epoch continues into the next one, so every batch has exactly `batchSize` examples.
 */
export function createBatchIterator(ds: Dataset, opts: { batchSize: number; seed: number; state?: DataOrderState }): BatchIterator {
  const start = checkOptions(ds, opts);
  const { batchSize, seed } = opts;
  const size = ds.height * ds.width;
  let epoch = start.epoch;
  let cursor = start.cursor;
  let perm = epochPermutation(seed, epoch, ds.count);

  return {
    next(): Batch {
      const images = new Float32Array(batchSize * size);
      const labels = new Int32Array(batchSize);
      const indices = new Int32Array(batchSize);
      for (let b = 0; b < batchSize; b++) {
        if (cursor === ds.count) {
          epoch += 1;
          cursor = 0;
          perm = epochPermutation(seed, epoch, ds.count);
        }
        const i = perm[cursor] ?? 0;
        cursor += 1;
        indices[b] = i;
        labels[b] = ds.labels[i] ?? 0;
        images.set(ds.images.subarray(i * size, (i + 1) * size), b * size);
      }
      return { images, labels, indices };
    },
    state(): DataOrderState {
      return cursor === ds.count ? { seed, epoch: epoch + 1, cursor: 0 } : { seed, epoch, cursor };
    },
  };
}
