import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The real path of `uri` if it is a regular file inside `root` after resolving `..` and every symlink (of the root
 * too), else null. A relative uri is taken relative to the root. The database names the files the ui serves, and a
 * database is not trusted to name only artifacts: this is the one check between a path in SQLite and the network.
 */
export function confinedFile(root: string, uri: string): string | null {
  let realRoot: string;
  let real: string;
  try {
    realRoot = realpathSync(root);
    real = realpathSync(path.resolve(root, uri));
  } catch {
    return null; // no such root or file, or a dangling link
  }
  const rel = path.relative(realRoot, real);
  if (rel === '' || path.isAbsolute(rel) || rel.split(path.sep)[0] === '..') return null;
  try {
    return statSync(real).isFile() ? real : null;
  } catch {
    return null;
  }
}
