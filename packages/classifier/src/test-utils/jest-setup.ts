// Trainer tests run on the wasm backend, the default on CPU machines: the model's grouped-matmul attention is built for
// it, and the pure-JS cpu backend is ~50× slower on it. (The model's own property tests run on cpu.)
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll } from '@jest/globals';

beforeAll(async () => {
  tf.env().set('PROD', true);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  await tf.setBackend('wasm');
  await tf.ready();
});
