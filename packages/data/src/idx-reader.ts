import { DataError, hex32 } from './data-error';
import { readDataFile, readDataFileHead } from './data-file';

/** IDX magic: 0x00 0x00, data type 0x08 (unsigned byte), number of dimensions. */
export const IDX_IMAGES_MAGIC = 0x00000803; // idx3-ubyte: (N, H, W)
export const IDX_LABELS_MAGIC = 0x00000801; // idx1-ubyte: (N,)

export type IdxKind = 'images' | 'labels';

export interface IdxImages {
  file: string;
  pixels: Uint8Array; // (N, H, W) row-major, 0..255
  count: number;
  height: number;
  width: number;
  gzip: boolean;
}

export interface IdxLabels {
  file: string;
  labels: Uint8Array; // (N,)
  count: number;
  gzip: boolean;
}

/** What an IDX header says, without the data. */
export interface IdxHeader {
  kind: IdxKind;
  count: number;
  height: number; // 1 for labels
  width: number; // 1 for labels
  headerBytes: number; // where the data starts
  gzip: boolean;
}

export interface ImageSize {
  height: number;
  width: number;
}

const MNIST_SIZE: ImageSize = { height: 28, width: 28 };

function describeMagic(magic: number): string {
  if (magic === IDX_IMAGES_MAGIC) return 'idx3-ubyte, an images file';
  if (magic === IDX_LABELS_MAGIC) return 'idx1-ubyte, a labels file';
  if (magic >>> 16 === 0 && ((magic >>> 8) & 0xff) >= 0x08 && ((magic >>> 8) & 0xff) <= 0x0e) return `an IDX file of another type or rank`;
  return 'not an IDX file';
}

/** Validates the header of IDX content (already gunzipped). */
export function parseIdxHeader(bytes: Uint8Array, file: string, kind: IdxKind, gzip: boolean): IdxHeader {
  const expected = kind === 'images' ? IDX_IMAGES_MAGIC : IDX_LABELS_MAGIC;
  const ndims = kind === 'images' ? 3 : 1;
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < 4) {
    throw new DataError(file, `too short for an IDX header: expected at least ${headerBytes} bytes, found ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expected) {
    const what = kind === 'images' ? 'idx3-ubyte images' : 'idx1-ubyte labels';
    const gzHint = !gzip && file.endsWith('.gz') ? '; the name ends in .gz but the content is not gzip' : '';
    throw new DataError(file, `wrong magic number: expected ${hex32(expected)} (${what}), got ${hex32(magic)} (${describeMagic(magic)})${gzHint}`);
  }
  if (bytes.length < headerBytes) {
    throw new DataError(file, `truncated IDX header: expected ${headerBytes} bytes, found ${bytes.length}`);
  }
  const count = view.getUint32(4, false);
  const height = kind === 'images' ? view.getUint32(8, false) : 1;
  const width = kind === 'images' ? view.getUint32(12, false) : 1;
  return { kind, count, height, width, headerBytes, gzip };
}

function checkDataLength(file: string, h: IdxHeader, available: number): void {
  const expected = h.count * h.height * h.width;
  if (available === expected) return;
  const what =
    h.kind === 'images'
      ? `${expected} bytes of pixel data (${h.count} images × ${h.height}×${h.width})`
      : `${expected} bytes of label data (${h.count} labels)`;
  if (available < expected) throw new DataError(file, `truncated: expected ${what}, found ${available}`);
  throw new DataError(file, `expected ${what}, found ${available}: ${available - expected} extra bytes after the data`);
}

function checkImageSize(file: string, h: IdxHeader, size: ImageSize): void {
  if (h.height !== size.height || h.width !== size.width) {
    throw new DataError(file, `wrong image size: expected ${size.height}×${size.width}, got ${h.height}×${h.width}`);
  }
}

/** Reads an idx3-ubyte images file, plain or gzipped (detected by content). Expects 28×28 unless told otherwise. */
export function readIdxImages(file: string, size: ImageSize = MNIST_SIZE): IdxImages {
  const { bytes, gzip } = readDataFile(file);
  const h = parseIdxHeader(bytes, file, 'images', gzip);
  checkImageSize(file, h, size);
  checkDataLength(file, h, bytes.length - h.headerBytes);
  const pixels = new Uint8Array(bytes.subarray(h.headerBytes)); // a copy: the Buffer may be a pooled slice
  return { file, pixels, count: h.count, height: h.height, width: h.width, gzip };
}

/** Reads an idx1-ubyte labels file, plain or gzipped (detected by content). */
export function readIdxLabels(file: string): IdxLabels {
  const { bytes, gzip } = readDataFile(file);
  const h = parseIdxHeader(bytes, file, 'labels', gzip);
  checkDataLength(file, h, bytes.length - h.headerBytes);
  return { file, labels: new Uint8Array(bytes.subarray(h.headerBytes)), count: h.count, gzip };
}

/** Reads and checks only the header (a few KB of the file), for `doctor`. */
export function readIdxHeader(file: string, kind: IdxKind, size: ImageSize = MNIST_SIZE): IdxHeader {
  const { bytes, gzip } = readDataFileHead(file, 16);
  const h = parseIdxHeader(bytes, file, kind, gzip);
  if (kind === 'images') checkImageSize(file, h, size);
  return h;
}
