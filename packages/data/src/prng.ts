/**
 * Small seeded PRNG shared by data and train: sfc32 (PractRand-clean, 128-bit state) seeded through splitmix32.
 * Pure 32-bit integer arithmetic, so the same seed gives the same stream on every machine and Node version.
 */

/** Uniform float in [0, 1) with 32 random bits. */
export type Rng = () => number;

const TWO_POW_32 = 4294967296;

/** splitmix32 step: a good 32-bit mixer, used to spread a seed over sfc32's state. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Low and high 32-bit words of a safe integer (negative seeds are fine and distinct from positive ones). */
function splitSeed(seed: number): [number, number] {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${String(seed)}`);
  const hi = Math.floor(seed / TWO_POW_32);
  const lo = seed - hi * TWO_POW_32;
  return [lo >>> 0, hi >>> 0];
}

/** sfc32 over 4 uint32 words. */
function sfc32(a0: number, b0: number, c0: number, d0: number): Rng {
  let a = a0 | 0;
  let b = b0 | 0;
  let c = c0 | 0;
  let d = d0 | 0;
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / TWO_POW_32;
  };
}

/** A seeded generator. Any safe integer is a valid seed; different seeds give unrelated streams. */
export function createRng(seed: number): Rng {
  const [lo, hi] = splitSeed(seed);
  // splitmix32's output is a bijection of its state, so distinct (lo, hi) give distinct sfc32 states.
  const s1 = { s: lo };
  const s2 = { s: hi ^ 0x6a09e667 };
  const rng = sfc32(splitmix32(s1), splitmix32(s1), splitmix32(s2), splitmix32(s2));
  for (let i = 0; i < 12; i++) rng(); // discard the first outputs, as sfc32's authors recommend
  return rng;
}

/** A child seed for a sub-stream, e.g. subStreamSeed(seed, epoch) or subStreamSeed(seed, classIndex). Result is a uint32. */
export function subStreamSeed(seed: number, ...keys: number[]): number {
  const [lo, hi] = splitSeed(seed);
  let h = Math.imul(lo ^ 0x5bd1e995, 0x9e3779b1) ^ hi;
  for (const key of [hi, ...keys]) {
    const [klo, khi] = splitSeed(key);
    for (const w of [klo, khi]) {
      let k = Math.imul(w, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      h ^= Math.imul(k, 0x1b873593);
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    }
  }
  h ^= h >>> 16; // murmur3 fmix32
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const floor = Math.floor; // hoisted out of hot loops (global lookups are slow under jest's vm sandbox)

/** Integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return floor(rng() * n);
}

/** Fisher–Yates shuffle in place; returns its argument. */
export function shuffleInPlace<T extends { length: number; [i: number]: number }>(arr: T, rng: Rng): T {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const tmp = arr[i] ?? 0;
    arr[i] = arr[j] ?? 0;
    arr[j] = tmp;
  }
  return arr;
}

/** A random permutation of 0..n-1. */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return shuffleInPlace(p, rng);
}
