import * as tf from '@tensorflow/tfjs-core';
import { type KvCache } from './attention';
import { numTokens, tokenDim, type TarflowConfig } from './config';
import { initLinear, linear, linearCols, type LinearParams } from './linear';
import { blockMask, isFlipped, shiftToNext, tokenOrder } from './permutation';
import { paramSeed } from './seed';
import { makeVariable, rank2 } from './tensor-util';
import { initLayer, layerForward, layerStep, type LayerParams } from './transformer-layer';

/** One TARFlow block (ml-tarflow MetaBlock). Variables are plain tf.Variable; `mask` is a constant, not trained. */
export interface FlowBlockParams {
  flip: boolean; //            odd blocks process tokens in reverse order (see permutation.ts)
  nvp: boolean; //             affine (a, b) or shift-only (b)
  logScaleClip: number; //     a is clipped to [−clip, clip]
  tokenDim: number; //         D
  projIn: LinearParams; //     (D, W)
  posEmbed: tf.Variable<tf.Rank.R2>; //    (T, W), row t belongs to token t (as ml-tarflow, which permutes it with the tokens)
  layers: LayerParams[];
  projOut: LinearParams; //    (W, 2D) if nvp else (W, D); zero-initialised so the block starts as the identity
  mask: tf.Tensor2D; //        (T, T) additive mask, causal in the block's order, 0 / −1e9
}

/** Block `index` of the stack, seeded from (seed, index). */
export function initFlowBlock(cfg: TarflowConfig, index: number, seed: number): FlowBlockParams {
  const T = numTokens(cfg),
    D = tokenDim(cfg),
    W = cfg.width;
  const s = paramSeed(seed, index);
  return {
    flip: isFlipped(index),
    nvp: cfg.nvp,
    logScaleClip: cfg.logScaleClip,
    tokenDim: D,
    projIn: initLinear(D, W, paramSeed(s, 1)),
    posEmbed: makeVariable(() => tf.randomNormal<tf.Rank.R2>([T, W], 0, 0.01, 'float32', paramSeed(s, 2))),
    layers: Array.from({ length: cfg.layersPerBlock }, (_, l) => initLayer(W, cfg.headDim, cfg.mlpRatio, paramSeed(s, 3, l))),
    projOut: initLinear(W, cfg.nvp ? 2 * D : D, paramSeed(s, 4), true),
    mask: blockMask(T, isFlipped(index)),
  };
}

/** Every tf.Variable of the block with a stable name relative to the block (`projIn.w`, `layers.0.attn.qkv.w`, …). */
export function blockVariables(p: FlowBlockParams): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = { 'projIn.w': p.projIn.w, 'projIn.b': p.projIn.b, posEmbed: p.posEmbed };
  p.layers.forEach((l, i) => {
    const pre = `layers.${i}`;
    Object.assign(out, {
      [`${pre}.attn.norm.gamma`]: l.attn.norm.gamma,
      [`${pre}.attn.norm.beta`]: l.attn.norm.beta,
      [`${pre}.attn.qkv.w`]: l.attn.qkv.w,
      [`${pre}.attn.qkv.b`]: l.attn.qkv.b,
      [`${pre}.attn.proj.w`]: l.attn.proj.w,
      [`${pre}.attn.proj.b`]: l.attn.proj.b,
      [`${pre}.mlp.norm.gamma`]: l.mlp.norm.gamma,
      [`${pre}.mlp.norm.beta`]: l.mlp.norm.beta,
      [`${pre}.mlp.fc1.w`]: l.mlp.fc1.w,
      [`${pre}.mlp.fc1.b`]: l.mlp.fc1.b,
      [`${pre}.mlp.fc2.w`]: l.mlp.fc2.w,
      [`${pre}.mlp.fc2.b`]: l.mlp.fc2.b,
    });
  });
  out['projOut.w'] = p.projOut.w;
  out['projOut.b'] = p.projOut.b;
  return out;
}

export function disposeFlowBlock(p: FlowBlockParams): void {
  tf.dispose(Object.values(blockVariables(p)));
  p.mask.dispose();
}

/**
 * The block's transformer on a contiguous run of tokens: x (B, t, D) → final hidden state h (B·t, W). Row s of h
 * predicts the next token in the block's order from the tokens up to s. pos (t, W), mask (t, t): matching slices.
 */
function network(p: FlowBlockParams, x: tf.Tensor3D, pos: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor2D {
  const [B, t, D] = x.shape;
  const W = pos.shape[1];
  const e = linear(tf.reshape<tf.Rank.R2>(x, [B * t, D]), p.projIn); //                  (B*t, W)
  let h = tf.reshape<tf.Rank.R2>(tf.add(tf.reshape(e, [B, t, W]), pos), [B * t, W]); //  (B*t, W)
  for (const layer of p.layers) h = layerForward(layer, h, B, t, mask);
  return h;
}

/**
 * proj_out split into log-scale a and shift b, each (rows, D), unclipped; a = null when !nvp. Two matmuls on column
 * slices of the small weight instead of one matmul and a split of its output (slicing the last axis is slow on wasm).
 */
function projectOut(p: FlowBlockParams, h: tf.Tensor2D): { a: tf.Tensor2D | null; b: tf.Tensor2D } {
  const D = p.tokenDim;
  if (!p.nvp) return { a: null, b: linear(h, p.projOut) };
  return { a: linearCols(h, p.projOut, 0, D), b: linearCols(h, p.projOut, D, D) };
}

/**
 * x → z: z_t = (x_t − b(x_<t)) · exp(−a(x_<t)), "<t" in the block's order; the first token passes through (a = b = 0).
 * a is clipped to [−logScaleClip, logScaleClip] (the paper's norm control). x, z (B, T, D) in raster token order.
 * logdet (B) = −Σ_{t,d} a: the full log|det ∂z/∂x| in nats (ml-tarflow returns the mean over T·D instead).
 */
export function flowForward(p: FlowBlockParams, x: tf.Tensor3D): { z: tf.Tensor3D; logdet: tf.Tensor1D } {
  return tf.tidy(() => {
    const [B, T, D] = x.shape;
    const out = projectOut(p, network(p, x, p.posEmbed, p.mask)); //                    (B*T, D) each
    const shift = (y: tf.Tensor2D): tf.Tensor3D => shiftToNext(tf.reshape<tf.Rank.R3>(y, [B, T, D]), p.flip);
    const b = shift(out.b);
    if (out.a === null) return { z: tf.sub<tf.Tensor3D>(x, b), logdet: tf.zeros<tf.Rank.R1>([B]) };
    const a = tf.clipByValue(shift(out.a), -p.logScaleClip, p.logScaleClip); //          (B, T, D)
    return { z: tf.mul<tf.Tensor3D>(tf.sub(x, b), tf.exp(tf.neg(a))), logdet: tf.neg(tf.sum<tf.Tensor1D>(a, [1, 2])) };
  });
}

/** x_next = z_next · exp(a) + b, with (a, b) from the hidden state h (B, W) of the token before it. */
function invertToken(p: FlowBlockParams, h: tf.Tensor2D, zNext: tf.Tensor2D): tf.Tensor2D {
  const { a, b } = projectOut(p, h);
  if (a === null) return tf.add(zNext, b);
  return tf.add(tf.mul(zNext, tf.exp(tf.clipByValue(a, -p.logScaleClip, p.logScaleClip))), b);
}

/**
 * z → x, exactly, token by token in the block's order. cache = true (default): each step feeds only the newest token
 * through the layers and attends to the cached keys/values (O(T) per step). cache = false: each step re-runs the
 * full masked network on the tokens known so far (O(T²) per step); kept to test the cached path.
 */
export function flowReverse(p: FlowBlockParams, z: tf.Tensor3D, opts: { cache?: boolean } = {}): tf.Tensor3D {
  return tf.tidy(() => {
    const [B, T, D] = z.shape;
    const W = p.posEmbed.shape[1];
    const order = tokenOrder(T, p.flip);
    const zTokens = tf.unstack(z, 1).map(rank2); //                                      T × (B, D)
    const xs: (tf.Tensor2D | undefined)[] = new Array<tf.Tensor2D | undefined>(T).fill(undefined);
    const token = (arr: (tf.Tensor2D | undefined)[], t: number | undefined): tf.Tensor2D => {
      const v = t === undefined ? undefined : arr[t];
      if (v === undefined) throw new Error(`flowReverse: token ${String(t)} not available`);
      return v;
    };
    const first = order[0] ?? 0;
    xs[first] = token(zTokens, first); // a = b = 0 for the first token
    let caches: KvCache[] = p.layers.map(() => ({ kT: null, v: null }));
    for (let s = 0; s + 1 < T; s++) {
      const cur = order[s] ?? 0,
        next = order[s + 1] ?? 0;
      const xCur = token(xs, cur),
        zNext = token(zTokens, next);
      if (opts.cache ?? true) {
        const prev = caches;
        const step = tf.tidy(() => {
          let h: tf.Tensor2D = tf.add(linear(xCur, p.projIn), tf.slice(p.posEmbed, [cur, 0], [1, W])); // (B, W)
          const kT: tf.Tensor3D[] = [],
            v: tf.Tensor3D[] = [];
          p.layers.forEach((layer, l) => {
            const r = layerStep(layer, h, prev[l] ?? { kT: null, v: null });
            h = r.out;
            if (r.cache.kT === null || r.cache.v === null) throw new Error('flowReverse: empty cache');
            kT.push(r.cache.kT);
            v.push(r.cache.v);
          });
          return { x: invertToken(p, h, zNext), kT, v };
        });
        disposeCaches(caches);
        caches = step.kT.map((kT, l) => ({ kT, v: step.v[l] ?? null }));
        xs[next] = step.x;
      } else {
        xs[next] = tf.tidy(() => {
          const lo = p.flip ? cur : 0,
            n = s + 1; // known tokens: original indices [lo, lo + n)
          const known = tf.reshape<tf.Rank.R3>(
            tf.stack(
              xs.slice(lo, lo + n).map((_, i) => token(xs, lo + i)),
              1,
            ),
            [B, n, D],
          );
          const h = network(p, known, tf.slice(p.posEmbed, [lo, 0], [n, W]), tf.slice(p.mask, [lo, lo], [n, n])); // (B*n, W)
          const hCur = tf.slice(tf.reshape(h, [B, n, W]), [0, cur - lo, 0], [B, 1, W]); //  (B, 1, W)
          return invertToken(p, tf.reshape<tf.Rank.R2>(hCur, [B, W]), zNext);
        });
      }
    }
    disposeCaches(caches);
    return tf.reshape<tf.Rank.R3>(
      tf.stack(
        xs.map((_, t) => token(xs, t)),
        1,
      ),
      [B, T, D],
    );
  });
}

function disposeCaches(caches: KvCache[]): void {
  for (const c of caches) {
    if (c.kT !== null) c.kT.dispose();
    if (c.v !== null) c.v.dispose();
  }
}
