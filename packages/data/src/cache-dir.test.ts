import { describe, expect, it } from '@jest/globals';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { resolveCacheDir } from './cache-dir';

describe('resolveCacheDir', () => {
  it('MNIST_CACHE_DIR, else $XDG_CACHE_HOME/ablate, else ~/.cache/ablate (empty values count as unset)', () => {
    expect(resolveCacheDir({ MNIST_CACHE_DIR: '/m', XDG_CACHE_HOME: '/x' })).toBe('/m');
    expect(resolveCacheDir({ MNIST_CACHE_DIR: '', XDG_CACHE_HOME: '/x' })).toBe('/x/ablate');
    expect(resolveCacheDir({ XDG_CACHE_HOME: '' })).toBe(join(homedir(), '.cache', 'ablate'));
    expect(resolveCacheDir({})).toBe(join(homedir(), '.cache', 'ablate'));
  });
});
