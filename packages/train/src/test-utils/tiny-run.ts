import { resolveRunConfig, type RunConfig, type RunConfigInput } from '@ablate/config';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A run that trains in about a second on the cpu backend: the `test` preset (16 tokens of 7×7), batch 16. */
export function tinyRun(overrides: RunConfigInput = {}): RunConfig {
  const base = resolveRunConfig({
    seed: 1,
    model: { preset: 'test' },
    train: { steps: 6, batch_size: 16, lr: 3e-3, warmup_steps: 2, metrics_every_steps: 1 },
    eval: { every_steps: 0, examples: 40, batch_size: 20, samples_per_class: 1 },
    checkpoint: { every_steps: 0, keep: 3 },
  });
  return resolveRunConfig({
    ...base,
    ...overrides,
    model: { ...base.model, ...overrides.model },
    prior: { ...base.prior, ...overrides.prior },
    train: { ...base.train, ...overrides.train },
    eval: { ...base.eval, ...overrides.eval },
    checkpoint: { ...base.checkpoint, ...overrides.checkpoint },
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}
