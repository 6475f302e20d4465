import { DataError } from './data-error';
import { indicesByClass, type Dataset } from './dataset';
import { createRng, subStreamSeed, randomInt } from './prng';

const STREAM_PICK = 0x5049434b; // 'PICK': keeps these draws apart from other uses of the same seed

/** result[c] is a copy of one random image of class c, (H·W) row-major; the same seed picks the same images. */
export function pickOneImagePerClass(ds: Dataset, seed: number): Float32Array[] {
  if (!Number.isSafeInteger(seed)) throw new DataError(undefined, `seed must be an integer, got ${String(seed)}`);
  const size = ds.height * ds.width;
  return indicesByClass(ds).map((ix, c) => {
    if (ix.length === 0) throw new DataError(undefined, `cannot pick an image of class ${c}: the data set has none`);
    const i = ix[randomInt(createRng(subStreamSeed(seed, STREAM_PICK, c)), ix.length)] ?? 0;
    return ds.images.slice(i * size, (i + 1) * size);
  });
}
