import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from '@jest/globals';
import { flowForward, flowReverse } from './flow-block';
import { disposeModel, forward, initModel, reverse } from './model';
import { patchify } from './patchify';
import { tokenOrder } from './permutation';
import { rank3, rank4 } from './tensor-util';
import { expectClose, logAbsDet, maxAbsDiff, perturbModel, randomImages, testConfig } from './test-utils/helpers';

const zeroMu = { kind: 'zero' } as const;

describe('flow block', () => {
  it('is the identity at init (z == x, logdet == 0)', () => {
    const cfg = testConfig();
    const m = initModel(cfg, { seed: 1, muInit: zeroMu });
    const x = patchify(cfg, randomImages(cfg, 2, 2));
    for (const block of m.blocks) {
      const { z, logdet } = flowForward(block, x);
      expect(Array.from(z.dataSync())).toEqual(Array.from(x.dataSync()));
      expect(Array.from(logdet.dataSync()).every((v) => v === 0)).toBe(true);
    }
    disposeModel(m);
  });

  for (const nvp of [true, false]) {
    it(`reverse(forward(x)) == x with non-zero weights (nvp ${nvp}, cached and uncached)`, () => {
      const cfg = testConfig({ nvp });
      const m = initModel(cfg, { seed: 3, muInit: zeroMu });
      perturbModel(m, 4, 0.2); // larger weights make the autoregressive inverse ill-conditioned in float32
      const x = randomImages(cfg, 3, 5);
      const { z, logdet } = forward(m, x);
      expect(maxAbsDiff(z, patchify(cfg, x))).toBeGreaterThan(0.1); // the flow is far from the identity
      if (!nvp) expect(Array.from(logdet.dataSync()).every((v) => v === 0)).toBe(true);
      expect(maxAbsDiff(reverse(m, z, { cache: true }), x)).toBeLessThan(1e-4);
      expect(maxAbsDiff(reverse(m, z, { cache: false }), x)).toBeLessThan(1e-4);
      disposeModel(m);
    });
  }

  it('clips the log-scale to ±logScaleClip and still inverts exactly', () => {
    const cfg = testConfig({ logScaleClip: 0.5 });
    const [T, D, W] = [16, 4, cfg.width];
    const m = initModel(cfg, { seed: 6, muInit: zeroMu });
    for (const [i, b] of m.blocks.entries()) {
      // a = 10 before the clip for every token; b depends on the context
      b.projOut.w.assign(tf.concat([tf.zeros([W, D]), tf.randomNormal([W, D], 0, 0.2, 'float32', 7 + i)], 1));
      b.projOut.b.assign(tf.concat([tf.fill([D], 10), tf.zeros([D])]));
    }
    const x = randomImages(cfg, 2, 8);
    const { z, logdet } = forward(m, x);
    const expected = -cfg.numBlocks * 0.5 * (T - 1) * D; // the first token of each block has a = 0
    for (const v of logdet.dataSync()) expect(v).toBeCloseTo(expected, 3);
    expect(maxAbsDiff(reverse(m, z), x)).toBeLessThan(1e-4);
    disposeModel(m);
  });

  it('is causal in its own token order: changing token t changes no z before t', () => {
    const cfg = testConfig();
    const m = initModel(cfg, { seed: 9, muInit: zeroMu });
    perturbModel(m, 10, 0.5);
    const T = 16,
      D = 4;
    const x = patchify(cfg, randomImages(cfg, 1, 11));
    for (const block of m.blocks) {
      const order = tokenOrder(T, block.flip);
      expect(order[0]).toBe(block.flip ? T - 1 : 0);
      const z0 = flowForward(block, x).z.arraySync()[0] ?? [];
      for (const s of [0, 5, T - 1]) {
        const t = order[s] ?? 0;
        const bump = tf.tensor3d(
          Array.from({ length: T * D }, (_, i) => (Math.floor(i / D) === t ? 0.7 : 0)),
          [1, T, D],
        );
        const z1 = flowForward(block, rank3(tf.add(x, bump))).z.arraySync()[0] ?? [];
        const changed = order.map((tok) => maxAbsDiff(z0[tok] ?? [], z1[tok] ?? []) > 0);
        expect(changed.slice(0, s).every((c) => !c)).toBe(true); // nothing before t moves
        expect(changed[s]).toBe(true); //                         z_t = (x_t − b)·e^{−a} moves with x_t
        if (s < T - 1) expect(changed.slice(s + 1).some((c) => c)).toBe(true); // and later tokens see it
      }
    }
    disposeModel(m);
  });

  it('logdet equals log|det J| of a brute-force Jacobian', () => {
    const cfg = testConfig({ imageSize: 4, patchSize: 2, width: 8, headDim: 4, layersPerBlock: 1 }); // 16 dims
    const m = initModel(cfg, { seed: 12, muInit: zeroMu });
    perturbModel(m, 13, 0.6);
    const x = randomImages(cfg, 1, 14);
    const N = 16;
    const rows: number[][] = [];
    for (let i = 0; i < N; i++) {
      // row i of ∂z/∂x: the gradient of z_i (z flattened in (t, d) order; x in (y, x) order)
      const e = tf.oneHot(tf.tensor1d([i], 'int32'), N);
      const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.reshape(forward(m, rank4(xx)).z, [1, N]), e)))(x);
      rows.push(Array.from(g.dataSync()));
    }
    const logdet = forward(m, x).logdet.dataSync()[0] ?? NaN;
    expect(Math.abs(logdet)).toBeGreaterThan(0.1); // non-trivial
    expect(Math.abs(logAbsDet(rows) - logdet)).toBeLessThan(1e-3);
    disposeModel(m);
  });

  it('flowReverse inverts flowForward for a flipped block on its own', () => {
    const cfg = testConfig();
    const m = initModel(cfg, { seed: 15, muInit: zeroMu });
    perturbModel(m, 16, 0.2);
    const block = m.blocks[1];
    if (block === undefined) throw new Error('need two blocks');
    expect(block.flip).toBe(true);
    const x = patchify(cfg, randomImages(cfg, 2, 17));
    expectClose(flowReverse(block, flowForward(block, x).z), x, 1e-4);
    disposeModel(m);
  });
});
