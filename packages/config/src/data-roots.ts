import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';

/** Where Debian's dataset packages (e.g. dataset-fashion-mnist) install their files. */
export const DEBIAN_DATASETS_DIR = '/usr/share/datasets';

/**
 * The folders a run config may read data from: `DATA_ROOTS` (a list separated by `:`), else `./data` and
 * /usr/share/datasets. Each is resolved through symlinks.
 */
export function dataRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env.DATA_ROOTS;
  const roots = raw !== undefined && raw.trim() !== '' ? raw.split(path.delimiter).filter((r) => r.trim() !== '') : [path.join('data'), DEBIAN_DATASETS_DIR];
  return roots.map((r) => realish(path.resolve(r)));
}

/** realpath of the longest existing ancestor, plus the rest: a symlink anywhere on an existing prefix is followed. */
export function realish(p: string): string {
  let head = p;
  const rest: string[] = [];
  while (!existsSync(head)) {
    const parent = path.dirname(head);
    if (parent === head) return p;
    rest.unshift(path.basename(head));
    head = parent;
  }
  return path.join(realpathSync(head), ...rest);
}

/** Whether `p` is `root` or inside it. */
export function isInside(p: string, root: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Why a data folder is not allowed, or null. `..` segments and symlinks are resolved first, so neither can reach out of
 * the allowed folders.
 */
export function dataDirProblem(dir: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const roots = dataRoots(env);
  const target = realish(path.resolve(dir));
  if (roots.some((r) => isInside(target, r))) return null;
  const shown = target === path.resolve(dir) ? '' : ` (it resolves to ${target})`;
  return `expected a folder inside the allowed data folders (${roots.join(', ')}; set DATA_ROOTS to allow others)${shown}`;
}
