import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from '@jest/globals';
import { classLogits } from './classify';
import { logProb, nll } from './loss';
import { disposeModel, flowVariables, forward, initModel, priorVariables } from './model';
import { oneHotLabels } from './prior';
import { rank4 } from './tensor-util';
import { perturbModel, randomImages, testConfig } from './test-utils/helpers';

describe('classLogits', () => {
  it('equal log p(x|c) − logdet for every class, from one forward pass', () => {
    const cfg = testConfig();
    const m = initModel(cfg, { seed: 1, muInit: { kind: 'randn', std: 1 } });
    perturbModel(m, 2, 0.2);
    m.prior.logSigma.assign(tf.randomNormal(m.prior.logSigma.shape, 0, 0.2, 'float32', 3));
    const x = randomImages(cfg, 4, 4);
    const logits = classLogits(m, x).arraySync(); // (4, 10)
    const logdet = forward(m, x).logdet.dataSync();
    for (let c = 0; c < 10; c++) {
      const slow = logProb(m, x, oneHotLabels(tf.fill<tf.Rank.R1>([4], c, 'int32'), 10)).dataSync(); // one pass per class
      for (let b = 0; b < 4; b++) expect(logits[b]?.[c]).toBeCloseTo((slow[b] ?? NaN) - (logdet[b] ?? NaN), 2);
    }
    disposeModel(m);
  });

  it('beats chance (1/4) after 40 Adam steps on a fixed batch with class structure', () => {
    const cfg = testConfig({ imageSize: 4, patchSize: 2, width: 8, headDim: 8, numBlocks: 1, numClasses: 4 });
    const m = initModel(cfg, { seed: 5, muInit: { kind: 'zero' } }); // all logits tie at init: chance
    const patterns = tf.randomUniform([4, 4, 4, 1], -0.8, 0.8, 'float32', 6); // one fixed pattern per class
    const batch = (seed: number): { x: tf.Tensor4D; y: tf.Tensor1D } => {
      const labels = Array.from({ length: 16 }, (_, i) => i % 4);
      const y = tf.tensor1d(labels, 'int32');
      const x = rank4(tf.add(tf.gather(patterns, y), tf.randomNormal([16, 4, 4, 1], 0, 0.15, 'float32', seed)));
      return { x, y };
    };
    const accuracy = (x: tf.Tensor4D, y: tf.Tensor1D): number => {
      const pred = tf.argMax(classLogits(m, x), 1).dataSync(),
        ys = y.dataSync();
      return Array.from(pred).filter((p, i) => p === ys[i]).length / ys.length;
    };
    const train = batch(7),
      test = batch(8);
    expect(accuracy(test.x, test.y)).toBeLessThanOrEqual(0.25);
    const opt = tf.train.adam(0.05);
    const vars = [...flowVariables(m), ...priorVariables(m)];
    for (let i = 0; i < 40; i++) opt.minimize(() => nll(m, train.x, train.y).loss, false, vars);
    const acc = accuracy(test.x, test.y); // 1.0 in practice
    expect(acc).toBeGreaterThan(0.75);
    opt.dispose();
    disposeModel(m);
  });
});
