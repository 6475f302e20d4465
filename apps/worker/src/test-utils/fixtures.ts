import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const DIST = path.resolve(__dirname, '..', '..', 'dist');

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** A run config that trains in a couple of seconds on wasm: the test preset, a few steps, tiny eval. */
export const SMOKE_RUN_YAML = `name: smoke-run
seed: 2
model:
  preset: test
train:
  steps: 4
  batch_size: 8
  warmup_steps: 1
  metrics_every_steps: 2
eval:
  every_steps: 0
  examples: 20
  batch_size: 20
  samples_per_class: 1
  consistency_samples_per_class: 5
checkpoint:
  every_steps: 2
`;

export function writeFile(dir: string, name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}
