import { describe, expect, it, beforeAll, afterAll } from '@jest/globals';
import { seededRandom as rng } from '@ablate/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import {
  fusedAdamW,
  fusedGelu,
  fusedGeluGrad,
  fusedKernels,
  fusedLayerNorm,
  fusedLayerNormGrad,
  fusedSoftmax,
  fusedSoftmaxGrad,
  installBlasKernels,
  isBlasInstalled,
  loadAddon,
  mergeTranspose,
  uninstallBlasKernels,
} from './index';

/** Runs the reference with wasm's own kernels (the fused ones uninstalled), then puts ours back. */
function withWasmKernels<T>(f: () => T): T {
  uninstallBlasKernels();
  try {
    return f();
  } finally {
    expect(installBlasKernels().ok).toBe(true);
  }
}

// References in float64, and gradients by central differences of them: independent of both the kernels under test and
// tfjs (whose CommonJS core registers no gradients).
const K = Math.sqrt(2 / Math.PI),
  C = 0.044715;
const gelu64 = (x: number) => x / (1 + Math.exp(-2 * K * (x + C * x ** 3)));

/** Rows of the last axis through f (a function of one row and its index). */
function rowwise(x: ArrayLike<number>, cols: number, f: (row: number[], r: number) => number[]): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / cols; r++)
    out.set(
      f(
        Array.from({ length: cols }, (_, j) => x[r * cols + j]!),
        r,
      ),
      r * cols,
    );
  return out;
}

/** d(Σ dy·F(x))/dx by central differences (F: float64 in, float64 out). */
function numericGrad(F: (x: Float64Array) => Float64Array, x: ArrayLike<number>, dy: ArrayLike<number>, h = 1e-5): Float64Array {
  const xs = Float64Array.from(x);
  const g = new Float64Array(xs.length);
  const dot = (y: Float64Array) => y.reduce((s, v, i) => s + v * dy[i]!, 0);
  for (let i = 0; i < xs.length; i++) {
    const x0 = xs[i]!;
    xs[i] = x0 + h;
    const up = dot(F(xs));
    xs[i] = x0 - h;
    const down = dot(F(xs));
    xs[i] = x0;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

/** The largest |a − b| / max(1, |b|) against a float64 reference. */
function worstVs(a: tf.Tensor, ref: ArrayLike<number>): number {
  const x = a.dataSync();
  expect(x.length).toBe(ref.length);
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const err = Math.abs(x[i]! - ref[i]!) / Math.max(1, Math.abs(ref[i]!));
    if (!(err <= worst)) worst = err;
  }
  return worst;
}

beforeAll(async () => {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  expect(await tf.setBackend('wasm')).toBe(true);
  const status = installBlasKernels({ threads: 1 });
  if (!status.ok) throw new Error(status.reason);
});
afterAll(() => uninstallBlasKernels());

describe('Transpose on the addon', () => {
  it('merges axes that stay together and drops size-1 axes', () => {
    expect(mergeTranspose([3, 64, 2, 196, 64], [1, 3, 0, 2, 4])).toEqual({ shape: [3, 64, 2, 196, 64], perm: [1, 3, 0, 2, 4] });
    expect(mergeTranspose([64, 196, 2, 64], [0, 2, 1, 3])).toEqual({ shape: [64, 196, 2, 64], perm: [0, 2, 1, 3] });
    expect(mergeTranspose([2, 3, 4, 5], [2, 3, 0, 1])).toEqual({ shape: [6, 20], perm: [1, 0] });
    expect(mergeTranspose([1, 3, 1, 5], [3, 2, 1, 0])).toEqual({ shape: [3, 5], perm: [1, 0] });
    expect(mergeTranspose([2, 3], [0, 1])).toEqual({ shape: [6], perm: [0] });
    expect(mergeTranspose([1, 1], [1, 0])).toEqual({ shape: [], perm: [] });
  });

  it('gives exactly what wasm gives, for random shapes and permutations of ranks 1 to 6, float32 and int32', () => {
    const r = rng(7);
    for (let c = 0; c < 120; c++) {
      const rank = 1 + (c % 6);
      const shape = Array.from({ length: rank }, () => 1 + Math.floor(r() * (rank > 4 ? 4 : 7)));
      const perm = [...Array(rank).keys()];
      for (let i = rank - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      }
      const dtype = c % 3 === 0 ? 'int32' : 'float32';
      const n = shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: n }, (_, i) => (dtype === 'int32' ? i - 5 : i * 0.5 - 3));
      const ours = tf.transpose(tf.tensor(values, shape, dtype), perm);
      const theirs = withWasmKernels(() => tf.transpose(tf.tensor(values, shape, dtype), perm));
      expect({ c, shape: ours.shape, dtype: ours.dtype, values: Array.from(ours.dataSync()) }).toEqual({
        c,
        shape: theirs.shape,
        dtype: theirs.dtype,
        values: Array.from(theirs.dataSync()),
      });
      tf.dispose([ours, theirs]);
    }
  });

  it('handles tiles larger than its 32×32 blocks, a scalar and an empty tensor', () => {
    const x = tf.reshape(tf.range(0, 70 * 45, 1, 'float32'), [70, 45]);
    const t = tf.transpose(x);
    const want = withWasmKernels(() => tf.transpose(tf.reshape(tf.range(0, 70 * 45, 1, 'float32'), [70, 45])));
    expect(Array.from(t.dataSync())).toEqual(Array.from(want.dataSync()));
    expect(Array.from(tf.transpose(tf.tensor([[4]]), [1, 0]).dataSync())).toEqual([4]);
    expect(tf.transpose(tf.zeros([0, 3]), [1, 0]).shape).toEqual([3, 0]);
  });

  it('leaves bool tensors to the wasm kernel', () => {
    const b = tf.transpose(tf.tensor2d([[true, false, true]], [1, 3], 'bool'));
    expect({ shape: b.shape, v: Array.from(b.dataSync()) }).toEqual({ shape: [3, 1], v: [1, 0, 1] });
  });
});

describe('GELU', () => {
  it('matches the float64 formula and its numerical gradient, and has the known values', () => {
    const x = tf.mul(tf.randomNormal([37, 29], 0, 1, 'float32', 1), 3);
    const dy = tf.randomNormal([37, 29], 0, 1, 'float32', 2);
    const xv = x.dataSync(),
      dyv = dy.dataSync();
    expect(worstVs(fusedGelu(x), Array.from(xv, gelu64))).toBeLessThan(2e-6);
    const numeric = numericGrad((a) => a.map(gelu64), xv, dyv);
    // d/dx of an elementwise op: only x[i] moves y[i], so the numerical gradient is exact up to its own O(h²)
    expect(worstVs(fusedGeluGrad(x, dy), numeric)).toBeLessThan(2e-5);
    // GELU(0) = 0; GELU(x) → x for large x and → 0 for very negative x; GELU'(0) = 1/2
    const known = Array.from(fusedGelu(tf.tensor1d([0, 10, -10, 200, -200])).dataSync());
    expect(known.slice(0, 2).concat(known.slice(3, 4))).toEqual([0, 10, 200]);
    expect(Math.abs(known[2]!)).toBeLessThan(1e-12);
    expect(Math.abs(known[4]!)).toBeLessThan(1e-30);
    expect(fusedGeluGrad(tf.tensor1d([0]), tf.tensor1d([1])).dataSync()[0]).toBeCloseTo(0.5, 7);
  });
});

describe('LayerNorm', () => {
  it('matches the float64 formula, gives x̂ with mean 0 and variance 1, and its gradients match numerical ones', () => {
    const [N, W] = [13, 24];
    const x = tf.add(tf.mul(tf.randomNormal([N, W], 0, 1, 'float32', 3), 4), 2);
    const gamma = tf.randomNormal([W], 1, 0.2, 'float32', 4),
      beta = tf.randomNormal([W], 0, 0.2, 'float32', 5);
    const dy = tf.randomNormal([N, W], 0, 1, 'float32', 6);
    const [xv, gv, bv, dyv] = [x, gamma, beta, dy].map((t) => Float64Array.from(t.dataSync()));
    const eps = 1e-5;
    const ln = (xs: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>) =>
      rowwise(xs, W, (row) => {
        const mean = row.reduce((s, v) => s + v, 0) / W;
        const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / W;
        return row.map((v, j) => ((v - mean) / Math.sqrt(variance + eps)) * g[j]! + b[j]!);
      });
    const [y, xhat, rstd] = fusedLayerNorm(x, gamma, beta, eps);
    expect(rstd.shape).toEqual([N, 1]);
    expect(worstVs(y, ln(xv!, gv!, bv!))).toBeLessThan(1e-5);
    const hv = xhat.dataSync();
    for (let r = 0; r < N; r++) {
      const row = Array.from(hv.subarray(r * W, (r + 1) * W));
      const mean = row.reduce((s, v) => s + v, 0) / W;
      expect(Math.abs(mean)).toBeLessThan(1e-6);
      expect(row.reduce((s, v) => s + (v - mean) ** 2, 0) / W).toBeCloseTo(1, 4);
    }
    const empty = fusedLayerNorm(tf.zeros([0, W]), gamma, beta, eps);
    expect(empty.map((t) => t.shape)).toEqual([
      [0, W],
      [0, W],
      [0, 1],
    ]);
    const emptyGrad = fusedLayerNormGrad(tf.zeros([0, W]), tf.zeros([0, W]), tf.zeros([0, 1]), gamma);
    expect(Array.from(emptyGrad[1].dataSync())).toEqual(Array(W).fill(0)); // dγ: a sum over no rows
    const [dx, dg, db] = fusedLayerNormGrad(dy, xhat, rstd, gamma);
    expect(
      worstVs(
        dx,
        numericGrad((a) => ln(a, gv!, bv!), xv!, dyv!),
      ),
    ).toBeLessThan(1e-4);
    expect(
      worstVs(
        dg,
        numericGrad((a) => ln(xv!, a, bv!), gv!, dyv!),
      ),
    ).toBeLessThan(1e-4);
    expect(
      worstVs(
        db,
        numericGrad((a) => ln(xv!, gv!, a), bv!, dyv!),
      ),
    ).toBeLessThan(1e-5);
  });
});

describe('masked softmax', () => {
  it('matches softmax(scale·s + mask), gives exact zeros where the mask is −1e9, and its gradient matches numerical ones', () => {
    const [B, T] = [3, 11];
    const s = tf.mul(tf.randomNormal([B, T, T], 0, 1, 'float32', 7), 5);
    const m = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -1e9;
    const mask = tf.tensor2d(m, [T, T]);
    const dp = tf.randomNormal([B, T, T], 0, 1, 'float32', 8);
    const scale = 0.125;
    const sm = (xs: ArrayLike<number>) =>
      rowwise(xs, T, (row, r) => {
        const z = row.map((v, j) => v * scale + m[(r % T) * T + j]!);
        const mx = Math.max(...z);
        const e = z.map((v) => Math.exp(v - mx));
        const sum = e.reduce((a, b) => a + b, 0);
        return e.map((v) => v / sum);
      });
    const p = fusedSoftmax(s, mask, scale);
    const sv = s.dataSync();
    expect(worstVs(p, sm(sv))).toBeLessThan(1e-6);
    expect(worstVs(fusedSoftmaxGrad(p, dp, scale), numericGrad(sm, sv, dp.dataSync(), 1e-4))).toBeLessThan(1e-5);
    const pv = p.dataSync();
    let masked = 0;
    for (let b = 0; b < B; b++)
      for (let i = 0; i < T; i++) {
        let sum = 0;
        for (let j = 0; j < T; j++) {
          const v = pv[(b * T + i) * T + j]!;
          sum += v;
          if (j > i && v !== 0) masked++;
        }
        expect(sum).toBeCloseTo(1, 5);
      }
    expect(masked).toBe(0); // exact zeros: no denormals for the matmuls that follow
    // empty rows (no columns) and no rows at all give empty results, as tf.softmax does
    expect(fusedSoftmax(tf.zeros([2, 3, 0]), null, 1).shape).toEqual([2, 3, 0]);
    expect(fusedSoftmaxGrad(tf.zeros([0, 5]), tf.zeros([0, 5]), 1).shape).toEqual([0, 5]);
    // without a mask: softmax of a row of equal values is uniform
    expect(Array.from(fusedSoftmax(tf.fill([2, 4], 3), null, 1).dataSync())).toEqual(Array(8).fill(0.25));
  });
});

describe('AdamW', () => {
  it('takes the step PyTorch takes (checked in float64), as new tensors', () => {
    const n = 1000;
    const r = rng(11);
    const arr = (scale: number) => Float32Array.from({ length: n }, () => (r() - 0.5) * scale);
    const [p0, m0, g0] = [arr(2), arr(0.1), arr(1)];
    const v0 = Float32Array.from({ length: n }, () => r() * 0.01);
    const [p, m, v, g] = [p0, m0, v0, g0].map((a) => tf.tensor1d(a));
    const [lr, b1, b2, eps, wd, t] = [1e-3, 0.9, 0.95, 1e-8, 0.1, 7];
    const bc1 = 1 - b1 ** t,
      bc2Sqrt = Math.sqrt(1 - b2 ** t);
    const [pn, mn, vn] = fusedAdamW(p!, m!, v!, g!, { lrOverBc1: lr / bc1, beta1: b1, beta2: b2, eps, decay: 1 - lr * wd, bc2Sqrt });
    expect(pn.dataId).not.toBe(p!.dataId);
    const [P, M, V] = [pn.dataSync(), mn.dataSync(), vn.dataSync()];
    for (let i = 0; i < n; i++) {
      const m1 = b1 * m0[i]! + (1 - b1) * g0[i]!;
      const m2 = b2 * v0[i]! + (1 - b2) * g0[i]! ** 2;
      const want = p0[i]! * (1 - lr * wd) - (lr / bc1) * (m1 / (Math.sqrt(m2) / bc2Sqrt + eps));
      expect(Math.abs(M[i]! - m1)).toBeLessThan(1e-7);
      expect(Math.abs(V[i]! - m2)).toBeLessThan(1e-8);
      expect(Math.abs(P[i]! - want)).toBeLessThan(2e-7);
    }
    expect(Array.from(p!.dataSync())).toEqual(Array.from(p0)); // the inputs are untouched
  });

  it('rejects a state of another shape', () => {
    const a = tf.zeros([3]),
      b = tf.zeros([4]);
    const s = { lrOverBc1: 1, beta1: 0.9, beta2: 0.9, eps: 1e-8, decay: 1, bc2Sqrt: 1 };
    expect(() => fusedAdamW(a, a, b, a, s)).toThrow(/AblateAdamW: parameter and state/);
  });
});

describe('on two threads', () => {
  it('splits the big kernels over threads and gives what one thread gives', () => {
    // above the addon's MIN_PARALLEL (2^18 elements), so each kernel below runs on two threads when asked to
    const [N, W, B, T] = [700, 512, 40, 90];
    const x = tf.mul(tf.randomNormal([N, W], 0, 1, 'float32', 21), 2);
    const dy = tf.randomNormal([N, W], 0, 1, 'float32', 22);
    const gamma = tf.randomNormal([W], 1, 0.2, 'float32', 23),
      beta = tf.randomNormal([W], 0, 0.2, 'float32', 24);
    const s = tf.randomNormal([B, T, T], 0, 3, 'float32', 25);
    const dp = tf.randomNormal([B, T, T], 0, 1, 'float32', 26);
    const mask = tf.tensor2d(
      Float32Array.from({ length: T * T }, (_, i) => (i % T > Math.floor(i / T) ? -1e9 : 0)),
      [T, T],
    );
    const all = (): tf.Tensor[] => {
      const [y, xhat, rstd] = fusedLayerNorm(x, gamma, beta, 1e-5);
      const p = fusedSoftmax(s, mask, 0.3);
      return [
        fusedGelu(x),
        fusedGeluGrad(x, dy),
        y,
        ...fusedLayerNormGrad(dy, xhat, rstd, gamma),
        p,
        fusedSoftmaxGrad(p, dp, 0.3),
        tf.transpose(x),
        tf.transpose(tf.reshape(x, [7, 100, 8, 64]), [2, 0, 3, 1]),
      ];
    };
    const one = all().map((t) => Array.from(t.dataSync()));
    expect(installBlasKernels({ threads: 2 }).ok).toBe(true);
    let two: number[][];
    try {
      two = all().map((t) => Array.from(t.dataSync()));
    } finally {
      expect(installBlasKernels({ threads: 1 }).ok).toBe(true);
    }
    // every row is computed the same way whichever thread does it; only dγ and dβ (indices 4, 5) add partial sums
    for (const i of [0, 1, 2, 3, 6, 7, 8, 9]) expect({ i, same: two[i]!.every((v, j) => v === one[i]![j]) }).toEqual({ i, same: true });
    for (const i of [4, 5])
      expect({ i, close: two[i]!.every((v, j) => Math.abs(v - one[i]![j]!) <= 1e-4 * Math.max(1, Math.abs(one[i]![j]!))) }).toEqual({ i, close: true });
  });
});

describe('the addon itself', () => {
  it('refuses sizes that are not whole numbers, and operands outside the heap, with an error instead of a crash', () => {
    const addon = loadAddon();
    if ('error' in addon) throw new Error(addon.error);
    const heap = new ArrayBuffer(64);
    expect(() => addon.gelu(heap, 0, 32, 2.5)).toThrow('ablate_blas.gelu: operand outside the heap');
    expect(() => addon.gelu(heap, 0, 32, 100)).toThrow('ablate_blas.gelu: operand outside the heap');
    // a 2^40 × 2^40 transpose: its int64 size would overflow; the double one is checked first
    expect(() => addon.transpose(heap, 0, 32, 2, 2 ** 40, 2 ** 40, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0)).toThrow('ablate_blas.transpose: operand outside the heap');
    expect(() => addon.transpose(heap, 0, 32, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)).toThrow('ablate_blas.transpose: bad shape or permutation');
    expect(() => addon.softmax(heap, 0, 0, 32, 1, 0.5, 2, 1)).toThrow('ablate_blas.softmax: bad shape');
    expect(() => addon.layerNorm(heap, 0, 0, 0, 0, 0, 0, 1, Number.NaN, 1e-5)).toThrow('ablate_blas.layerNorm: bad shape');
    expect(() => addon.adamw(heap, 0, 0, 0, 0, 0, 0, 0, -1, 1, 0.9, 0.9, 1e-8, 1, 1)).toThrow('ablate_blas.adamw: bad size');
  });

  it('gives empty results for tensors with no elements', () => {
    expect(fusedLayerNormGrad(tf.zeros([4, 0]), tf.zeros([4, 0]), tf.zeros([4, 1]), tf.zeros([0])).map((t) => t.shape)).toEqual([[4, 0], [0], [0]]);
    expect(fusedLayerNorm(tf.zeros([0, 3]), tf.ones([3]), tf.zeros([3]), 1e-5).map((t) => t.shape)).toEqual([
      [0, 3],
      [0, 3],
      [0, 1],
    ]);
    expect(fusedSoftmax(tf.zeros([0, 3, 3]), tf.zeros([3, 3]), 1).shape).toEqual([0, 3, 3]);
    expect(fusedGelu(tf.zeros([0])).shape).toEqual([0]);
  });
});

describe('installation', () => {
  it('registers the fused kernels with the OpenBLAS ones and removes them with them', () => {
    expect(fusedKernels()).toBe(true);
    uninstallBlasKernels();
    try {
      expect(isBlasInstalled()).toBe(false);
      expect(fusedKernels()).toBe(false);
      expect(() => fusedGelu(tf.ones([2]))).toThrow(/AblateGelu/);
    } finally {
      expect(installBlasKernels().ok).toBe(true);
    }
    expect(fusedKernels()).toBe(true);
  });
});
