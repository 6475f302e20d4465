import { resolveRunConfig } from '@ablate/config';
import { createBatchIterator, subStreamSeed, loadDataset } from '@ablate/data';
import {
  PRESETS,
  disposeModel,
  flowVariables,
  forward,
  initModel,
  namedVariables,
  nll,
  patchify,
  priorVariables,
  reverse,
  sample,
  unpatchify,
  type TarflowConfig,
  type TarflowModel,
} from '@ablate/tarflow';
import { clipByGlobalNorm, createAdamW, toDataConfig, toInputs, toTarflowConfig } from '@ablate/train';
import * as tf from '@tensorflow/tfjs-core';

/**
 * The model's properties (invertibility, exact logdet, causality, no tensor leaks, cached = uncached sampling) as
 * measurements on whatever backend is active, with async reads only, so that they run on webgpu too (which has no
 * dataSync in Node). The unit tests in packages/tarflow check the same properties on the cpu backend; these run on the
 * cpu backend in CI (model-properties.test.ts), on webgpu where a real adapter exists, and in scripts/gpu-check.sh.
 */
export interface PropertyResult {
  name: string;
  value: number;
  /** value must be below this (or, for `atLeast`, at or above it). */
  limit: number;
  atLeast?: boolean;
  ok: boolean;
}

const test = (over: Partial<TarflowConfig> = {}): TarflowConfig => ({ ...PRESETS.test, ...over });
const result = (name: string, value: number, limit: number, atLeast = false): PropertyResult => ({
  name,
  value,
  limit,
  ...(atLeast ? { atLeast } : {}),
  ok: atLeast ? value >= limit : value < limit,
});

async function read(t: tf.Tensor): Promise<Float32Array> {
  const v = (await t.data()) as Float32Array;
  return v;
}

async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [va, vb] = [await read(a), await read(b)];
  if (va.length !== vb.length) return Infinity;
  let m = 0;
  for (let i = 0; i < va.length; i++) m = Math.max(m, Math.abs((va[i] ?? NaN) - (vb[i] ?? NaN)));
  return Number.isNaN(m) ? Infinity : m;
}

/** proj_out gets N(0, std²) weights and bias (zero at init), so every block is far from the identity. */
function perturb(m: TarflowModel, seed: number, std: number): void {
  m.blocks.forEach((b, i) => {
    tf.tidy(() => {
      b.projOut.w.assign(tf.randomNormal(b.projOut.w.shape, 0, std, 'float32', seed + 2 * i));
      b.projOut.b.assign(tf.randomNormal(b.projOut.b.shape, 0, std, 'float32', seed + 2 * i + 1));
    });
  });
}

const images = (cfg: TarflowConfig, n: number, seed: number): tf.Tensor4D =>
  tf.randomUniform([n, cfg.imageSize, cfg.imageSize, cfg.channels], -1, 1, 'float32', seed);

/** log|det M| by LU with partial pivoting, in float64. */
export function logAbsDet(m: number[][]): number {
  const a = m.map((r) => [...r]);
  let logDet = 0;
  for (let k = 0; k < a.length; k++) {
    let p = k;
    for (let i = k + 1; i < a.length; i++) if (Math.abs(a[i]?.[k] ?? 0) > Math.abs(a[p]?.[k] ?? 0)) p = i;
    [a[k], a[p]] = [a[p] ?? [], a[k] ?? []];
    const pivotRow = a[k] ?? [];
    const pivot = pivotRow[k] ?? 0;
    if (pivot === 0) return -Infinity;
    logDet += Math.log(Math.abs(pivot));
    for (let i = k + 1; i < a.length; i++) {
      const row = a[i] ?? [];
      const f = (row[k] ?? 0) / pivot;
      for (let j = k; j < a.length; j++) row[j] = (row[j] ?? 0) - f * (pivotRow[j] ?? 0);
    }
  }
  return logDet;
}

export async function checkInvertibility(): Promise<PropertyResult[]> {
  const out: PropertyResult[] = [];
  for (const nvp of [true, false]) {
    const cfg = test({ nvp });
    const m = initModel(cfg, { seed: 3, muInit: { kind: 'zero' } });
    perturb(m, 4, 0.2);
    const x = images(cfg, 3, 5);
    const { z, logdet } = forward(m, x);
    const far = tf.tidy(() => patchify(cfg, x));
    out.push(result(`flow is far from the identity (nvp ${nvp})`, await maxAbsDiff(z, far), 0.1, true));
    for (const cache of [true, false]) {
      const back = reverse(m, z, { cache });
      out.push(result(`reverse(forward(x)) = x (nvp ${nvp}, cache ${cache}): max |Δ|`, await maxAbsDiff(back, x), 1e-4));
      back.dispose();
    }
    tf.dispose([x, z, logdet, far]);
    disposeModel(m);
  }
  return out;
}

export async function checkLogdet(): Promise<PropertyResult> {
  const cfg = test({ imageSize: 4, patchSize: 2, width: 8, headDim: 4, layersPerBlock: 1 }); // 16 dims
  const m = initModel(cfg, { seed: 12, muInit: { kind: 'zero' } });
  perturb(m, 13, 0.6);
  const x = images(cfg, 1, 14);
  const N = 16;
  const rows: number[][] = [];
  for (let i = 0; i < N; i++) {
    // row i of ∂z/∂x
    const g = tf.tidy(() => {
      const e = tf.oneHot(tf.tensor1d([i], 'int32'), N);
      return tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.reshape(forward(m, xx as tf.Tensor4D).z, [1, N]), e)))(x);
    });
    rows.push(Array.from(await read(g)));
    g.dispose();
  }
  const { z, logdet } = forward(m, x);
  const ld = (await read(logdet))[0] ?? NaN;
  tf.dispose([x, z, logdet]);
  disposeModel(m);
  const err = Math.abs(logAbsDet(rows) - ld);
  return result(`logdet = log|det J| of the brute-force Jacobian (logdet ${ld.toFixed(4)}): |Δ|`, Number.isNaN(err) ? Infinity : err, 1e-3);
}

/** Changing token t of the input changes no z before t in the block's order, changes z_t, and (t < T−1) a later one. */
export async function checkCausality(): Promise<PropertyResult> {
  const cfg = test();
  const m = initModel(cfg, { seed: 9, muInit: { kind: 'zero' } });
  perturb(m, 10, 0.5);
  const T = 16,
    D = 4;
  const x = images(cfg, 1, 11);
  let violations = 0;
  for (const [bi, block] of m.blocks.entries()) {
    const order = Array.from({ length: T }, (_, i) => (block.flip ? T - 1 - i : i));
    // Run the whole flow up to and including this block, so the check is on the model as trained.
    const zOf = async (xx: tf.Tensor4D): Promise<Float32Array> => {
      const z = tf.tidy(() => {
        const sub: TarflowModel = { ...m, blocks: m.blocks.slice(bi, bi + 1) };
        return forward(sub, xx).z;
      });
      const v = await read(z);
      z.dispose();
      return v;
    };
    const z0 = await zOf(x);
    for (const s of [0, 5, T - 1]) {
      const t = order[s] ?? 0;
      const x1 = tf.tidy(() => {
        const p = patchify(cfg, x);
        const bump = tf.tensor3d(
          Array.from({ length: T * D }, (_, i) => (Math.floor(i / D) === t ? 0.7 : 0)),
          [1, T, D],
        );
        return unpatchify(cfg, tf.add(p, bump) as tf.Tensor3D);
      });
      const z1 = await zOf(x1);
      x1.dispose();
      const moved = order.map((tok) => {
        let d = 0;
        for (let k = 0; k < D; k++) d = Math.max(d, Math.abs((z0[tok * D + k] ?? 0) - (z1[tok * D + k] ?? 0)));
        return d > 0;
      });
      if (moved.slice(0, s).some((c) => c)) violations++;
      if (!moved[s]) violations++;
      if (s < T - 1 && !moved.slice(s + 1).some((c) => c)) violations++;
    }
  }
  x.dispose();
  disposeModel(m);
  return result('causality: violations (earlier token moved, own token did not, no later token moved)', violations, 1);
}

export async function checkNoLeaks(): Promise<PropertyResult> {
  const cfg = test();
  const m = initModel(cfg, { seed: 6, muInit: { kind: 'randn', std: 1 } });
  const x = images(cfg, 2, 7);
  const labels = tf.tensor1d([1, 2], 'int32');
  const vars = [...flowVariables(m), ...priorVariables(m)];
  const step = async (): Promise<void> => {
    const { value, grads } = tf.variableGrads(() => nll(m, x, labels).loss, vars);
    await value.data();
    tf.dispose(grads);
    value.dispose();
    const s = sample(m, [0, 1], { seed: 1, noiseStd: 0.1 });
    await s.denoised.data();
    tf.dispose([s.raw, s.denoised]);
  };
  await step();
  const n = tf.memory().numTensors;
  await step();
  await step();
  const leaked = tf.memory().numTensors - n;
  tf.dispose([x, labels]);
  disposeModel(m);
  return result('tensors leaked by two training steps + samplings', leaked, 1);
}

export async function checkSampleCache(): Promise<PropertyResult> {
  const cfg = test();
  const m = initModel(cfg, { seed: 1, muInit: { kind: 'randn', std: 1 } });
  perturb(m, 2, 0.2);
  const a = sample(m, [0, 3, 7], { seed: 5, cache: true });
  const b = sample(m, [0, 3, 7], { seed: 5, cache: false });
  const d = await maxAbsDiff(a.raw, b.raw);
  tf.dispose([a.raw, a.denoised, b.raw, b.denoised]);
  disposeModel(m);
  return result('KV-cached sampling = uncached: max |Δ|', d, 1e-4);
}

export async function checkModelProperties(): Promise<PropertyResult[]> {
  return [...(await checkInvertibility()), await checkLogdet(), await checkCausality(), await checkNoLeaks(), await checkSampleCache()];
}

/**
 * The losses of the first `steps` training steps of a preset (the trainer's step: clipped AdamW at lr 1e-3), on the
 * active backend. Compared across backends by scripts/gpu-check.sh (webgpu against wasm).
 */
export async function trainingLosses(preset: string, steps: number, batch = 64): Promise<number[]> {
  const cfg = resolveRunConfig({ seed: 1, model: { preset }, train: { batch_size: batch } });
  const { train } = loadDataset(toDataConfig(cfg.data));
  const tcfg = toTarflowConfig(cfg.model, train);
  const model = initModel(tcfg, { seed: 1, muInit: { kind: 'randn', std: 1 } });
  const named = namedVariables(model);
  const vars = Object.values(named);
  const opt = createAdamW([{ name: 'all', vars: named, lrScale: 1, weightDecay: 1e-4 }], { beta1: 0.9, beta2: 0.95, eps: 1e-8 });
  const it = createBatchIterator(train, { batchSize: batch, seed: 1 });
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const b = it.next();
    const { value, grads } = tf.variableGrads(() => {
      const { x, y } = toInputs(tcfg, b.images, b.labels, 0.1, subStreamSeed(1, i + 1));
      return nll(model, x, y).loss;
    }, vars);
    const { grads: clipped, norm } = clipByGlobalNorm(grads, 1);
    losses.push((await value.data())[0] ?? NaN);
    opt.apply(clipped, 1e-3);
    tf.dispose([value, norm, ...Object.values(grads), ...Object.values(clipped)]);
  }
  opt.dispose();
  disposeModel(model);
  return losses;
}

/** max over steps of |a − b| / max(1, |a|). */
export function maxRelativeDiff(a: number[], b: number[]): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? NaN) - (b[i] ?? NaN)) / Math.max(1, Math.abs(a[i] ?? 0)));
  return Number.isNaN(m) ? Infinity : m;
}
