import { createHash, randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataError, errorMessage } from './data-error';
import type { ByteImages } from './dataset';

/**
 * Binary cache of a byte-image data set. Little-endian, 64-byte header:
 *   0  8  magic "ABLMNIST"     8 4 format version (1)     12 4 count N    16 4 height H    20 4 width W
 *   24 4  numClasses           28 4 reserved (0)          32 32 sha256 of everything after the header
 *   64    pixels  N·H·W × uint8 (row-major)               then labels N × uint8
 * The file size must be exactly 64 + N·H·W + N and the sha256 must match, or the cache is rebuilt.
 */
export const CACHE_MAGIC = 'ABLMNIST';
export const CACHE_FORMAT_VERSION = 1;
export const CACHE_HEADER_BYTES = 64;

export interface CachedImages extends ByteImages {
  numClasses: number;
}

export type CacheRead = { ok: true; data: CachedImages } | { ok: false; reason: string };

function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** Header plus payload, ready to write. */
export function encodeCache(d: CachedImages): { header: Buffer; payload: Buffer } {
  const payload = Buffer.alloc(d.pixels.length + d.labels.length);
  payload.set(d.pixels, 0);
  payload.set(d.labels, d.pixels.length);
  const header = Buffer.alloc(CACHE_HEADER_BYTES);
  header.write(CACHE_MAGIC, 0, 'latin1');
  header.writeUInt32LE(CACHE_FORMAT_VERSION, 8);
  header.writeUInt32LE(d.count, 12);
  header.writeUInt32LE(d.height, 16);
  header.writeUInt32LE(d.width, 20);
  header.writeUInt32LE(d.numClasses, 24);
  sha256(payload).copy(header, 32);
  return { header, payload };
}

/** Header fields if the first 64 bytes look like a cache of this format, else why not. */
export function decodeCacheHeader(
  buf: Buffer,
  fileBytes: number,
): { ok: true; count: number; height: number; width: number; numClasses: number } | { ok: false; reason: string } {
  if (buf.length < CACHE_HEADER_BYTES) return { ok: false, reason: `too short for the header (${buf.length} bytes)` };
  if (buf.toString('latin1', 0, 8) !== CACHE_MAGIC) return { ok: false, reason: 'bad magic' };
  const version = buf.readUInt32LE(8);
  if (version !== CACHE_FORMAT_VERSION) return { ok: false, reason: `format version ${version}, expected ${CACHE_FORMAT_VERSION}` };
  const count = buf.readUInt32LE(12);
  const height = buf.readUInt32LE(16);
  const width = buf.readUInt32LE(20);
  const numClasses = buf.readUInt32LE(24);
  const expected = CACHE_HEADER_BYTES + count * height * width + count;
  if (fileBytes !== expected) return { ok: false, reason: `size ${fileBytes} bytes, expected ${expected} (truncated or damaged)` };
  return { ok: true, count, height, width, numClasses };
}

/** Reads and fully verifies a cache file. Never throws: a missing, truncated or corrupt file is `{ ok: false }`. */
export function readCache(path: string): CacheRead {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err: unknown) {
    const missing = typeof err === 'object' && err !== null && 'code' in err && err.code === 'ENOENT';
    return { ok: false, reason: missing ? 'missing' : `unreadable (${errorMessage(err)})` };
  }
  const h = decodeCacheHeader(buf, buf.length);
  if (!h.ok) return h;
  const payload = buf.subarray(CACHE_HEADER_BYTES);
  if (!sha256(payload).equals(buf.subarray(32, 64))) return { ok: false, reason: 'checksum mismatch' };
  const nPixels = h.count * h.height * h.width;
  const pixels = new Uint8Array(payload.buffer, payload.byteOffset, nPixels);
  const labels = payload.subarray(nPixels, nPixels + h.count).slice(); // a copy, so the file buffer can be freed
  for (const y of labels) if (y >= h.numClasses) return { ok: false, reason: `label ${y} outside 0..${h.numClasses - 1}` };
  return { ok: true, data: { pixels, labels, count: h.count, height: h.height, width: h.width, numClasses: h.numClasses } };
}

function writeAll(fd: number, bytes: Buffer): void {
  for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** Writes the cache atomically: a unique temp file in the same directory, fsync, then rename over `path`. */
export function writeCacheAtomic(path: string, d: CachedImages): void {
  const tmp = `${path}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  const { header, payload } = encodeCache(d);
  try {
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeAll(fd, header);
      writeAll(fd, payload);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err: unknown) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing to clean up (e.g. the directory could not be made)
    }
    throw new DataError(path, `cannot write cache file: ${errorMessage(err)}`, { cause: err });
  }
}
