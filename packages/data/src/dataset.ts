import { DataError } from './data-error';

/** A labelled image set held in memory. */
export interface Dataset {
  images: Float32Array; // (N, H, W) row-major, values in [0, 1]
  labels: Uint8Array; // (N,) integers in 0..numClasses-1
  count: number; // N
  height: number; // H
  width: number; // W
  channels: 1;
  numClasses: number;
}

/** Pixels as stored on disk: one byte each, 0..255. */
export interface ByteImages {
  pixels: Uint8Array; // (N, H, W)
  labels: Uint8Array; // (N,)
  count: number;
  height: number;
  width: number;
}

/** Bytes 0..255 → Float32 in [0, 1]. */
export function bytesToUnit(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = (pixels[i] ?? 0) / 255;
  return out;
}

/** A Dataset from byte pixels; `source` names the file or package in errors. */
export function datasetFromBytes(b: ByteImages, numClasses: number, source: string): Dataset {
  if (b.pixels.length !== b.count * b.height * b.width) {
    throw new DataError(source, `expected ${b.count}×${b.height}×${b.width} = ${b.count * b.height * b.width} pixels, got ${b.pixels.length}`);
  }
  if (b.labels.length !== b.count) throw new DataError(source, `expected ${b.count} labels, got ${b.labels.length}`);
  for (let i = 0; i < b.count; i++) {
    const y = b.labels[i] ?? 0;
    if (y >= numClasses) throw new DataError(source, `label ${y} at index ${i} is outside 0..${numClasses - 1}`);
  }
  return { images: bytesToUnit(b.pixels), labels: b.labels, count: b.count, height: b.height, width: b.width, channels: 1, numClasses };
}

/** A new Dataset holding copies of the given examples, in the given order. */
export function subsetDataset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const size = ds.height * ds.width;
  const images = new Float32Array(indices.length * size);
  const labels = new Uint8Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k] ?? 0;
    if (!Number.isInteger(i) || i < 0 || i >= ds.count) throw new RangeError(`index ${i} is outside 0..${ds.count - 1}`);
    images.set(ds.images.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = ds.labels[i] ?? 0;
  }
  return { images, labels, count: indices.length, height: ds.height, width: ds.width, channels: 1, numClasses: ds.numClasses };
}

/** Indices of each class, in dataset order: result[c] lists every i with labels[i] === c. */
export function indicesByClass(ds: Pick<Dataset, 'labels' | 'count' | 'numClasses'>): Int32Array[] {
  const counts = new Int32Array(ds.numClasses);
  for (let i = 0; i < ds.count; i++) {
    const y = ds.labels[i] ?? 0;
    counts[y] = (counts[y] ?? 0) + 1;
  }
  const out = Array.from(counts, (n) => new Int32Array(n));
  const fill = new Int32Array(ds.numClasses);
  for (let i = 0; i < ds.count; i++) {
    const y = ds.labels[i] ?? 0;
    const bucket = out[y];
    const k = fill[y] ?? 0;
    if (bucket !== undefined) bucket[k] = i;
    fill[y] = k + 1;
  }
  return out;
}
