import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DataError } from './data-error';
import { readIdxHeader, readIdxImages, readIdxLabels } from './idx-reader';
import { encodeIdx, fakeLabels, fakePixels, makeTempDir, writeIdxFile } from './test-utils/idx-fixture';

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir('idx');
});
afterAll(() => tmp.cleanup());

/** The DataError thrown by fn; fails the test if fn does not throw one. */
function dataErrorOf(fn: () => unknown): DataError {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof DataError) return err;
    throw err;
  }
  throw new Error('expected a DataError, nothing was thrown');
}

describe('readIdxImages / readIdxLabels', () => {
  it.each([false, true])('reads back a generated file exactly (gzip: %s)', (gzip) => {
    const pixels = fakePixels(5);
    const labels = fakeLabels(5);
    const imgFile = writeIdxFile(join(tmp.dir, `img-${gzip}${gzip ? '.gz' : ''}`), [5, 28, 28], pixels, { gzip });
    const lblFile = writeIdxFile(join(tmp.dir, `lbl-${gzip}${gzip ? '.gz' : ''}`), [5], labels, { gzip });
    const img = readIdxImages(imgFile);
    expect(img).toMatchObject({ file: imgFile, count: 5, height: 28, width: 28, gzip });
    expect(Buffer.from(img.pixels).equals(Buffer.from(pixels))).toBe(true);
    const lbl = readIdxLabels(lblFile);
    expect(lbl).toMatchObject({ file: lblFile, count: 5, gzip });
    expect(Array.from(lbl.labels)).toEqual(Array.from(labels));
  });

  it('detects gzip by the magic bytes, not the name', () => {
    const file = writeIdxFile(join(tmp.dir, 'gz-without-extension'), [3], fakeLabels(3), { gzip: true });
    expect(readIdxLabels(file)).toMatchObject({ count: 3, gzip: true });
    const plain = writeIdxFile(join(tmp.dir, 'plain-named.gz'), [3], fakeLabels(3));
    expect(readIdxLabels(plain)).toMatchObject({ count: 3, gzip: false });
  });

  it('reads other image sizes when asked', () => {
    const file = writeIdxFile(join(tmp.dir, 'img-4x3'), [2, 4, 3], fakePixels(2, 4, 3));
    expect(readIdxImages(file, { height: 4, width: 3 })).toMatchObject({ count: 2, height: 4, width: 3 });
  });

  it('reads just the header of a gzipped file', () => {
    const file = writeIdxFile(join(tmp.dir, 'hdr.gz'), [40, 28, 28], fakePixels(40), { gzip: true });
    expect(readIdxHeader(file, 'images')).toMatchObject({ kind: 'images', count: 40, height: 28, width: 28, gzip: true });
  });
});

describe('bad input gives a DataError naming the file and the fault', () => {
  it('wrong magic number (a labels file read as images)', () => {
    const file = writeIdxFile(join(tmp.dir, 'labels-as-images'), [4], fakeLabels(4));
    const err = dataErrorOf(() => readIdxImages(file));
    expect(err.name).toBe('DataError');
    expect(err.file).toBe(file);
    expect(err.message).toBe(`${file}: wrong magic number: expected 0x00000803 (idx3-ubyte images), got 0x00000801 (idx1-ubyte, a labels file)`);
  });

  it('wrong magic number (not an IDX file at all), with a hint when a .gz file is not gzip', () => {
    const file = join(tmp.dir, 'html.gz');
    writeFileSync(file, '<html>404 Not Found</html>');
    expect(() => readIdxLabels(file)).toThrow(
      `${file}: wrong magic number: expected 0x00000801 (idx1-ubyte labels), got 0x3c68746d (not an IDX file); the name ends in .gz but the content is not gzip`,
    );
  });

  it('truncated pixel data', () => {
    const full = encodeIdx([3, 28, 28], fakePixels(3));
    const file = join(tmp.dir, 'truncated');
    writeFileSync(file, full.subarray(0, full.length - 100));
    expect(() => readIdxImages(file)).toThrow(`${file}: truncated: expected 2352 bytes of pixel data (3 images × 28×28), found 2252`);
  });

  it('truncated label data and a truncated header', () => {
    const file = join(tmp.dir, 'truncated-labels');
    writeFileSync(file, encodeIdx([10], fakeLabels(4)));
    expect(() => readIdxLabels(file)).toThrow(`${file}: truncated: expected 10 bytes of label data (10 labels), found 4`);
    const short = join(tmp.dir, 'short-header');
    writeFileSync(short, encodeIdx([3, 28, 28], new Uint8Array()).subarray(0, 10));
    expect(() => readIdxImages(short)).toThrow(`${short}: truncated IDX header: expected 16 bytes, found 10`);
    const tiny = join(tmp.dir, 'tiny');
    writeFileSync(tiny, Buffer.from([0, 0]));
    expect(() => readIdxLabels(tiny)).toThrow(`${tiny}: too short for an IDX header`);
  });

  it('extra bytes after the data', () => {
    const file = join(tmp.dir, 'extra');
    writeFileSync(file, Buffer.concat([encodeIdx([2], fakeLabels(2)), Buffer.from([1, 2, 3])]));
    expect(() => readIdxLabels(file)).toThrow(`${file}: expected 2 bytes of label data (2 labels), found 5: 3 extra bytes after the data`);
  });

  it('wrong image size', () => {
    const file = writeIdxFile(join(tmp.dir, 'cifar-ish.gz'), [2, 32, 32], fakePixels(2, 32, 32), { gzip: true });
    const err = dataErrorOf(() => readIdxImages(file));
    expect(err.file).toBe(file);
    expect(err.message).toBe(`${file}: wrong image size: expected 28×28, got 32×32`);
  });

  it('missing or unreadable file', () => {
    const file = join(tmp.dir, 'nope', 'train-images-idx3-ubyte.gz');
    expect(() => readIdxImages(file)).toThrow(`${file}: file not found`);
    expect(() => readIdxLabels(tmp.dir)).toThrow(`${tmp.dir}: cannot read file: it is a directory`);
  });

  it('bad gzip: garbage after the magic, and a cut-off download', () => {
    const garbage = join(tmp.dir, 'garbage.gz');
    writeFileSync(garbage, Buffer.from([0x1f, 0x8b, 0x42, 0x42, 0x42, 0x42]));
    const err = dataErrorOf(() => readIdxLabels(garbage));
    expect(err.file).toBe(garbage);
    expect(err.message).toMatch(new RegExp(`^${garbage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: bad gzip data \\(.+\\); the file is damaged`));

    const gz = gzipSync(encodeIdx([50, 28, 28], fakePixels(50)));
    const cut = join(tmp.dir, 'cut.gz');
    writeFileSync(cut, gz.subarray(0, gz.length >> 1));
    expect(() => readIdxImages(cut)).toThrow(`${cut}: bad gzip data (unexpected end of file)`);
  });

  it('errors are DataErrors with the file and a message that is not a stack trace', () => {
    const src = writeIdxFile(join(tmp.dir, 'ok'), [1], fakeLabels(1));
    const copy = join(tmp.dir, 'copy');
    copyFileSync(src, copy);
    writeFileSync(copy, readFileSync(copy).subarray(0, 6));
    const err = dataErrorOf(() => readIdxLabels(copy));
    expect(err).toBeInstanceOf(Error);
    expect(err.message.split('\n')).toHaveLength(1);
    expect(err.message.startsWith(copy)).toBe(true);
  });
});
