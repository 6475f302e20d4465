import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from '@jest/globals';
import { disposeModel, initModel, reverse, unpatchify } from './model';
import { sample } from './sample';
import { rank3 } from './tensor-util';
import { expectClose, maxAbsDiff, perturbModel, testConfig } from './test-utils/helpers';

describe('sample', () => {
  it('KV-cached sampling equals uncached sampling', () => {
    const cfg = testConfig();
    const m = initModel(cfg, { seed: 1, muInit: { kind: 'randn', std: 1 } });
    perturbModel(m, 2, 0.1); // keeps samples O(1); far larger weights send them to ~1e3 and float32 rounding dominates
    const labels = [0, 3, 7, 9];
    const cached = sample(m, labels, { seed: 3, temperature: 0.8, cache: true });
    const uncached = sample(m, labels, { seed: 3, temperature: 0.8, cache: false });
    expect(cached.raw.shape).toEqual([4, 8, 8, 1]);
    expect(maxAbsDiff(cached.raw, uncached.raw)).toBeLessThan(1e-4);
    expect(maxAbsDiff(sample(m, labels, { seed: 4 }).raw, cached.raw)).toBeGreaterThan(0.1); // the seed matters
    disposeModel(m);
  });

  it('temperature 0 decodes the class means', () => {
    const cfg = testConfig();
    const m = initModel(cfg, { seed: 5, muInit: { kind: 'randn', std: 1 } });
    perturbModel(m, 6, 0.2);
    const { raw } = sample(m, [2, 5], { seed: 7, temperature: 0 });
    const mu = rank3(tf.reshape(tf.gather(m.prior.mu, [2, 5]), [2, 16, 4]));
    expectClose(raw, reverse(m, mu), 1e-5);
    disposeModel(m);
  });

  it('denoises with one score step x + σ²∇ log p(x|c)', () => {
    // identity flow and σ_c = 1: ∇ₓ log p(x|c) = μ_c − x (in image layout), so denoised = raw + σ²(μ_c − raw)
    const cfg = testConfig();
    const m = initModel(cfg, { seed: 8, muInit: { kind: 'randn', std: 1 } });
    const noiseStd = 0.3;
    const { raw, denoised } = sample(m, [1, 4], { seed: 9, noiseStd });
    const muImg = unpatchify(cfg, rank3(tf.reshape(tf.gather(m.prior.mu, [1, 4]), [2, 16, 4])));
    expectClose(denoised, tf.add(raw, tf.mul(tf.sub(muImg, raw), noiseStd ** 2)), 1e-4);
    expect(maxAbsDiff(denoised, raw)).toBeGreaterThan(0.01);
    const plain = sample(m, [1, 4], { seed: 9 }); // noiseStd 0: no denoising
    expect(maxAbsDiff(plain.denoised, plain.raw)).toBe(0);
    disposeModel(m);
  });

  it('leaks no tensors and rejects unknown labels', () => {
    const cfg = testConfig();
    const m = initModel(cfg, { seed: 10, muInit: { kind: 'zero' } });
    perturbModel(m, 11, 0.2);
    tf.dispose(sample(m, [1], { seed: 1, noiseStd: 0.1 }));
    const n = tf.memory().numTensors;
    for (const cache of [true, false]) tf.dispose(sample(m, [1, 2], { seed: 2, noiseStd: 0.1, cache }));
    expect(tf.memory().numTensors).toBe(n);
    expect(() => sample(m, [10], { seed: 1 })).toThrow('label 10 not in [0, 10)');
    disposeModel(m);
  });
});
