import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** IDX bytes: big-endian magic 0x000008<ndims>, the dims, then the data. */
export function encodeIdx(dims: number[], data: Uint8Array, magic = 0x00000800 | dims.length): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic >>> 0, 0);
  dims.forEach((d, k) => header.writeUInt32BE(d, 4 + 4 * k));
  return Buffer.concat([header, data]);
}

/** Deterministic fake images: pixel value = (7·i + 3) mod 256. */
export function fakePixels(count: number, height = 28, width = 28): Uint8Array {
  return Uint8Array.from({ length: count * height * width }, (_, i) => (7 * i + 3) % 256);
}

export function fakeLabels(count: number, numClasses = 10): Uint8Array {
  return Uint8Array.from({ length: count }, (_, i) => (i * 3) % numClasses);
}

export function writeIdxFile(path: string, dims: number[], data: Uint8Array, opts: { gzip?: boolean; magic?: number } = {}): string {
  const bytes = encodeIdx(dims, data, opts.magic);
  writeFileSync(path, opts.gzip === true ? gzipSync(bytes) : bytes);
  return path;
}

/** Writes the four standard files (train: nTrain, test: nTest, 28×28) into `dir`. */
export function writeIdxDir(dir: string, nTrain: number, nTest: number, gzip: boolean): void {
  const ext = gzip ? '.gz' : '';
  writeIdxFile(join(dir, `train-images-idx3-ubyte${ext}`), [nTrain, 28, 28], fakePixels(nTrain), { gzip });
  writeIdxFile(join(dir, `train-labels-idx1-ubyte${ext}`), [nTrain], fakeLabels(nTrain), { gzip });
  writeIdxFile(join(dir, `t10k-images-idx3-ubyte${ext}`), [nTest, 28, 28], fakePixels(nTest), { gzip });
  writeIdxFile(join(dir, `t10k-labels-idx1-ubyte${ext}`), [nTest], fakeLabels(nTest), { gzip });
}

/** A fresh temp dir and a cleanup function. */
export function makeTempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `ablate-data-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
