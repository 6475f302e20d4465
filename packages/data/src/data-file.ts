import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { DataError, errorMessage } from './data-error';

/** gzip streams start with 1f 8b, whatever the file is called. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** A fs error turned into "file not found" / "permission denied" / ... */
export function fileReadError(file: string, err: unknown): DataError {
  const code = errnoCode(err);
  const fault =
    code === 'ENOENT'
      ? 'file not found'
      : code === 'EACCES' || code === 'EPERM'
        ? 'cannot read file: permission denied'
        : code === 'EISDIR'
          ? 'cannot read file: it is a directory'
          : `cannot read file: ${errorMessage(err)}`;
  return new DataError(file, fault, { cause: err });
}

function gunzipOrFail(file: string, raw: Buffer, partial: boolean): Buffer {
  try {
    return partial ? gunzipSync(raw, { finishFlush: zlibConstants.Z_SYNC_FLUSH }) : gunzipSync(raw);
  } catch (err: unknown) {
    const why = errorMessage(err);
    throw new DataError(file, `bad gzip data (${why}); the file is damaged or incompletely downloaded: download it again`, { cause: err });
  }
}

/** The whole file, gunzipped when its first bytes are the gzip magic 1f 8b. */
export function readDataFile(file: string): { bytes: Buffer; gzip: boolean } {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (err: unknown) {
    throw fileReadError(file, err);
  }
  if (!isGzip(raw)) return { bytes: raw, gzip: false };
  return { bytes: gunzipOrFail(file, raw, false), gzip: true };
}

/**
 * About the first `minBytes` bytes of the (decompressed) content, reading only the start of the file.
 * Used to check headers without loading a whole data set. May return fewer bytes if the file is short.
 */
export function readDataFileHead(file: string, minBytes: number): { bytes: Buffer; gzip: boolean } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err: unknown) {
    throw fileReadError(file, err);
  }
  try {
    const chunk = Buffer.alloc(Math.max(minBytes, 65536));
    let n: number;
    try {
      n = readSync(fd, chunk, 0, chunk.length, 0);
    } catch (err: unknown) {
      throw fileReadError(file, err);
    }
    const raw = chunk.subarray(0, n);
    if (!isGzip(raw)) return { bytes: raw, gzip: false };
    return { bytes: gunzipOrFail(file, raw, true), gzip: true };
  } finally {
    closeSync(fd);
  }
}
