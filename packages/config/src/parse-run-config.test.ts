import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from './config-error';
import { parseRunConfig } from './parse-run-config';

const GOOD = `name: tiny-randn1
seed: 3
model:
  preset: tiny
prior:
  mu_init: randn
  mu_std: 1.0
train:
  steps: 3000
  batch_size: 64
`;

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseRunConfig', () => {
  it('fills defaults and keeps what the file says', () => {
    const c = parseRunConfig(GOOD, 'run.yaml');
    expect(c).toMatchObject({ name: 'tiny-randn1', seed: 3, model: { preset: 'tiny' }, prior: { mu_init: 'randn', mu_std: 1, lr_scale: 1 } });
    expect(c.train).toMatchObject({ steps: 3000, batch_size: 64, lr: 3e-3, warmup_steps: 50, beta1: 0.9, beta2: 0.95, weight_decay: 1e-4, noise_std: 0.1 });
    expect(c.data).toEqual({ source: 'mnist-embedded', test_fraction: 1 / 6, split_seed: 0 });
  });

  it('an empty file is the all-defaults config', () => {
    expect(parseRunConfig('', 'empty.yaml').model.preset).toBe('tiny');
  });

  it('applies --set overrides as YAML scalars', () => {
    const c = parseRunConfig(GOOD, 'run.yaml', ['train.steps=100', 'prior.mu_init=zero', 'model.nvp=false']);
    expect(c.train.steps).toBe(100);
    expect(c.prior.mu_init).toBe('zero');
    expect(c.model.nvp).toBe(false);
  });

  it('reports every problem at once with file:line:col, key path, expected and found', () => {
    const src = `seed: -1
model:
  preset: huge
  width: four
train:
  stepz: 10
  lr: 0
`;
    const err = errorOf(() => parseRunConfig(src, 'bad.yaml'));
    expect(err.message.split('\n').sort()).toEqual(
      [
        'bad.yaml:1:7 seed: expected an integer ≥ 0, got -1',
        'bad.yaml:3:11 model.preset: expected one of paper, small, tiny, test, got "huge"',
        'bad.yaml:4:10 model.width: expected a positive integer, got "four"',
        'bad.yaml:6:3 train.stepz: unknown key "stepz" (this mapping also has: lr)',
        'bad.yaml:7:7 train.lr: expected a number > 0, got 0',
      ].sort(),
    );
  });

  it('blames the --set that caused a problem', () => {
    const err = errorOf(() => parseRunConfig(GOOD, 'run.yaml', ['train.steps=many']));
    expect(err.message).toBe('--set:1:1 train.steps: expected a positive integer, got "many" (from --set train.steps=many)');
    expect(() => parseRunConfig(GOOD, 'run.yaml', ['nonsense'])).toThrow('--set:1:1 nonsense: expected key=value');
  });

  it('rejects YAML syntax errors, duplicate keys and custom tags with a position', () => {
    expect(() => parseRunConfig('seed: [1,\n', 'x.yaml')).toThrow(/^x\.yaml:\d+:\d+ /);
    expect(() => parseRunConfig('seed: 1\nseed: 2\n', 'dup.yaml')).toThrow(/dup\.yaml:2:1 .*[Mm]ap keys must be unique/);
    expect(() => parseRunConfig('seed: !!js/function "function(){}"\n', 'tag.yaml')).toThrow(/tag\.yaml:1:7/);
  });

  it('checks the data section by its source', () => {
    expect(parseRunConfig('data: { source: idx, dir: /usr/share/datasets/d }', 'd.yaml').data).toEqual({ source: 'idx', dir: '/usr/share/datasets/d' });
    expect(() => parseRunConfig('data:\n  source: idx\n', 'd.yaml')).toThrow('d.yaml:2:3 data.dir: expected a directory path, got nothing');
    expect(() => parseRunConfig('data:\n  source: lmdb\n', 'd.yaml')).toThrow(/d\.yaml:2:11 data\.source: .*mnist-embedded/);
  });
});

describe('data folders are confined to DATA_ROOTS', () => {
  const saved = process.env.DATA_ROOTS;
  const root = mkdtempSync(path.join(tmpdir(), 'roots-'));
  mkdirSync(path.join(root, 'allowed', 'mnist'), { recursive: true });
  mkdirSync(path.join(root, 'secret'), { recursive: true });
  symlinkSync(path.join(root, 'secret'), path.join(root, 'allowed', 'link'));
  beforeEach(() => void (process.env.DATA_ROOTS = path.join(root, 'allowed')));
  afterEach(() => void (saved === undefined ? delete process.env.DATA_ROOTS : (process.env.DATA_ROOTS = saved)));
  const parse = (dir: string) => () => parseRunConfig(`data:\n  source: idx\n  dir: ${JSON.stringify(dir)}\n`, 'run.yaml');

  it('accepts a folder inside an allowed root', () => {
    expect(parse(path.join(root, 'allowed', 'mnist'))().data).toEqual({ source: 'idx', dir: path.join(root, 'allowed', 'mnist') });
  });

  it('refuses .. and symlinks out of the roots, naming file:line:col, the roots and where the path really goes', () => {
    const roots = realpathSync(path.join(root, 'allowed'));
    expect(parse(path.join(root, 'allowed', '..', 'secret'))).toThrow(
      `run.yaml:3:8 data.dir: expected a folder inside the allowed data folders (${roots}; set DATA_ROOTS to allow others)`,
    );
    expect(parse(path.join(root, 'allowed', 'link'))).toThrow(`(it resolves to ${realpathSync(path.join(root, 'secret'))})`);
    expect(parse('/etc')).toThrow('data.dir: expected a folder inside the allowed data folders');
  });
});
