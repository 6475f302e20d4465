import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Where @ablate/data caches parsed data: $MNIST_CACHE_DIR, else $XDG_CACHE_HOME/ablate, else ~/.cache/ablate. */
export function resolveCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.MNIST_CACHE_DIR;
  if (explicit !== undefined && explicit !== '') return resolve(explicit);
  const xdg = env.XDG_CACHE_HOME;
  if (xdg !== undefined && xdg !== '') return resolve(xdg, 'ablate');
  return join(homedir(), '.cache', 'ablate');
}
