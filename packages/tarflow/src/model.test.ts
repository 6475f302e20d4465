import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from '@jest/globals';
import { disposeModel, flowVariables, initModel, namedVariables, priorVariables } from './model';
import { PRESETS } from './config';
import { testConfig } from './test-utils/helpers';

describe('model', () => {
  it('names every variable once, stably, and splits them into flow and prior groups', () => {
    const cfg = testConfig();
    const m = initModel(cfg, { seed: 1, muInit: { kind: 'zero' } });
    const named = namedVariables(m);
    const flow = flowVariables(m),
      prior = priorVariables(m);
    expect(Object.keys(named).length).toBe(flow.length + prior.length);
    expect(new Set(Object.values(named)).size).toBe(flow.length + prior.length);
    expect(new Set([...flow, ...prior])).toEqual(new Set(Object.values(named)));
    expect(prior).toEqual([named['prior.mu'], named['prior.logSigma']]);
    expect(Object.keys(named)).toContain('blocks.1.layers.0.attn.qkv.w');
    expect(named['blocks.0.projOut.w']?.shape).toEqual([cfg.width, 8]);
    const m2 = initModel(cfg, { seed: 2, muInit: { kind: 'zero' } }); // same names, no engine name clash
    expect(Object.keys(namedVariables(m2))).toEqual(Object.keys(named));
    disposeModel(m);
    disposeModel(m2);
  });

  it('is deterministic in its seed', () => {
    const cfg = testConfig();
    const a = initModel(cfg, { seed: 7, muInit: { kind: 'randn', std: 1 } });
    const b = initModel(cfg, { seed: 7, muInit: { kind: 'randn', std: 1 } });
    const c = initModel(cfg, { seed: 8, muInit: { kind: 'randn', std: 1 } });
    const [na, nb, nc] = [a, b, c].map(namedVariables);
    for (const k of ['blocks.0.layers.0.mlp.fc1.w', 'blocks.1.posEmbed', 'prior.mu']) {
      expect(Array.from(na?.[k]?.dataSync() ?? [])).toEqual(Array.from(nb?.[k]?.dataSync() ?? []));
      expect(Array.from(na?.[k]?.dataSync() ?? [])).not.toEqual(Array.from(nc?.[k]?.dataSync() ?? []));
    }
    [a, b, c].forEach(disposeModel);
  });

  it('disposeModel frees every tensor it made', () => {
    const before = tf.memory().numTensors;
    disposeModel(initModel(testConfig(), { seed: 1, muInit: { kind: 'randn', std: 0.02 } }));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('validates the config', () => {
    expect(() => initModel({ ...PRESETS.tiny, width: 100 }, { seed: 1, muInit: { kind: 'zero' } })).toThrow('width (100) must be divisible by headDim (64)');
  });
});
