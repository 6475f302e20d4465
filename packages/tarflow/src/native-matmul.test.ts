import { fusedKernels, installBlasKernels, loadAddon, uninstallBlasKernels } from '@ablate/blas';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { attentionCore } from './attention';
import { layerNorm } from './layer-norm';
import { linear } from './linear';
import { gelu } from './mlp';
import { mm, nativeMatMul } from './matmul';
import { blockMask } from './permutation';
import { rank2 } from './tensor-util';
import { expectClose } from './test-utils/helpers';

// The formulations for wasm+blas (transposes as flags, attention as batched matmuls) against textbook maths and
// tfjs autodiff, on wasm with the OpenBLAS kernels (the rest of the suite runs on cpu, where they are not used).
const hasAddon = !('error' in loadAddon());

function reference(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, B: number, T: number, H: number, mask: tf.Tensor): tf.Tensor {
  const W = x.shape[1] ?? 0,
    hd = W / H;
  const qkv = tf.add(tf.matMul(x, w), b);
  const part = (s: number): tf.Tensor => tf.transpose(tf.reshape(tf.slice(qkv, [0, s * W], [B * T, W]), [B, T, H, hd]), [0, 2, 1, 3]);
  const [q, k, v] = [part(0), part(1), part(2)];
  const att = tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)), mask));
  return tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [B * T, W]);
}

(hasAddon ? describe : describe.skip)('on wasm+blas', () => {
  beforeAll(async () => {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    await tf.setBackend('wasm');
    const s = installBlasKernels({ threads: 1 });
    if (!s.ok) throw new Error(s.reason);
  });
  afterAll(async () => {
    uninstallBlasKernels();
    await tf.setBackend('cpu');
  });

  it('uses the native formulations', () => expect(nativeMatMul()).toBe(true));

  for (const [H, flip] of [
    [1, false],
    [2, false],
    [2, true],
    [4, true],
  ] as const) {
    it(`attention: value and gradient equal textbook attention (heads ${H}, flipped ${flip})`, () => {
      const [B, T, W] = [3, 5, 8];
      const x = tf.randomNormal([B * T, W], 0, 1, 'float32', 1);
      const w = tf.randomNormal([W, 3 * W], 0, 0.5, 'float32', 2),
        b = tf.randomNormal([3 * W], 0, 0.5, 'float32', 3);
      const dy = tf.randomNormal([B * T, W], 0, 1, 'float32', 4);
      const mask = blockMask(T, flip);
      const ours = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor): tf.Tensor => attentionCore(rank2(xx), { w: ww, b: bb }, B, T, H, mask);
      const theirs = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor): tf.Tensor => reference(xx, ww, bb, B, T, H, mask);
      expectClose(ours(x, w, b), theirs(x, w, b), 1e-5);
      const got = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(ours(xx, ww, bb), dy)))([x, w, b]);
      const want = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(theirs(xx, ww, bb), dy)))([x, w, b]);
      got.forEach((g, i) => expectClose(g, want[i] ?? g, 1e-4));
    });
  }

  it('linear and mm: gradients equal tfjs autodiff of the textbook formulas', () => {
    const x = tf.randomNormal([7, 5], 0, 1, 'float32', 5),
      w = tf.randomNormal([5, 3], 0, 1, 'float32', 6),
      b = tf.randomNormal([3], 0, 1, 'float32', 7);
    const dy = tf.randomNormal([7, 3], 0, 1, 'float32', 8);
    const got = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(linear(rank2(xx), { w: ww, b: bb }), dy)))([x, w, b]);
    const want = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.matMul(xx, ww), bb), dy)))([x, w, b]);
    got.forEach((g, i) => expectClose(g, want[i] ?? g, 1e-4));
    const a3 = tf.randomNormal([2, 4, 5], 0, 1, 'float32', 9),
      b3 = tf.randomNormal([2, 5, 6], 0, 1, 'float32', 10);
    const gotMm = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(mm(p as tf.Tensor3D, q as tf.Tensor3D))))([a3, b3]);
    const wantMm = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(tf.matMul(p, q))))([a3, b3]);
    gotMm.forEach((g, i) => expectClose(g, wantMm[i] ?? g, 1e-3));
  });

  for (const [name, op] of [
    ['layerNorm', (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => layerNorm(rank2(x), { gamma: g, beta: b })],
    ['gelu', (x: tf.Tensor) => gelu(rank2(x))],
  ] as const) {
    it(`${name}: the fused kernels give the value and gradients of the tf-op formulation`, () => {
      const [N, W] = [37, 24];
      const x = tf.add(tf.mul(tf.randomNormal([N, W], 0, 1, 'float32', 11), 3), 1);
      const g = tf.randomNormal([W], 1, 0.3, 'float32', 12),
        b = tf.randomNormal([W], 0, 0.3, 'float32', 13);
      const dy = tf.randomNormal([N, W], 0, 1, 'float32', 14);
      const f = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(op(xx, gg, bb), dy));
      const run = () => ({ value: op(x, g, b), grads: name === 'gelu' ? [tf.grad((xx: tf.Tensor) => f(xx, g, b))(x)] : tf.grads(f)([x, g, b]) });
      expect(fusedKernels()).toBe(true);
      const fused = run();
      uninstallBlasKernels();
      let plain: ReturnType<typeof run>;
      try {
        expect(fusedKernels()).toBe(false);
        plain = run();
      } finally {
        expect(installBlasKernels({ threads: 1 }).ok).toBe(true);
      }
      expectClose(fused.value, plain.value, 1e-5);
      fused.grads.forEach((gr, i) => expectClose(gr, plain.grads[i] ?? gr, 1e-4));
    });
  }
});
