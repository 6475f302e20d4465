/**
 * Derives an independent integer seed from a base seed and a path (block, layer, parameter, ...), so each
 * parameter's init depends only on (seed, path), not on the order in which parameters are created.
 */
export function paramSeed(seed: number, ...path: number[]): number {
  let h = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  for (const p of [...path, path.length]) {
    h = Math.imul(h ^ (Math.floor(p) >>> 0), 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
  }
  return h % 2147483647; // a positive int: tf.random* seeds go through seedrandom
}
