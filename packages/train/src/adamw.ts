import { fusedAdamW, fusedKernels } from '@ablate/blas';
import * as tf from '@tensorflow/tfjs-core';

/** A parameter group: its own learning-rate multiplier and decoupled weight decay. */
export interface ParamGroup {
  name: string;
  /** Stable name (as in checkpoints) → variable. */
  vars: Record<string, tf.Variable>;
  lrScale: number;
  weightDecay: number;
}

export interface AdamWHyper {
  beta1: number;
  beta2: number;
  eps: number;
}

/** Optimizer state as named tensors (for checkpoints): `adam/m/<var>` and `adam/v/<var>`, plus the step count. */
export interface AdamWState {
  step: number;
  tensors: Record<string, tf.Tensor>;
}

export interface AdamW {
  /** One update with learning rate `lr` (before each group's scale). `grads` is keyed by the engine's variable name (`v.name`), as tf.variableGrads returns them. */
  apply(grads: tf.NamedTensorMap, lr: number): void;
  get stepCount(): number;
  state(): AdamWState;
  load(state: AdamWState): void;
  dispose(): void;
}

/**
 * AdamW as PyTorch computes it (decoupled decay: p ← p·(1 − lr·wd), then the bias-corrected Adam step).
 * tfjs has no AdamW and no parameter groups; this keeps both, and stores its moments as plain variables.
 */
export function createAdamW(groups: ParamGroup[], hp: AdamWHyper): AdamW {
  const slots = groups.flatMap((g) =>
    Object.entries(g.vars).map(([key, v]) => ({
      group: g,
      key,
      v,
      m1: tf.tidy(() => tf.variable(tf.zerosLike(v), false)),
      m2: tf.tidy(() => tf.variable(tf.zerosLike(v), false)),
    })),
  );
  let t = 0;
  return {
    apply(grads, lr) {
      t += 1;
      const bc1 = 1 - hp.beta1 ** t;
      const bc2Sqrt = Math.sqrt(1 - hp.beta2 ** t);
      const fused = fusedKernels();
      tf.tidy(() => {
        for (const s of slots) {
          const g = grads[s.v.name];
          if (g === undefined) continue;
          const groupLr = lr * s.group.lrScale;
          if (fused) {
            // the same update as below, as one native pass over the parameter instead of ~12 wasm kernels
            const decay = s.group.weightDecay > 0 ? 1 - groupLr * s.group.weightDecay : 1;
            const [p, m1, m2] = fusedAdamW(s.v, s.m1, s.m2, g, { lrOverBc1: groupLr / bc1, beta1: hp.beta1, beta2: hp.beta2, eps: hp.eps, decay, bc2Sqrt });
            s.m1.assign(m1);
            s.m2.assign(m2);
            s.v.assign(p);
            continue;
          }
          const m1 = tf.add(tf.mul(s.m1, hp.beta1), tf.mul(g, 1 - hp.beta1));
          const m2 = tf.add(tf.mul(s.m2, hp.beta2), tf.mul(tf.square(g), 1 - hp.beta2));
          s.m1.assign(m1);
          s.m2.assign(m2);
          const denom = tf.add(tf.div(tf.sqrt(m2), bc2Sqrt), hp.eps);
          const decayed = s.group.weightDecay > 0 ? tf.mul(s.v, 1 - groupLr * s.group.weightDecay) : s.v;
          s.v.assign(tf.sub(decayed, tf.mul(tf.div(m1, denom), groupLr / bc1)));
        }
      });
    },
    get stepCount() {
      return t;
    },
    state() {
      const tensors: Record<string, tf.Tensor> = {};
      for (const s of slots) {
        tensors[`adam/m/${s.key}`] = s.m1;
        tensors[`adam/v/${s.key}`] = s.m2;
      }
      return { step: t, tensors };
    },
    load(state) {
      for (const s of slots) {
        for (const [name, slot] of [
          [`adam/m/${s.key}`, s.m1],
          [`adam/v/${s.key}`, s.m2],
        ] as const) {
          const saved = state.tensors[name];
          if (saved === undefined) throw new Error(`optimizer state has no ${name}`);
          slot.assign(saved);
        }
      }
      t = state.step;
    },
    dispose() {
      for (const s of slots) {
        s.m1.dispose();
        s.m2.dispose();
      }
    },
  };
}

/** Global L2 norm of all gradients, and (when clip > 0 and the norm exceeds it) the gradients scaled down to `clip`. */
export function clipByGlobalNorm(grads: tf.NamedTensorMap, clip: number): { grads: tf.NamedTensorMap; norm: tf.Scalar } {
  return tf.tidy(() => {
    const list = Object.values(grads);
    const norm = tf.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
    if (!(clip > 0)) return { grads: { ...grads }, norm };
    const scale = tf.minimum(1, tf.div(clip, tf.add(norm, 1e-6)));
    const out: tf.NamedTensorMap = {};
    for (const [k, g] of Object.entries(grads)) out[k] = tf.mul(g, scale);
    return { grads: out, norm };
  });
}
