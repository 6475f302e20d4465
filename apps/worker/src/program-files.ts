import { accessSync, closeSync, constants, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import path from 'node:path';

const CHUNK_BYTES = 1 << 20;

function hashFile(file: string, h: Hash): number {
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  let total = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK_BYTES, null);
      if (n === 0) return total;
      h.update(buf.subarray(0, n));
      total += n;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Size and sha256 of a checkpoint a program reported: a file's bytes, or for a folder (as torch.distributed and
 * orbax write them) every file under it in sorted order, each hashed as `relative path \0 bytes`.
 */
export function fingerprint(p: string): { bytes: number; sha256: string } {
  const h = createHash('sha256');
  if (statSync(p).isFile()) {
    const bytes = hashFile(p, h);
    return { bytes, sha256: h.digest('hex') };
  }
  let bytes = 0;
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const abs = path.join(dir, name);
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = statSync(abs);
      if (st.isDirectory()) walk(abs, r);
      else if (st.isFile()) {
        h.update(`${r}\0`);
        bytes += hashFile(abs, h);
      }
    }
  };
  walk(p, '');
  return { bytes, sha256: h.digest('hex') };
}

/** The last `n` lines of a text file (for an error message), or '' when it cannot be read. */
export function tailLines(file: string, n: number, maxBytes = 4096): string {
  try {
    const size = statSync(file).size;
    const fd = openSync(file, 'r');
    try {
      const len = Math.min(size, maxBytes);
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, size - len);
      return buf
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .slice(-n)
        .join('\n');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}

/** The file `exe` runs: a path (resolved against `cwd`) or a bare name looked up on PATH, executable by us. */
export function findExecutable(exe: string, cwd: string, pathVar: string): { path: string } | { problem: string } {
  const usable = (p: string): 'ok' | 'ENOENT' | 'EACCES' => {
    try {
      if (!statSync(p).isFile()) return 'ENOENT';
      accessSync(p, constants.X_OK);
      return 'ok';
    } catch (err: unknown) {
      return (err as NodeJS.ErrnoException).code === 'EACCES' ? 'EACCES' : 'ENOENT';
    }
  };
  if (exe.includes('/')) {
    const p = path.resolve(cwd, exe);
    const u = usable(p);
    return u === 'ok' ? { path: p } : { problem: u === 'EACCES' ? `${p} is not executable (chmod +x?) (EACCES)` : `${p} does not exist (ENOENT)` };
  }
  let denied: string | null = null;
  for (const dir of pathVar.split(':').filter((d) => d !== '')) {
    const p = path.resolve(cwd, dir, exe);
    const u = usable(p);
    if (u === 'ok') return { path: p };
    if (u === 'EACCES') denied ??= p;
  }
  return { problem: denied === null ? `"${exe}" is not on PATH (ENOENT)` : `${denied} is not executable (chmod +x?) (EACCES)` };
}
