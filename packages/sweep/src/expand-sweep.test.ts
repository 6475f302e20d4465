import { describe, expect, it } from '@jest/globals';
import { resolveRunConfig } from '@ablate/config';
import { expandSweep } from './expand-sweep';
import { parseSweep } from './parse-sweep';
import type { SweepSpec } from './sweep-spec';
import { builtinRuns, errorLines } from './test-utils';

const expand = (src: string) => builtinRuns(expandSweep(parseSweep(src, 'sweep.yaml')));

describe('expandSweep', () => {
  it('is seeds (outermost) × the product of the parameters in file order (the first varies slowest)', () => {
    const runs = expand(`name: grid
parameters:
  model.width: { values: [16, 32] }
  prior.mu_init: { values: [zero, randn, data] }
seeds: 2
`);
    expect(runs).toHaveLength(2 * 3 * 2);
    expect(runs.map((r) => r.index)).toEqual([...Array(12).keys()]);
    expect(runs.map((r) => [r.config.model.width, r.config.prior.mu_init, r.config.seed])).toEqual([
      [16, 'zero', 0],
      [16, 'randn', 0],
      [16, 'data', 0],
      [32, 'zero', 0],
      [32, 'randn', 0],
      [32, 'data', 0],
      [16, 'zero', 1],
      [16, 'randn', 1],
      [16, 'data', 1],
      [32, 'zero', 1],
      [32, 'randn', 1],
      [32, 'data', 1],
    ]);
    expect(runs[7]?.variant).toEqual({ 'model.width': 16, 'prior.mu_init': 'randn', seed: 1 });
    expect(runs[7]?.label).toBe('width=16 mu_init=randn seed=1');
    expect(runs.every((r) => r.sweepName === 'grid')).toBe(true);
  });

  it('deep-merges object values into the base at their path, and resolves defaults', () => {
    const spec = parseSweep(
      `name: merge
base:
  prior: { lr_scale: 0.5, mu_std: 3 }
  train: { steps: 100 }
parameters:
  prior:
    values:
      - { mu_init: zero }
      - { mu_init: randn, mu_std: 0.02 }
`,
      'sweep.yaml',
    );
    const baseBefore = structuredClone(spec.base);
    const runs = builtinRuns(expandSweep(spec));
    expect(runs.map((r) => r.config.prior)).toEqual([
      { mu_init: 'zero', mu_std: 3, lr_scale: 0.5 },
      { mu_init: 'randn', mu_std: 0.02, lr_scale: 0.5 },
    ]);
    expect(runs[0]?.config).toEqual(resolveRunConfig({ prior: { mu_init: 'zero', mu_std: 3, lr_scale: 0.5 }, train: { steps: 100 } }));
    expect(spec.base).toEqual(baseBefore);
    expect(runs.map((r) => r.label)).toEqual(['mu_init=zero', 'mu_init=randn mu_std=0.02']);
  });

  it('sets scalar paths, a fixed value in every run, and the seed from an explicit list', () => {
    const runs = expand(`name: scalars
base:
  seed: 5
parameters:
  train.lr: { values: [1.0e-3, 3.0e-3] }
  model.nvp: { value: false }
seeds: [0, 7]
`);
    expect(runs.map((r) => [r.config.train.lr, r.config.model.nvp, r.config.seed])).toEqual([
      [1e-3, false, 0],
      [3e-3, false, 0],
      [1e-3, false, 7],
      [3e-3, false, 7],
    ]);
    expect(runs[0]?.variant).toEqual({ 'train.lr': 1e-3, 'model.nvp': false, seed: 0 });
    expect(runs.map((r) => r.label)).toEqual(['lr=0.001 seed=0', 'lr=0.003 seed=0', 'lr=0.001 seed=7', 'lr=0.003 seed=7']);
  });

  it('without parameters or seeds is the base alone', () => {
    const runs = expand('name: one\nbase:\n  train: { steps: 7 }\n');
    expect(runs).toHaveLength(1);
    expect(runs[0]?.config.train.steps).toBe(7);
    expect(runs[0]?.variant).toEqual({});
    expect(runs[0]?.label).toBe('base');
  });

  it('gives ids r-<16 hex>, the same on every call and whatever the key order in the file, and different per config', () => {
    const a = `name: ids
base:
  model: { preset: tiny, width: 32 }
  train: { steps: 10, lr: 1.0e-3 }
parameters:
  prior:
    values: [{ mu_init: randn, mu_std: 0.02 }, { mu_init: zero }]
`;
    const b = `name: ids
base:
  train: { lr: 0.001, steps: 10 }
  model: { width: 32, preset: tiny }
parameters:
  prior:
    values: [{ mu_std: 0.02, mu_init: randn }, { mu_init: zero }]
`;
    const ids = expand(a).map((r) => r.runId);
    expect(ids.every((id) => /^r-[0-9a-f]{16}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(2);
    expect(expand(a).map((r) => r.runId)).toEqual(ids);
    expect(expand(b).map((r) => r.runId)).toEqual(ids);
    expect(
      expand(a.replace('steps: 10', 'steps: 11'))
        .map((r) => r.runId)
        .some((id) => ids.includes(id)),
    ).toBe(false);
  });

  it('reports duplicate runs at the value that makes the later run a repeat', () => {
    const src = `name: dup
parameters:
  prior:
    values:
      - { mu_init: zero }
      - { mu_init: zero, mu_std: 1 }
  prior.lr_scale: { values: [1, 0.1] }
`;
    const [first, ...rest] = errorLines(() => expand(src));
    expect(rest).toEqual([]);
    expect(first).toMatch(
      /^sweep\.yaml:6:9 parameters\.prior\.values\[1\]: duplicate run: run 2 \(prior\.mu_init=zero prior\.mu_std=1 prior\.lr_scale=1\) resolves to the same config as run 0 \(prior\.mu_init=zero prior\.lr_scale=1\), run id r-[0-9a-f]{16}$/,
    );
  });

  it('reports a combination that is not a valid config at the values that make it, once, with a run it broke', () => {
    const src = `name: combo
base:
  data: { source: idx }
parameters:
  data.dir: { values: [/a] }
  data.source: { values: [idx, mnist-embedded] }
seeds: 2
`;
    expect(errorLines(() => expand(src))).toEqual([
      'sweep.yaml:5:24 parameters.data.dir.values[0]: unknown key "dir" (this mapping also has: source) (in run 1: data.dir=/a data.source=mnist-embedded seed=0)',
    ]);
  });

  it('works on a spec built in code (errors then have no position)', () => {
    const spec: SweepSpec = { name: 'code', file: 'code', base: { train: { steps: 5 } }, parameters: [{ path: 'model.width', values: [8, 'x'] }], seeds: null };
    expect(errorLines(() => expandSweep(spec))).toEqual([
      'code:1:1 parameters.model.width.values[1]: expected a positive integer, got "x" (in run 1: model.width=x)',
    ]);
    expect(builtinRuns(expandSweep({ ...spec, parameters: [{ path: 'model.width', values: [8, 16] }] })).map((r) => r.config.model.width)).toEqual([8, 16]);
    expect(errorLines(() => expandSweep({ ...spec, parameters: [{ path: 'model.width', values: [] }] }))).toEqual([
      'code:1:1 parameters.model.width.values: expected at least one value, got an empty list',
    ]);
    expect(errorLines(() => expandSweep({ ...spec, parameters: [{ path: '__proto__.polluted', values: [1] }] }))).toEqual([
      'code:1:1 parameters.__proto__.polluted: unknown run config key "__proto__" (the run config has: name, seed, model, prior, data, train, eval, checkpoint)',
    ]);
    expect(Object.prototype).not.toHaveProperty('polluted');
  });
});

describe('sweeps: data folders', () => {
  it('a data.dir outside DATA_ROOTS, by .. or otherwise, is an error at the value that sets it, when parsed and when expanded', () => {
    const saved = process.env.DATA_ROOTS;
    process.env.DATA_ROOTS = '/usr/share/datasets';
    try {
      const file =
        'name: a\nparameters:\n  data:\n    values:\n      - { source: idx, dir: /usr/share/datasets/fashion-mnist }\n      - { source: idx, dir: /usr/share/datasets/../../../etc }\n';
      expect(() => parseSweep(file, 's.yaml')).toThrow(
        's.yaml:6:29 parameters.data.values[1].dir: expected a folder inside the allowed data folders (/usr/share/datasets; set DATA_ROOTS to allow others), got "/usr/share/datasets/../../../etc"',
      );
      const base = parseSweep('name: a\nbase:\n  data: { source: idx, dir: /usr/share/datasets/x }\nparameters:\n  seed: { values: [1] }\n', 's.yaml');
      process.env.DATA_ROOTS = '/srv/data'; // the scheduler's roots changed after parsing: the expansion checks again
      expect(() => expandSweep(base)).toThrow(
        's.yaml:3:29 base.data.dir: expected a folder inside the allowed data folders (/srv/data; set DATA_ROOTS to allow others), got "/usr/share/datasets/x"',
      );
    } finally {
      process.env.DATA_ROOTS = saved;
    }
  });
});
