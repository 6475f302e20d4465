import { describe, expect, it } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { patchWebgpuKernels } from './webgpu-kernels';

describe('the chunked AddN kernel', () => {
  it('sums more inputs than a shader may bind, in chunks, exactly and without leaking', async () => {
    await tf.setBackend('cpu');
    // The same wrapper as on webgpu, on the cpu kernel (real numbers), with room for 3 inputs per shader.
    patchWebgpuKernels(4, 'cpu');
    const xs = Array.from({ length: 20 }, (_, i) => tf.tensor1d([i, 2 * i]));
    const before = tf.memory().numTensors;
    const sum = tf.addN(xs);
    expect(Array.from(await sum.data())).toEqual([190, 380]);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(Array.from(await tf.addN(xs.slice(0, 2)).data())).toEqual([1, 2]);
    tf.dispose([sum, ...xs]);
  });
});
