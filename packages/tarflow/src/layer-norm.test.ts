import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from '@jest/globals';
import { LAYER_NORM_EPS, layerNorm } from './layer-norm';
import { gelu } from './mlp';
import { rank2 } from './tensor-util';
import { expectClose } from './test-utils/helpers';

/** Σ dy ⊙ LayerNorm(x; γ, β) in float64 JS, for finite differences. */
function lnLoss(x: number[], g: number[], b: number[], dy: number[], N: number, W: number): number {
  let total = 0;
  for (let n = 0; n < N; n++) {
    const row = x.slice(n * W, (n + 1) * W);
    const mean = row.reduce((s, v) => s + v, 0) / W;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / W;
    row.forEach((v, j) => {
      total += (dy[n * W + j] ?? 0) * (((v - mean) / Math.sqrt(variance + LAYER_NORM_EPS)) * (g[j] ?? 0) + (b[j] ?? 0));
    });
  }
  return total;
}

function numericGrad(f: (v: number[]) => number, v: number[], eps = 1e-5): number[] {
  return v.map((_, i) => {
    const up = [...v],
      down = [...v];
    up[i] = (up[i] ?? 0) + eps;
    down[i] = (down[i] ?? 0) - eps;
    return (f(up) - f(down)) / (2 * eps);
  });
}

describe('layerNorm', () => {
  it('value and hand-written gradient match a float64 reference', () => {
    const [N, W] = [4, 6];
    const x = tf.randomNormal([N, W], 0, 2, 'float32', 1),
      g = tf.randomNormal([W], 1, 0.3, 'float32', 2);
    const b = tf.randomNormal([W], 0, 0.3, 'float32', 3),
      dy = tf.randomNormal([N, W], 0, 1, 'float32', 4);
    const [xs, gs, bs, dys] = [x, g, b, dy].map((t) => Array.from(t.dataSync()));
    if (xs === undefined || gs === undefined || bs === undefined || dys === undefined) throw new Error('data');
    const loss = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor): tf.Scalar => tf.sum(tf.mul(layerNorm(rank2(xx), { gamma: gg, beta: bb }), dy));
    expect(loss(x, g, b).dataSync()[0]).toBeCloseTo(lnLoss(xs, gs, bs, dys, N, W), 3);
    const [dx, dg, db] = tf.grads(loss)([x, g, b]);
    if (dx === undefined || dg === undefined || db === undefined) throw new Error('no grads');
    expectClose(
      dx,
      numericGrad((v) => lnLoss(v, gs, bs, dys, N, W), xs),
      1e-3,
    );
    expectClose(
      dg,
      numericGrad((v) => lnLoss(xs, v, bs, dys, N, W), gs),
      1e-3,
    );
    expectClose(
      db,
      numericGrad((v) => lnLoss(xs, gs, v, dys, N, W), bs),
      1e-3,
    );
  });
});

describe('gelu', () => {
  const geluJs = (v: number): number => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
  it('is the tanh-approximate GELU with the right derivative', () => {
    const xs = [-4, -2, -1, -0.5, 0, 0.3, 1, 2.5, 5];
    const x = tf.tensor2d(xs, [3, 3]);
    expectClose(gelu(x), xs.map(geluJs), 1e-5);
    const d = tf.grad((t: tf.Tensor) => tf.sum(gelu(rank2(t))))(x);
    expectClose(
      d,
      xs.map((v) => (geluJs(v + 1e-5) - geluJs(v - 1e-5)) / 2e-5),
      1e-4,
    );
  });
});
