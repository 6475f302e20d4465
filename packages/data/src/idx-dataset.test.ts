import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from './data-error';
import { findIdxFiles, loadIdxDataset } from './idx-dataset';
import { loadDataset } from './load-dataset';
import { fakeLabels, fakePixels, makeTempDir, writeIdxDir, writeIdxFile } from './test-utils/idx-fixture';

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir('idxdir');
});
afterAll(() => tmp.cleanup());

function freshDir(name: string): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir);
  return dir;
}

describe('loadIdxDataset', () => {
  it.each([false, true])('train = train-* files, test = t10k-* files, pixels / 255 (gzip: %s)', (gzip) => {
    const dir = freshDir(`ok-${gzip}`);
    writeIdxDir(dir, 30, 12, gzip);
    const { train, test } = loadIdxDataset(dir);
    expect(train).toMatchObject({ count: 30, height: 28, width: 28, channels: 1, numClasses: 10 });
    expect(test).toMatchObject({ count: 12, height: 28, width: 28, channels: 1, numClasses: 10 });
    const px = fakePixels(30);
    expect(train.images).toHaveLength(30 * 784);
    for (const i of [0, 1, 777, 30 * 784 - 1]) expect(train.images[i]).toBeCloseTo((px[i] ?? -1) / 255, 6);
    expect(Array.from(train.labels)).toEqual(Array.from(fakeLabels(30)));
    expect(Array.from(test.labels)).toEqual(Array.from(fakeLabels(12)));
    expect(Math.min(...train.images)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...train.images)).toBeLessThanOrEqual(1);
  });

  it('is what loadDataset returns for { source: "idx" }', () => {
    const dir = freshDir('via-config');
    writeIdxDir(dir, 10, 5, true);
    const { train, test } = loadDataset({ source: 'idx', dir });
    expect([train.count, test.count]).toEqual([10, 5]);
  });

  it('prefers the plain file when both plain and .gz exist', () => {
    const dir = freshDir('both');
    writeIdxDir(dir, 4, 2, true);
    writeIdxDir(dir, 4, 2, false);
    expect(findIdxFiles(dir).found.trainImages).toBe(join(dir, 'train-images-idx3-ubyte'));
  });

  it('label count different from image count names the labels file', () => {
    const dir = freshDir('count-mismatch');
    writeIdxDir(dir, 20, 5, true);
    const labels = writeIdxFile(join(dir, 'train-labels-idx1-ubyte.gz'), [19], fakeLabels(19), { gzip: true });
    const err = (() => {
      try {
        loadIdxDataset(dir);
      } catch (e: unknown) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(DataError);
    expect(err).toMatchObject({ name: 'DataError', file: labels });
    expect(err).toHaveProperty('message', `${labels}: label count 19 differs from image count 20 in ${join(dir, 'train-images-idx3-ubyte.gz')}`);
  });

  it('a label outside 0..9 names the file and the index', () => {
    const dir = freshDir('bad-label');
    writeIdxDir(dir, 6, 3, false);
    const labels = writeIdxFile(join(dir, 't10k-labels-idx1-ubyte'), [3], Uint8Array.from([1, 12, 3]));
    expect(() => loadIdxDataset(dir)).toThrow(`${labels}: label 12 at index 1 is outside 0..9`);
  });

  it('missing files are all listed, with the directory', () => {
    const dir = freshDir('partial');
    writeIdxDir(dir, 4, 2, true);
    rmSync(join(dir, 'train-labels-idx1-ubyte.gz'));
    rmSync(join(dir, 't10k-images-idx3-ubyte.gz'));
    expect(() => loadIdxDataset(dir)).toThrow(`${dir}: missing train-labels-idx1-ubyte(.gz), t10k-images-idx3-ubyte(.gz) in IDX directory`);
  });

  it('a missing directory, or a file where the directory should be', () => {
    const nope = join(tmp.dir, 'no-such-dir');
    expect(() => loadIdxDataset(nope)).toThrow(`${nope}: IDX directory not found`);
    const file = join(tmp.dir, 'a-file');
    writeFileSync(file, 'x');
    expect(() => loadIdxDataset(file)).toThrow(`${file}: expected a directory holding the IDX files, got a file`);
  });
});
