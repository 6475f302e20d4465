import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { DataError } from './data-error';
import type { DataConfig } from './data-config';
import { embeddedCacheFile, findMnistPackage, loadEmbeddedMnist } from './embedded-mnist';
import { loadDataset } from './load-dataset';
import { splitStratified } from './stratified-split';
import { makeTempDir } from './test-utils/idx-fixture';

let tmp: ReturnType<typeof makeTempDir>;
const saved = process.env.MNIST_CACHE_DIR;
beforeAll(() => {
  tmp = makeTempDir('load');
  process.env.MNIST_CACHE_DIR = tmp.dir;
});
afterAll(() => {
  if (saved === undefined) delete process.env.MNIST_CACHE_DIR;
  else process.env.MNIST_CACHE_DIR = saved;
  tmp.cleanup();
});

describe('loadDataset', () => {
  it('mnist-embedded: 8333 / 1667 by default, cached in $MNIST_CACHE_DIR, same as splitStratified(seed 0, 1/6)', () => {
    const { train, test } = loadDataset({ source: 'mnist-embedded' });
    expect([train.count, test.count]).toEqual([8333, 1667]);
    expect(existsSync(embeddedCacheFile(findMnistPackage().version, tmp.dir))).toBe(true);
    const ref = splitStratified(loadEmbeddedMnist().dataset, { seed: 0, testFraction: 1 / 6 });
    expect(Buffer.from(test.images.buffer).equals(Buffer.from(ref.test.images.buffer))).toBe(true);
    expect(Array.from(train.labels)).toEqual(Array.from(ref.train.labels));
  });

  it('mnist-embedded: passes testFraction and splitSeed through; same config → same data', () => {
    const a = loadDataset({ source: 'mnist-embedded', testFraction: 0.1, splitSeed: 7 });
    const b = loadDataset({ source: 'mnist-embedded', testFraction: 0.1, splitSeed: 7 });
    const c = loadDataset({ source: 'mnist-embedded', testFraction: 0.1, splitSeed: 8 });
    expect([a.train.count, a.test.count]).toEqual([9000, 1000]);
    expect(Array.from(a.test.labels)).toEqual(Array.from(b.test.labels));
    expect(Buffer.from(a.test.images.buffer).equals(Buffer.from(c.test.images.buffer))).toBe(false);
  });

  it('rejects a bad config with a DataError saying what is wrong', () => {
    const bad = (cfg: unknown): DataConfig => cfg as DataConfig; // configs arrive as parsed YAML
    expect(() => loadDataset(bad({ source: 'cifar' }))).toThrow('data config source must be "mnist-embedded" or "idx", got "cifar"');
    expect(() => loadDataset(bad({ source: 'idx' }))).toThrow(DataError);
    expect(() => loadDataset(bad({ source: 'mnist-embedded', testFraction: 2 }))).toThrow('testFraction must be a number strictly between 0 and 1, got 2');
    expect(() => loadDataset(bad({ source: 'mnist-embedded', splitSeed: 'x' }))).toThrow('splitSeed must be an integer, got "x"');
  });
});
