import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from '@jest/globals';
import { TarflowConfigError } from './config';
import { disposeModel, forward, initModel, muNorms } from './model';
import { initPrior, oneHotLabels, priorLogDensity, priorLogDensityAllClasses } from './prior';
import { rank2 } from './tensor-util';
import { expectClose, randomImages, testConfig } from './test-utils/helpers';

describe('prior', () => {
  it('log-density equals the closed form in plain JS', () => {
    const cfg = testConfig({ numClasses: 3 });
    const p = initPrior(cfg, { kind: 'randn', std: 1 }, 1);
    p.logSigma.assign(tf.randomNormal(p.logSigma.shape, 0, 0.3, 'float32', 2));
    const N = 64,
      B = 4,
      labels = [2, 0, 1, 2];
    const z = rank2(tf.randomNormal([B, N], 0, 1.5, 'float32', 3));
    const got = priorLogDensity(p, z, oneHotLabels(tf.tensor1d(labels, 'int32'), 3)).dataSync();
    const [zs, mus, lss] = [z, p.mu, p.logSigma].map((t) => t.dataSync());
    labels.forEach((c, b) => {
      let lp = -0.5 * N * Math.log(2 * Math.PI);
      for (let n = 0; n < N; n++) {
        const mu = mus?.[c * N + n] ?? NaN,
          ls = lss?.[c * N + n] ?? NaN,
          zz = zs?.[b * N + n] ?? NaN;
        lp += -0.5 * ((zz - mu) / Math.exp(ls)) ** 2 - ls;
      }
      expect(got[b]).toBeCloseTo(lp, 2);
    });
  });

  it('all-class log-densities (expanded as matmuls) equal the per-class ones', () => {
    const cfg = testConfig();
    const p = initPrior(cfg, { kind: 'randn', std: 1 }, 4);
    p.logSigma.assign(tf.randomNormal(p.logSigma.shape, 0, 0.3, 'float32', 5));
    const z = rank2(tf.randomNormal([5, 64], 0, 1, 'float32', 6));
    const all = priorLogDensityAllClasses(p, z); // (5, 10)
    for (let c = 0; c < 10; c++) {
      const one = priorLogDensity(p, z, oneHotLabels(tf.fill<tf.Rank.R1>([5], c, 'int32'), 10));
      expectClose(tf.reshape(tf.slice(all, [0, c], [5, 1]), [5]), one, 2e-3);
    }
  });

  it('μ init: zero is all zeros; randn has the requested std; log σ starts at 0', () => {
    const cfg = testConfig();
    const zero = initPrior(cfg, { kind: 'zero' }, 1);
    expect(Array.from(zero.mu.dataSync()).every((v) => v === 0)).toBe(true);
    expect(Array.from(zero.logSigma.dataSync()).every((v) => v === 0)).toBe(true);
    for (const std of [0.02, 1]) {
      const p = initPrior(cfg, { kind: 'randn', std }, 2);
      const v = Array.from(p.mu.dataSync());
      const sd = Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length); // 640 values
      expect(Math.abs(sd / std - 1)).toBeLessThan(0.1);
    }
  });

  it('μ init from data is the patchified image, i.e. the z the identity flow gives it', async () => {
    const cfg = testConfig();
    const images = randomImages(cfg, 10, 7);
    const flat = tf.unstack(images).map((t) => Float32Array.from(t.dataSync()));
    const m = initModel(cfg, { seed: 8, muInit: { kind: 'data', images: flat } });
    const z = tf.reshape(forward(m, images).z, [10, 64]);
    expect(Array.from(m.prior.mu.dataSync())).toEqual(Array.from(z.dataSync()));
    expectClose(await muNorms(m), tf.norm(z, 'euclidean', 1), 1e-4);
    disposeModel(m);
  });

  it('rejects data init with the wrong number or size of images', () => {
    const cfg = testConfig();
    expect(() => initPrior(cfg, { kind: 'data', images: [new Float32Array(64)] }, 1)).toThrow('expected 10 images (one per class), got 1');
    const bad = Array.from({ length: 10 }, (_, i) => new Float32Array(i === 3 ? 5 : 64));
    expect(() => initPrior(cfg, { kind: 'data', images: bad }, 1)).toThrow(TarflowConfigError);
  });
});
