import { describe, expect, it } from '@jest/globals';
import { selectBackend, webgpuErrors } from '@ablate/backend';
import { DEEP_JUDGE, cnnLogits, disposeCnn, predictClasses, trainClassifier } from '@ablate/classifier';
import { resolveRunConfig } from '@ablate/config';
import { createBatchIterator, subStreamSeed, loadDataset, type Dataset } from '@ablate/data';
import { classLogits, disposeModel, initModel, muNorms, namedVariables, nll, sample } from '@ablate/tarflow';
import { clipByGlobalNorm, createAdamW, evaluate, renderImages, saveCheckpoint, toDataConfig, toInputs, toTarflowConfig } from '@ablate/train';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Every op the trainer, the sampler and the classifier use has a webgpu kernel whose WGSL compiles. Runs on Dawn's null
 * adapter (DAWNNODE_BACKEND=null), which needs no GPU: it compiles and validates every shader and pipeline like a real
 * one but computes nothing, so only shapes are checked here, never numbers. A missing kernel throws
 * "Kernel 'X' not registered for backend 'webgpu'"; a shader that does not compile is a Dawn validation error, which
 * webgpuErrors() collects (tfjs itself would go on with garbage).
 */

function subset(ds: Dataset, n: number): Dataset {
  const px = ds.height * ds.width * ds.channels;
  return { ...ds, count: n, images: ds.images.subarray(0, n * px), labels: ds.labels.subarray(0, n) };
}

describe('webgpu kernels (Dawn null adapter)', () => {
  it('a training step, evaluation, sampling, checkpointing and the digit classifier all run on webgpu', async () => {
    const choice = await selectBackend({ requested: 'webgpu', env: { ...process.env, DAWNNODE_BACKEND: 'null', ABLATE_GPU: '', WEBGPU_ADAPTER: '' } });
    expect(choice.name).toBe('webgpu');
    const before = tf.memory().numTensors;
    const cfg = resolveRunConfig({ seed: 1, model: { preset: 'test' }, train: { batch_size: 8 } });
    const { train, test } = loadDataset(toDataConfig(cfg.data));
    const tcfg = toTarflowConfig(cfg.model, train);
    const model = initModel(tcfg, { seed: 1, muInit: { kind: 'randn', std: 1 } });
    const named = namedVariables(model);
    const vars = Object.values(named);
    const opt = createAdamW([{ name: 'all', vars: named, lrScale: 1, weightDecay: 1e-4 }], { beta1: 0.9, beta2: 0.95, eps: 1e-8 });

    // The trainer's step: forward + backward (tf.variableGrads), global-norm clipping, AdamW.
    const b = createBatchIterator(train, { batchSize: 8, seed: 1 }).next();
    const { value, grads } = tf.variableGrads(() => {
      const { x, y } = toInputs(tcfg, b.images, b.labels, 0.1, subStreamSeed(1, 1));
      return nll(model, x, y).loss;
    }, vars);
    const { grads: clipped, norm } = clipByGlobalNorm(grads, 1);
    expect(Object.keys(grads)).toHaveLength(vars.length);
    const read = tf.stack([value, norm]);
    expect((await read.data()).length).toBe(2);
    opt.apply(clipped, 1e-3);
    tf.dispose([value, norm, read, ...Object.values(grads), ...Object.values(clipped)]);
    expect((await muNorms(model)).length).toBe(tcfg.numClasses);

    // Evaluation (NLL + one-pass classification) and the images the trainer renders (cached sampling).
    const e = await evaluate(model, subset(test, 10), { step: 1, batchSize: 5, noiseStd: 0.1, seed: 3 });
    expect(e.examples).toBe(10);
    const { images, samples } = await renderImages(model, { step: 1, samplesPerClass: 1, extraPerClass: 2, chunk: 10, temperature: 1, noiseStd: 0.1, seed: 5 });
    expect(images.map((i) => i.kind).sort()).toEqual(['mu', 'samples', 'samples-denoised']);
    expect(samples?.raw.classes.length).toBe(20);
    expect(samples?.denoised.classes.length).toBe(20);

    // Sampling without the KV cache, and the flow's own classifier.
    const s = sample(model, [0, 1, 2], { seed: 2, cache: false, noiseStd: 0.1 });
    expect(s.raw.shape).toEqual([3, 28, 28, 1]);
    await s.denoised.data();
    tf.dispose([s.raw, s.denoised]);
    const logits = tf.tidy(() => classLogits(model, toInputs(tcfg, b.images, b.labels, 0, 0).x));
    expect(logits.shape).toEqual([8, tcfg.numClasses]);
    logits.dispose();

    // A checkpoint (tf.io.encodeWeights reads every variable).
    const dir = mkdtempSync(path.join(tmpdir(), 'webgpu-kernels-'));
    const rec = await saveCheckpoint(dir, named, { step: 1, config: cfg, dataOrder: { epoch: 0, index: 0 } as never, optimizerStep: 1, elapsedMs: 0 });
    expect(rec.bytes).toBeGreaterThan(0);
    opt.dispose();
    disposeModel(model);

    // The digit classifier (the judge): one short training run, its forward pass and its predictions.
    const cnn = await trainClassifier(subset(train, 32), DEEP_JUDGE.config, {
      epochs: 1,
      batchSize: 16,
      lr: 1e-3,
      noiseStd: 0.1,
      augment: DEEP_JUDGE.training.augment,
      seed: 1,
    });
    const cl = tf.tidy(() => cnnLogits(cnn, tf.zeros([4, 28, 28, 1]) as tf.Tensor4D));
    expect(cl.shape).toEqual([4, 10]);
    cl.dispose();
    expect((await predictClasses(cnn, new Float32Array(4 * 28 * 28), 4)).length).toBe(4);
    disposeCnn(cnn);

    expect(webgpuErrors()).toEqual([]); // no WGSL compile or pipeline validation error
    expect(tf.memory().numTensors).toBe(before); // and no tensor leaked on this backend
  });
});
