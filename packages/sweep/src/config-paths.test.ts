import { describe, expect, it } from '@jest/globals';
import { closest, configPathProblem } from './config-paths';

describe('configPathProblem', () => {
  it('accepts leaves, sections and keys of either data source', () => {
    for (const p of ['seed', 'prior', 'prior.mu_init', 'model.width', 'data', 'data.source', 'data.dir', 'data.test_fraction', 'checkpoint.keep']) {
      expect(configPathProblem(p.split('.'))).toBeNull();
    }
  });

  it('names the unknown key, where it is, and the keys that exist there', () => {
    expect(configPathProblem(['train', 'stepz'])).toBe(
      'unknown run config key "stepz" in train, did you mean "steps"? (train has: steps, batch_size, lr, warmup_steps, min_lr_ratio, weight_decay, beta1, beta2, eps, grad_clip, noise_std, metrics_every_steps)',
    );
    expect(configPathProblem(['seed', 'x'])).toBe('unknown run config key "seed.x" (seed is a value and has no keys below it)');
  });
});

describe('closest', () => {
  it('suggests a near key (typos, swapped letters) and nothing for a far one', () => {
    expect(closest('mu_int', ['mu_init', 'mu_std'])).toBe('mu_init');
    expect(closest('modle', ['model', 'prior'])).toBe('model');
    expect(closest('colour', ['name', 'base', 'seeds'])).toBeNull();
  });
});
