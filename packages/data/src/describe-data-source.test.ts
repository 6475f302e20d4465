import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeDataSource, idxFix } from './describe-data-source';
import { embeddedCacheFile, findMnistPackage } from './embedded-mnist';
import { writeCacheAtomic } from './mnist-cache';
import { fakeLabels, fakePixels, makeTempDir, writeIdxDir, writeIdxFile } from './test-utils/idx-fixture';

let tmp: ReturnType<typeof makeTempDir>;
const saved = process.env.MNIST_CACHE_DIR;
beforeAll(() => {
  tmp = makeTempDir('describe');
  process.env.MNIST_CACHE_DIR = join(tmp.dir, 'cache');
});
afterAll(() => {
  if (saved === undefined) delete process.env.MNIST_CACHE_DIR;
  else process.env.MNIST_CACHE_DIR = saved;
  tmp.cleanup();
});

describe('describeDataSource: idx', () => {
  it('reports counts and size from the headers alone', () => {
    const dir = join(tmp.dir, 'good');
    mkdirSync(dir);
    writeIdxDir(dir, 30, 7, true);
    expect(describeDataSource({ source: 'idx', dir })).toEqual({ available: true, detail: `idx dir ${dir}: train 30 + test 7 images, 28×28, gzip` });
  });

  it('names the missing files and says how to get them', () => {
    const dir = join(tmp.dir, 'partial');
    mkdirSync(dir);
    writeIdxDir(dir, 3, 2, false);
    rmSync(join(dir, 'train-images-idx3-ubyte'));
    const s = describeDataSource({ source: 'idx', dir });
    expect(s.available).toBe(false);
    expect(s.detail).toBe(`idx dir ${dir}: missing train-images-idx3-ubyte(.gz)`);
    expect(s.fix).toContain('apt-get install dataset-fashion-mnist');
    expect(describeDataSource({ source: 'idx', dir: join(tmp.dir, 'none') })).toMatchObject({
      available: false,
      detail: `idx dir ${join(tmp.dir, 'none')}: directory not found`,
    });
  });

  it('for the Debian path the fix is the apt package; elsewhere it lists the files and points at it', () => {
    expect(idxFix('/usr/share/datasets/fashion-mnist')).toBe('apt-get install dataset-fashion-mnist');
    expect(idxFix('/usr/share/datasets/fashion-mnist/')).toBe('apt-get install dataset-fashion-mnist');
    expect(idxFix('/data/mnist')).toBe(
      'put the four MNIST-format IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, ' +
        't10k-labels-idx1-ubyte.gz) in /data/mnist; for Fashion-MNIST: apt-get install dataset-fashion-mnist and use dir /usr/share/datasets/fashion-mnist',
    );
  });

  it('reports a bad header or a count mismatch as unavailable, naming the file', () => {
    const dir = join(tmp.dir, 'bad');
    mkdirSync(dir);
    writeIdxDir(dir, 5, 5, false);
    const labels = writeIdxFile(join(dir, 't10k-labels-idx1-ubyte'), [4], fakeLabels(4));
    const s = describeDataSource({ source: 'idx', dir });
    expect(s).toMatchObject({
      available: false,
      detail: `idx dir ${dir}: ${labels}: label count 4 differs from image count 5 in ${join(dir, 't10k-images-idx3-ubyte')}`,
    });
    expect(s.fix).toContain(`replace ${labels}`);
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), Buffer.from('garbage!garbage!'));
    expect(describeDataSource({ source: 'idx', dir }).detail).toContain('wrong magic number: expected 0x00000803');
    writeIdxFile(join(dir, 'train-images-idx3-ubyte'), [5, 32, 32], fakePixels(5, 32, 32));
    expect(describeDataSource({ source: 'idx', dir }).detail).toContain('wrong image size: expected 28×28, got 32×32');
  });
});

describe('describeDataSource: embedded', () => {
  it('before the first load: available, not cached yet, names the cache file', () => {
    const s = describeDataSource({ source: 'mnist-embedded' });
    const file = embeddedCacheFile(findMnistPackage().version, join(tmp.dir, 'cache'));
    expect(s.available).toBe(true);
    expect(s.detail).toContain('not cached yet');
    expect(s.detail).toContain(file);
  });

  it('with a cache: count, size and split sizes from the cache header (no parsing)', () => {
    const file = embeddedCacheFile(findMnistPackage().version, join(tmp.dir, 'cache'));
    writeCacheAtomic(file, { pixels: fakePixels(12), labels: fakeLabels(12), count: 12, height: 28, width: 28, numClasses: 10 });
    expect(describeDataSource({ source: 'mnist-embedded', testFraction: 0.25, splitSeed: 3 })).toEqual({
      available: true,
      detail: `embedded mnist: 12 images, 28×28, 10 classes (cached at ${file}); split seed 3 → 9 train / 3 test`,
    });
  });

  it('a bad config is reported, not thrown', () => {
    expect(describeDataSource({ source: 'mnist-embedded', testFraction: 3 })).toMatchObject({
      available: false,
      fix: 'fix the data section of the run config',
    });
    expect(describeDataSource(null).detail).toBe('data config must be an object, got null');
  });
});
