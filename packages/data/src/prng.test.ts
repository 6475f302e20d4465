import { describe, expect, it } from '@jest/globals';
import { createRng, subStreamSeed, permutation, randomInt, shuffleInPlace } from './prng';

const take = (seed: number, n: number): number[] => {
  const r = createRng(seed);
  return Array.from({ length: n }, () => r());
};

describe('createRng', () => {
  it('is pinned: these values must never change, or every stored split and checkpointed data order changes', () => {
    const r = createRng(42);
    expect([r(), r(), r()].map((x) => x * 2 ** 32)).toEqual([1140847691, 1611968055, 2692155434]);
    expect(Array.from(permutation(10, createRng(7)))).toEqual([4, 1, 0, 8, 9, 6, 2, 5, 7, 3]);
    expect([subStreamSeed(42, 0), subStreamSeed(42, 1), subStreamSeed(0)]).toEqual([3649598931, 281452163, 1601733804]);
  });

  it('same seed gives the same stream; other seeds (also negative and above 2^32) give other streams', () => {
    expect(take(5, 100)).toEqual(take(5, 100));
    const streams = [0, 1, -1, 2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER].map((s) => take(s, 4).join());
    expect(new Set(streams).size).toBe(streams.length);
  });

  it('returns floats in [0, 1) with mean near 1/2', () => {
    const xs = take(3, 20000);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
  });

  it('rejects a seed that is not a safe integer', () => {
    expect(() => createRng(1.5)).toThrow('seed must be a safe integer, got 1.5');
    expect(() => subStreamSeed(0, Number.NaN)).toThrow(RangeError);
  });
});

describe('subStreamSeed', () => {
  it('gives distinct uint32 seeds for distinct keys and depends on key order', () => {
    const seeds = new Set<number>();
    for (let a = 0; a < 50; a++) for (let b = 0; b < 50; b++) seeds.add(subStreamSeed(9, a, b));
    expect(seeds.size).toBe(2500);
    expect(subStreamSeed(9, 1, 2)).not.toBe(subStreamSeed(9, 2, 1));
    expect(subStreamSeed(9, 1)).not.toBe(subStreamSeed(10, 1));
    for (const s of seeds) expect(Number.isInteger(s) && s >= 0 && s < 2 ** 32).toBe(true);
  });
});

describe('permutation / shuffleInPlace / randomInt', () => {
  it('permutation holds each of 0..n-1 exactly once and is not the identity', () => {
    const p = permutation(1000, createRng(1));
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(p)).not.toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('shuffleInPlace shuffles number arrays too, deterministically', () => {
    const a = shuffleInPlace([10, 20, 30, 40, 50, 60], createRng(2));
    const b = shuffleInPlace([10, 20, 30, 40, 50, 60], createRng(2));
    expect(a).toEqual(b);
    expect([...a].sort((x, y) => x - y)).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('randomInt stays in [0, n) and hits every value', () => {
    const r = createRng(4);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) seen.add(randomInt(r, 7));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});
