import { beforeAll, describe, expect, it } from '@jest/globals';
import { registerTarflowGradients } from '@ablate/tarflow';
import * as tf from '@tensorflow/tfjs-core';
import { avgPool2, cnnLogits, cnnVariables, conv3x3Relu, disposeCnn, im2col3x3, initCnn, softmaxCrossEntropy, type CnnConfig } from './cnn';

/** Central finite difference of f at x along every coordinate (float32: coarse step, loose tolerance). */
function numericGrad(f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor, h = 1e-2): Float32Array {
  const base = x.dataSync() as Float32Array;
  const out = new Float32Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const plus = base.slice(),
      minus = base.slice();
    plus[i] = (plus[i] ?? 0) + h;
    minus[i] = (minus[i] ?? 0) - h;
    const fp = tf.tidy(() => f(tf.tensor(plus, x.shape)).dataSync()[0] ?? NaN);
    const fm = tf.tidy(() => f(tf.tensor(minus, x.shape)).dataSync()[0] ?? NaN);
    out[i] = (fp - fm) / (2 * h);
  }
  return out;
}

function expectClose(a: Float32Array, b: Float32Array, tol: number): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  expect(worst).toBeLessThan(tol);
}

/** A fixed random readout, so a scalar depends on every output element with a different weight. */
const readout = (y: tf.Tensor, seed: number) => tf.sum(tf.mul(y, tf.randomNormal(y.shape, 0, 1, 'float32', seed))) as tf.Scalar;

beforeAll(() => registerTarflowGradients());

describe('digit CNN ops', () => {
  it('im2col3x3 puts x shifted by offset k = 3·di + dj in channel c·9 + k, zero outside', () => {
    const x = tf.tensor4d(
      Float32Array.from({ length: 2 * 4 * 5 * 2 }, (_, i) => i + 1),
      [2, 4, 5, 2],
    );
    const cols = im2col3x3(x).arraySync() as number[][][][];
    const xs = x.arraySync() as number[][][][];
    for (let b = 0; b < 2; b++)
      for (let i = 0; i < 4; i++)
        for (let j = 0; j < 5; j++)
          for (let c = 0; c < 2; c++)
            for (let di = 0; di < 3; di++)
              for (let dj = 0; dj < 3; dj++) {
                const si = i + di - 1,
                  sj = j + dj - 1;
                const want = si < 0 || si >= 4 || sj < 0 || sj >= 5 ? 0 : xs[b]?.[si]?.[sj]?.[c];
                expect(cols[b]?.[i]?.[j]?.[c * 9 + 3 * di + dj]).toBe(want);
              }
    x.dispose();
  });

  it('conv3x3Relu: forward is relu(conv + b); its hand-written gradients match finite differences', () => {
    const x = tf.randomNormal([2, 4, 4, 2], 0, 1, 'float32', 1);
    const w = tf.randomNormal([3, 3, 2, 3], 0, 0.5, 'float32', 2);
    const b = tf.tensor1d([0.1, -0.2, 0.05]);
    const want = tf.tidy(() => tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), b)));
    const got = conv3x3Relu(x, w, b);
    expectClose(got.dataSync() as Float32Array, want.dataSync() as Float32Array, 1e-5);
    const loss = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => readout(conv3x3Relu(xx, ww, bb), 7);
    const [dx, dw, db] = tf.grads(loss)([x, w, b]);
    expectClose(
      dx?.dataSync() as Float32Array,
      numericGrad((v) => loss(v, w, b), x, 1e-3),
      2e-2,
    ); // small step: fewer ReLU kinks crossed
    expectClose(
      dw?.dataSync() as Float32Array,
      numericGrad((v) => loss(x, v, b), w, 1e-3),
      2e-2,
    );
    expectClose(
      db?.dataSync() as Float32Array,
      numericGrad((v) => loss(x, w, v), b, 1e-3),
      2e-2,
    );
    tf.dispose([x, w, b, want, got, dx, dw, db]);
  });

  it('avgPool2 and softmaxCrossEntropy: values and gradients', () => {
    const x = tf.randomNormal([1, 4, 6, 2], 0, 1, 'float32', 3);
    const pooled = avgPool2(x);
    expect(pooled.shape).toEqual([1, 2, 3, 2]);
    const xs = x.arraySync() as number[][][][];
    const corner = ((xs[0]?.[0]?.[0]?.[1] ?? 0) + (xs[0]?.[0]?.[1]?.[1] ?? 0) + (xs[0]?.[1]?.[0]?.[1] ?? 0) + (xs[0]?.[1]?.[1]?.[1] ?? 0)) / 4;
    expect((pooled.arraySync() as number[][][][])[0]?.[0]?.[0]?.[1]).toBeCloseTo(corner, 5);
    const poolLoss = (v: tf.Tensor) => readout(avgPool2(v), 9);
    expectClose(tf.grad(poolLoss)(x).dataSync() as Float32Array, numericGrad(poolLoss, x), 1e-2);

    const logits = tf.tensor2d([
      [2, 0, -1],
      [0.5, 0.5, 3],
    ]);
    const target = tf.tensor2d([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    const lse = (r: number[]) => Math.log(r.reduce((s, v) => s + Math.exp(v), 0));
    const want = (lse([2, 0, -1]) - 2 + lse([0.5, 0.5, 3]) - 0.5) / 2;
    expect(softmaxCrossEntropy(logits, target).dataSync()[0]).toBeCloseTo(want, 5);
    const ce = (l: tf.Tensor) => softmaxCrossEntropy(l, target);
    expectClose(tf.grad(ce)(logits).dataSync() as Float32Array, numericGrad(ce, logits, 1e-3), 1e-3);
    tf.dispose([x, pooled, logits, target]);
  });

  it('the whole network: gradients of every parameter match finite differences, and nothing leaks', () => {
    const cfg: CnnConfig = { imageSize: 8, channels: 1, convs: [2, 3], hidden: 5, numClasses: 4 };
    const p = initCnn(cfg, 5);
    const x = tf.randomNormal([3, 8, 8, 1], 0, 1, 'float32', 11);
    const target = tf.cast(tf.oneHot(tf.tensor1d([0, 3, 1], 'int32'), 4), 'float32');
    const before = tf.memory().numTensors;
    const { grads, value } = tf.variableGrads(() => softmaxCrossEntropy(cnnLogits(p, x as tf.Tensor4D), target), Object.values(cnnVariables(p)));
    for (const [name, v] of Object.entries(cnnVariables(p))) {
      const g = grads[v.name];
      expect(g?.shape).toEqual(v.shape);
      const saved = v.clone();
      const numeric = numericGrad(
        (t) => {
          v.assign(t);
          return softmaxCrossEntropy(cnnLogits(p, x as tf.Tensor4D), target);
        },
        saved,
        1e-2,
      );
      v.assign(saved);
      saved.dispose();
      expect({ name, err: Math.max(...Array.from(g?.dataSync() ?? [], (a, i) => Math.abs(a - (numeric[i] ?? 0)))) < 2e-2 }).toEqual({ name, err: true });
    }
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    disposeCnn(p);
    tf.dispose([x, target]);
  });
});
