import { describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadSweepFile } from './load-sweep-file';
import type { BuiltinRunSpec } from './sweep-spec';
import { builtinRuns } from './test-utils';

const SWEEPS = join(__dirname, '../../../sweeps');
const load = (name: string): BuiltinRunSpec[] => builtinRuns(loadSweepFile(join(SWEEPS, `${name}.yaml`)).runs);
const INITS = [
  { mu_init: 'zero', mu_std: 1 },
  { mu_init: 'randn', mu_std: 0.02 },
  { mu_init: 'randn', mu_std: 1 },
  { mu_init: 'data', mu_std: 1 },
];

describe('the sweeps in sweeps/', () => {
  it('all parse and expand, with unique ids and labels, each named as its file', () => {
    const files = readdirSync(SWEEPS).filter((f) => f.endsWith('.yaml'));
    expect(files.sort()).toEqual([
      'prior-init-lr.yaml',
      'prior-init-mini.yaml',
      'prior-init-seeds.yaml',
      'prior-init-torch.yaml',
      'prior-init.yaml',
      'smoke.yaml',
    ]);
    for (const f of files) {
      const { spec, runs } = loadSweepFile(join(SWEEPS, f));
      expect(`${spec.name}.yaml`).toBe(f);
      expect(spec.description).toBeTruthy();
      expect(new Set(runs.map((r) => r.runId)).size).toBe(runs.length);
      expect(new Set(runs.map((r) => r.label)).size).toBe(runs.length);
    }
  });

  it('prior-init: the seed ablation at the seed scale (paper model, 4 μ inits)', () => {
    const runs = load('prior-init');
    expect(runs.map((r) => ({ mu_init: r.config.prior.mu_init, mu_std: r.config.prior.mu_std }))).toEqual(INITS);
    for (const r of runs) {
      expect(r.config.model).toEqual({ preset: 'paper' });
      expect(r.config.data.source).toBe('mnist-embedded');
      expect(r.config.train).toMatchObject({ noise_std: 0.1, batch_size: 256, steps: 100000, lr: 1e-4, warmup_steps: 1000 });
    }
  });

  it('prior-init-mini: the 4 μ inits at CPU scale', () => {
    const runs = load('prior-init-mini');
    expect(runs.map((r) => ({ mu_init: r.config.prior.mu_init, mu_std: r.config.prior.mu_std }))).toEqual(INITS);
    expect(runs.map((r) => r.label)).toEqual(['mu_init=zero', 'mu_init=randn mu_std=0.02', 'mu_init=randn mu_std=1', 'mu_init=data']);
    for (const r of runs) {
      expect(r.config.model).toEqual({ preset: 'tiny' });
      expect(r.config.train).toMatchObject({ steps: 3000, batch_size: 64, lr: 3e-3, warmup_steps: 50, min_lr_ratio: 0, noise_std: 0.1 });
      expect(r.config.eval.every_steps).toBe(500);
      expect(r.config.checkpoint.every_steps).toBe(250);
      expect(r.config.prior.lr_scale).toBe(1);
    }
  });

  it('smoke: 2 runs of the test model in seconds', () => {
    const runs = load('smoke');
    expect(runs.map((r) => r.config.prior.mu_init)).toEqual(['zero', 'randn']);
    for (const r of runs) {
      expect(r.config.model.preset).toBe('test');
      expect(r.config.train.steps).toBeLessThanOrEqual(20);
      expect(r.config.train.batch_size).toBe(16);
      expect(r.config.eval).toMatchObject({ examples: 50, samples_per_class: 1 });
      expect(r.config.checkpoint.every_steps).toBe(10);
    }
  });

  it('prior-init-lr: the 4 inits × lr_scale 1 and 0.1 (8 runs), the lr_scale 1 runs being those of prior-init-mini', () => {
    const runs = load('prior-init-lr');
    expect(runs.map((r) => [r.config.prior.mu_init, r.config.prior.mu_std, r.config.prior.lr_scale])).toEqual(
      INITS.flatMap((i) => [
        [i.mu_init, i.mu_std, 1],
        [i.mu_init, i.mu_std, 0.1],
      ]),
    );
    const mini = load('prior-init-mini').map((r) => r.runId);
    expect(runs.filter((r) => r.config.prior.lr_scale === 1).map((r) => r.runId)).toEqual(mini);
    expect(runs[3]?.label).toBe('mu_init=randn mu_std=0.02 lr_scale=0.1');
  });
});
