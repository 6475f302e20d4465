import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from '@jest/globals';
import { logProb, nll } from './loss';
import { disposeModel, flowVariables, forward, initModel, priorVariables } from './model';
import { oneHotLabels } from './prior';
import { perturbModel, randomImages, testConfig } from './test-utils/helpers';

describe('nll', () => {
  it('is ½‖x‖² + ½log 2π per dim for the identity flow and a standard normal prior', () => {
    const cfg = testConfig();
    const m = initModel(cfg, { seed: 1, muInit: { kind: 'zero' } });
    const x = randomImages(cfg, 4, 2);
    const { loss, priorTerm, logdetTerm } = nll(m, x, tf.tensor1d([0, 1, 2, 3], 'int32'));
    const xs = Array.from(x.dataSync());
    const want = (0.5 * xs.reduce((s, v) => s + v * v, 0)) / xs.length + 0.5 * Math.log(2 * Math.PI);
    expect(loss.dataSync()[0]).toBeCloseTo(want, 5);
    expect(priorTerm.dataSync()[0]).toBeCloseTo(want, 5);
    expect(Math.abs(logdetTerm.dataSync()[0] ?? NaN)).toBe(0);
    disposeModel(m);
  });

  it('splits into priorTerm + logdetTerm, per dimension, averaged over the batch', () => {
    const cfg = testConfig();
    const m = initModel(cfg, { seed: 3, muInit: { kind: 'randn', std: 1 } });
    perturbModel(m, 4, 0.2);
    const x = randomImages(cfg, 3, 5);
    const labels = tf.tensor1d([4, 7, 4], 'int32');
    const { loss, priorTerm, logdetTerm } = nll(m, x, labels);
    const { logdet } = forward(m, x);
    const N = 64;
    const lp = logProb(m, x, oneHotLabels(labels, 10)).dataSync();
    const meanLogdet = Array.from(logdet.dataSync()).reduce((s, v) => s + v, 0) / 3;
    const meanLp = Array.from(lp).reduce((s, v) => s + v, 0) / 3;
    expect(Math.abs(meanLogdet)).toBeGreaterThan(0.1);
    expect(logdetTerm.dataSync()[0]).toBeCloseTo(-meanLogdet / N, 5);
    expect(loss.dataSync()[0]).toBeCloseTo(-meanLp / N, 4);
    expect(loss.dataSync()[0]).toBeCloseTo((priorTerm.dataSync()[0] ?? NaN) + (logdetTerm.dataSync()[0] ?? NaN), 5);
    disposeModel(m);
  });

  it('has a gradient for every variable and leaks no tensors per step', () => {
    const cfg = testConfig();
    const m = initModel(cfg, { seed: 6, muInit: { kind: 'randn', std: 1 } });
    const x = randomImages(cfg, 2, 7);
    const labels = tf.tensor1d([1, 2], 'int32');
    const vars = [...flowVariables(m), ...priorVariables(m)];
    const step = (): void => {
      const { value, grads } = tf.variableGrads(() => nll(m, x, labels).loss, vars);
      expect(Object.keys(grads).length).toBe(vars.length);
      tf.dispose(grads);
      value.dispose();
    };
    step();
    const n = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(n);
    tf.tidy(() => {
      nll(m, x, labels);
    });
    tf.tidy(() => {
      forward(m, x);
    });
    expect(tf.memory().numTensors).toBe(n);
    disposeModel(m);
  });
});
