import { DataError } from './data-error';

/** The `data` section of a run config. */
export type DataConfig = { source: 'mnist-embedded'; testFraction?: number; splitSeed?: number } | { source: 'idx'; dir: string };

/** Where Debian's dataset-fashion-mnist package puts the Fashion-MNIST IDX files. */
export const FASHION_MNIST_DEBIAN_DIR = '/usr/share/datasets/fashion-mnist';

/** Checks a config that may come straight from JSON/YAML; throws a DataError saying what is wrong. */
export function parseDataConfig(cfg: unknown): DataConfig {
  if (typeof cfg !== 'object' || cfg === null) throw new DataError(undefined, `data config must be an object, got ${JSON.stringify(cfg)}`);
  const source = 'source' in cfg ? cfg.source : undefined;
  if (source === 'idx') {
    const dir = 'dir' in cfg ? cfg.dir : undefined;
    if (typeof dir !== 'string' || dir === '')
      throw new DataError(undefined, `data config with source "idx" needs dir: a directory of IDX files, got ${JSON.stringify(dir)}`);
    return { source, dir };
  }
  if (source === 'mnist-embedded') {
    const out: DataConfig = { source };
    const testFraction = 'testFraction' in cfg ? cfg.testFraction : undefined;
    const splitSeed = 'splitSeed' in cfg ? cfg.splitSeed : undefined;
    if (testFraction !== undefined) {
      if (typeof testFraction !== 'number' || !(testFraction > 0 && testFraction < 1)) {
        throw new DataError(undefined, `data config testFraction must be a number strictly between 0 and 1, got ${JSON.stringify(testFraction)}`);
      }
      out.testFraction = testFraction;
    }
    if (splitSeed !== undefined) {
      if (typeof splitSeed !== 'number' || !Number.isSafeInteger(splitSeed)) {
        throw new DataError(undefined, `data config splitSeed must be an integer, got ${JSON.stringify(splitSeed)}`);
      }
      out.splitSeed = splitSeed;
    }
    return out;
  }
  throw new DataError(undefined, `data config source must be "mnist-embedded" or "idx", got ${JSON.stringify(source)}`);
}
