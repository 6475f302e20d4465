import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE_HEADER_BYTES, readCache, writeCacheAtomic, type CachedImages } from './mnist-cache';
import { fakeLabels, fakePixels, makeTempDir } from './test-utils/idx-fixture';

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir('cache');
});
afterAll(() => tmp.cleanup());

const sample = (count = 7): CachedImages => ({ pixels: fakePixels(count, 5, 4), labels: fakeLabels(count), count, height: 5, width: 4, numClasses: 10 });

function reasonOf(path: string): string {
  const r = readCache(path);
  if (r.ok) throw new Error(`expected ${path} to be rejected`);
  return r.reason;
}

describe('cache file', () => {
  it('round-trips exactly, with the documented size, and leaves no temp file', () => {
    const path = join(tmp.dir, 'sub', 'dir', 'a.bin');
    writeCacheAtomic(path, sample());
    expect(statSync(path).size).toBe(CACHE_HEADER_BYTES + 7 * 20 + 7);
    expect(readFileSync(path).toString('latin1', 0, 8)).toBe('ABLMNIST');
    const r = readCache(path);
    if (!r.ok) throw new Error(r.reason);
    expect(r.data).toMatchObject({ count: 7, height: 5, width: 4, numClasses: 10 });
    expect(Array.from(r.data.pixels)).toEqual(Array.from(sample().pixels));
    expect(Array.from(r.data.labels)).toEqual(Array.from(sample().labels));
    expect(readdirSync(join(tmp.dir, 'sub', 'dir'))).toEqual(['a.bin']);
  });

  it('overwrites an existing cache atomically', () => {
    const path = join(tmp.dir, 'over.bin');
    writeCacheAtomic(path, sample(3));
    writeCacheAtomic(path, sample(9));
    const r = readCache(path);
    expect(r.ok && r.data.count).toBe(9);
  });

  it('rejects a missing, truncated, bit-flipped, foreign or future-version file', () => {
    expect(reasonOf(join(tmp.dir, 'absent.bin'))).toBe('missing');

    const cut = join(tmp.dir, 'cut.bin');
    writeCacheAtomic(cut, sample());
    truncateSync(cut, statSync(cut).size - 3);
    expect(reasonOf(cut)).toMatch(/^size 208 bytes, expected 211 /);

    const flipped = join(tmp.dir, 'flipped.bin');
    writeCacheAtomic(flipped, sample());
    const bytes = readFileSync(flipped);
    bytes[CACHE_HEADER_BYTES + 50] = (bytes[CACHE_HEADER_BYTES + 50] ?? 0) ^ 0x01;
    writeFileSync(flipped, bytes);
    expect(reasonOf(flipped)).toBe('checksum mismatch');

    const foreign = join(tmp.dir, 'foreign.bin');
    writeFileSync(foreign, Buffer.alloc(300, 7));
    expect(reasonOf(foreign)).toBe('bad magic');

    const future = join(tmp.dir, 'future.bin');
    writeCacheAtomic(future, sample());
    const fb = readFileSync(future);
    fb.writeUInt32LE(2, 8);
    writeFileSync(future, fb);
    expect(reasonOf(future)).toBe('format version 2, expected 1');

    const empty = join(tmp.dir, 'empty.bin');
    writeFileSync(empty, '');
    expect(reasonOf(empty)).toBe('too short for the header (0 bytes)');
  });

  it('a cache write that cannot happen is a DataError naming the cache file', () => {
    const blocker = join(tmp.dir, 'blocker');
    writeFileSync(blocker, 'x');
    const path = join(blocker, 'c.bin'); // parent is a file
    expect(() => writeCacheAtomic(path, sample())).toThrow(`${path}: cannot write cache file:`);
  });
});
