// Tests run on tfjs's pure-JS cpu backend (STYLE.md §5); the wasm backend is exercised by the training benchmark.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll } from '@jest/globals';
import { registerTarflowGradients } from '../gradients';

beforeAll(async () => {
  tf.env().set('PROD', true); // silences the "install tfjs-node" banner (IS_TEST would also flag saved customGrad tensors as leaks)
  await tf.setBackend('cpu');
  registerTarflowGradients();
});
