import { describe, expect, it } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { clipByGlobalNorm, createAdamW } from './adamw';

/** PyTorch's AdamW on one scalar parameter, in plain JS. */
function referenceAdamW(p0: number, grads: number[], lr: number, wd: number, b1 = 0.9, b2 = 0.95, eps = 1e-8): number {
  let p = p0;
  let m = 0;
  let v = 0;
  grads.forEach((g, i) => {
    const t = i + 1;
    p *= 1 - lr * wd;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    p -= ((lr / (1 - b1 ** t)) * m) / (Math.sqrt(v) / Math.sqrt(1 - b2 ** t) + eps);
  });
  return p;
}

describe('createAdamW', () => {
  it('matches PyTorch AdamW, with decay on the flow group only and a per-group lr scale', () => {
    const a = tf.variable(tf.scalar(1.5));
    const b = tf.variable(tf.scalar(-0.5));
    const opt = createAdamW(
      [
        { name: 'flow', vars: { a }, lrScale: 1, weightDecay: 0.1 },
        { name: 'prior', vars: { b }, lrScale: 0.1, weightDecay: 0 },
      ],
      { beta1: 0.9, beta2: 0.95, eps: 1e-8 },
    );
    const ga = [0.3, -0.2, 0.5, 0.1];
    const gb = [1, 2, -1, 0.5];
    ga.forEach((g, i) => {
      const grads = { [a.name]: tf.scalar(g), [b.name]: tf.scalar(gb[i] ?? 0) };
      opt.apply(grads, 0.01);
      tf.dispose(Object.values(grads));
    });
    expect(a.dataSync()[0]).toBeCloseTo(referenceAdamW(1.5, ga, 0.01, 0.1), 6);
    expect(b.dataSync()[0]).toBeCloseTo(referenceAdamW(-0.5, gb, 0.001, 0), 6);
    expect(opt.stepCount).toBe(4);
    opt.dispose();
    tf.dispose([a, b]);
  });

  it('state() and load() carry the moments and the step count', () => {
    const a = tf.variable(tf.tensor1d([1, 2]));
    const opt = createAdamW([{ name: 'flow', vars: { a }, lrScale: 1, weightDecay: 0 }], { beta1: 0.9, beta2: 0.95, eps: 1e-8 });
    const g = { [a.name]: tf.tensor1d([0.5, -0.5]) };
    opt.apply(g, 0.1);
    const saved = opt.state();
    const copy = Object.fromEntries(Object.entries(saved.tensors).map(([k, t]) => [k, tf.clone(t)]));
    const opt2 = createAdamW([{ name: 'flow', vars: { a }, lrScale: 1, weightDecay: 0 }], { beta1: 0.9, beta2: 0.95, eps: 1e-8 });
    opt2.load({ step: saved.step, tensors: copy });
    expect(Object.keys(copy).sort()).toEqual(['adam/m/a', 'adam/v/a']);
    expect(opt2.stepCount).toBe(1);
    expect(Array.from(opt2.state().tensors['adam/m/a']?.dataSync() ?? [])).toEqual(Array.from(saved.tensors['adam/m/a']?.dataSync() ?? []));
    tf.dispose([...Object.values(copy), ...Object.values(g), a]);
    opt.dispose();
    opt2.dispose();
  });
});

describe('clipByGlobalNorm', () => {
  it('reports the global norm and scales down only above the clip', () => {
    const grads = { a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) };
    const r = clipByGlobalNorm(grads, 1);
    expect(r.norm.dataSync()[0]).toBeCloseTo(5, 5);
    expect(Array.from(r.grads.a?.dataSync() ?? [])).toEqual([expect.closeTo(0.6, 5), 0]);
    const loose = clipByGlobalNorm(grads, 10);
    expect(Array.from(loose.grads.b?.dataSync() ?? [])).toEqual([0, expect.closeTo(4, 5)]);
    const off = clipByGlobalNorm(grads, 0);
    expect(off.grads.a).toBe(grads.a);
  });
});
