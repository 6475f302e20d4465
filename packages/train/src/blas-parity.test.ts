import { installBlasKernels, loadAddon, uninstallBlasKernels } from '@ablate/blas';
import { resolveRunConfig } from '@ablate/config';
import { createBatchIterator, subStreamSeed, loadDataset } from '@ablate/data';
import { disposeModel, initModel, namedVariables, nll } from '@ablate/tarflow';
import { describe, expect, it } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { createAdamW } from './adamw';
import { toInputs } from './inputs';
import { toDataConfig, toTarflowConfig } from './model-config';

/** The tiny preset's first training steps (forward, backward, AdamW): the losses, and every parameter after them. */
function firstSteps(steps: number): { losses: number[]; params: Record<string, Float32Array> } {
  const cfg = resolveRunConfig({ model: { preset: 'tiny' }, train: { batch_size: 32 } });
  const { train } = loadDataset(toDataConfig(cfg.data));
  const tcfg = toTarflowConfig(cfg.model, train);
  const model = initModel(tcfg, { seed: 0, muInit: { kind: 'randn', std: 1 } });
  const named = namedVariables(model);
  const vars = Object.values(named);
  const opt = createAdamW([{ name: 'all', vars: named, lrScale: 1, weightDecay: 1e-4 }], { beta1: 0.9, beta2: 0.95, eps: 1e-8 });
  const it = createBatchIterator(train, { batchSize: 32, seed: 1 });
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const b = it.next();
    const { value, grads } = tf.variableGrads(() => {
      const { x, y } = toInputs(tcfg, b.images, b.labels, 0.1, subStreamSeed(0, i));
      return nll(model, x, y).loss;
    }, vars);
    opt.apply(grads, 1e-3);
    losses.push(value.dataSync()[0]!);
    tf.dispose([value, ...Object.values(grads)]);
  }
  const params = Object.fromEntries(Object.entries(named).map(([k, v]) => [k, v.dataSync() as Float32Array]));
  opt.dispose();
  disposeModel(model);
  return { losses, params };
}

const hasAddon = !('error' in loadAddon());

describe('the tiny preset on wasm+blas', () => {
  (hasAddon ? it : it.skip)('trains its first steps as plain wasm does, within float32 tolerance', () => {
    uninstallBlasKernels();
    const wasm = firstSteps(5);
    const status = installBlasKernels({ threads: 1 });
    expect(status.ok).toBe(true);
    let blas: ReturnType<typeof firstSteps>;
    try {
      blas = firstSteps(5);
    } finally {
      uninstallBlasKernels();
    }
    for (let i = 0; i < wasm.losses.length; i++) expect(Math.abs(blas.losses[i]! - wasm.losses[i]!) / Math.abs(wasm.losses[i]!)).toBeLessThan(1e-4);
    expect(Object.keys(blas.params)).toEqual(Object.keys(wasm.params));
    let worst = 0;
    let worstName = '';
    for (const [name, w] of Object.entries(wasm.params)) {
      const b = blas.params[name]!;
      for (let j = 0; j < w.length; j++) {
        const err = Math.abs(b[j]! - w[j]!) / Math.max(1, Math.abs(w[j]!));
        if (!(err <= worst)) [worst, worstName] = [err, name];
      }
    }
    // AdamW's first steps move each weight by about lr (1e-3) whatever the gradient's size; float32 summation order
    // can only tip the few whose gradient is ~0, so the weights agree to a small fraction of one step.
    expect({ worstName, close: worst < 1e-4 }).toEqual({ worstName, close: true });
  });
});
