import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '@ablate/config';
import { parseSweep } from './parse-sweep';
import { errorLines } from './test-utils';

const parse = (src: string) => (): unknown => parseSweep(src, 'sweep.yaml');

describe('parseSweep: a good file', () => {
  it('reads name, description, base, parameters in file order, value and values, and seeds', () => {
    const spec = parseSweep(
      `# comment
name: prior-init-mini
description: four inits
method: grid
base:
  model: { preset: tiny }
parameters:
  prior.mu_init:
    values: [zero, randn, data]
  prior:
    values:
      - { mu_init: zero }
      - { mu_init: randn, mu_std: 0.02 }
  train.steps:
    value: 100
seeds: 2
`,
      'sweep.yaml',
    );
    expect(spec).toEqual({
      name: 'prior-init-mini',
      description: 'four inits',
      file: 'sweep.yaml',
      base: { model: { preset: 'tiny' } },
      parameters: [
        { path: 'prior.mu_init', values: ['zero', 'randn', 'data'] },
        { path: 'prior', values: [{ mu_init: 'zero' }, { mu_init: 'randn', mu_std: 0.02 }] },
        { path: 'train.steps', values: [100] },
      ],
      seeds: [0, 1],
    });
  });

  it('takes an explicit seed list, and no seeds as null; base and parameters may be left out', () => {
    expect(parseSweep('name: a\nseeds: [0, 7]\n', 's.yaml')).toMatchObject({ base: {}, parameters: [], seeds: [0, 7] });
    expect(parseSweep('name: a\nbase:\nparameters:\n', 's.yaml')).toMatchObject({ base: {}, parameters: [], seeds: null });
    expect(parseSweep('name: a', 's.yaml')).not.toHaveProperty('description');
  });

  it('accepts anchors and aliases (they are plain data)', () => {
    const spec = parseSweep('name: a\nbase:\n  train: { steps: &n 10 }\n  eval: { every_steps: *n }\n', 's.yaml');
    expect(spec.base).toEqual({ train: { steps: 10 }, eval: { every_steps: 10 } });
  });

  it('passes file paths through as written', () => {
    expect(
      parseSweep('name: a\nparameters:\n  data:\n    values: [{ source: idx, dir: ../mnist }, { source: idx, dir: /d }]\n', 's.yaml').parameters[0]?.values,
    ).toEqual([
      { source: 'idx', dir: '../mnist' },
      { source: 'idx', dir: '/d' },
    ]);
  });
});

describe('parseSweep: every problem, at file:line:col key.path', () => {
  it('unknown top-level key', () => {
    expect(errorLines(parse('name: a\nparamters:\n  prior.mu_init: { values: [zero] }\n'))).toEqual([
      'sweep.yaml:2:1 paramters: unknown key "paramters", did you mean "parameters"? (a sweep has: name, description, method, program, base, parameters, seeds, baseline)',
    ]);
  });

  it('unknown parameter path, at the key, saying which keys exist there', () => {
    expect(errorLines(parse('name: a\nparameters:\n  prior.mu_int:\n    values: [zero, randn]\n'))).toEqual([
      'sweep.yaml:3:3 parameters.prior.mu_int: unknown run config key "mu_int" in prior, did you mean "mu_init"? (prior has: mu_init, mu_std, lr_scale)',
    ]);
    expect(errorLines(parse('name: a\nparameters:\n  modle.width: { values: [1] }\n  train.lr.x: { values: [1] }\n  data.dirr: { values: [/d] }\n'))).toEqual([
      'sweep.yaml:3:3 parameters.modle.width: unknown run config key "modle", did you mean "model"? (the run config has: name, seed, model, prior, data, train, eval, checkpoint)',
      'sweep.yaml:4:3 parameters.train.lr.x: unknown run config key "train.lr.x" (train.lr is a value and has no keys below it)',
      'sweep.yaml:5:3 parameters.data.dirr: unknown run config key "dirr" in data, did you mean "dir"? (data has: source, test_fraction, split_seed, dir)',
    ]);
  });

  it('bad value in a list, at that item', () => {
    const src = `# sweep.yaml
name: blocks
base:
  model:
    preset: tiny
parameters:
  model.num_blocks: { values: [2, four] }
`;
    expect(errorLines(parse(src))).toEqual(['sweep.yaml:7:35 parameters.model.num_blocks.values[1]: expected a positive integer, got "four"']);
  });

  it('bad keys and values inside an object value, at the key or value in that item', () => {
    const src = `name: a
parameters:
  prior:
    values:
      - mu_init: zero
        mu_sd: 3
      - mu_init: rand
  train.steps: { value: 0 }
`;
    expect(errorLines(parse(src))).toEqual([
      'sweep.yaml:6:9 parameters.prior.values[0].mu_sd: unknown key "mu_sd" (this mapping also has: mu_init)',
      'sweep.yaml:7:18 parameters.prior.values[1].mu_init: expected one of zero, randn, data, got "rand"',
      'sweep.yaml:8:25 parameters.train.steps.value: expected a positive integer, got 0',
    ]);
  });

  it('error in base, at base.…', () => {
    expect(errorLines(parse('name: a\nbase:\n  train: { steps: 10, lr: 0 }\n  evl: {}\n'))).toEqual([
      'sweep.yaml:3:27 base.train.lr: expected a number > 0, got 0',
      'sweep.yaml:4:3 base.evl: unknown key "evl" (this mapping also has: train)',
    ]);
    expect(errorLines(parse('name: a\nbase: [1]\n'))).toEqual([
      'sweep.yaml:2:7 base: expected a run config (a mapping such as model: { preset: tiny }), got a list',
    ]);
  });

  it('a base value that a parameter always overrides is not used, so not an error; one some runs keep is', () => {
    expect(parseSweep('name: a\nbase:\n  prior: { mu_init: bogus }\nparameters:\n  prior.mu_init: { values: [zero] }\n', 's.yaml').name).toBe('a');
    const src = 'name: a\nbase:\n  prior: { mu_std: -1 }\nparameters:\n  prior:\n    values: [{ mu_init: zero }, { mu_std: 2 }]\n';
    expect(errorLines(parse(src))).toEqual(['sweep.yaml:3:20 base.prior.mu_std: expected a number ≥ 0, got -1']);
  });

  it('a key missing from base and value is blamed on the value', () => {
    expect(errorLines(parse('name: a\nparameters:\n  data:\n    values:\n      - { source: idx }\n'))).toEqual([
      'sweep.yaml:5:9 parameters.data.values[0].dir: expected a directory path, got nothing',
    ]);
  });

  it('a value that only works with another parameter is left to the expansion', () => {
    const src = 'name: a\nbase:\n  data: { source: idx }\nparameters:\n  data.source: { values: [idx] }\n  data.dir: { values: [/a] }\n';
    expect(parseSweep(src, 's.yaml').parameters).toHaveLength(2);
  });

  it('empty values', () => {
    expect(errorLines(parse('name: a\nparameters:\n  prior.mu_init:\n    values: []\n'))).toEqual([
      'sweep.yaml:4:13 parameters.prior.mu_init.values: expected at least one value, got an empty list',
    ]);
  });

  it('malformed parameter entries', () => {
    const src = `name: a
parameters:
  model.nvp: [true, false]
  model.width: { min: 16, max: 64 }
  model.head_dim: { values: [8], value: 8 }
  prior.mu_std: { values: 0.02 }
`;
    expect(errorLines(parse(src))).toEqual([
      'sweep.yaml:3:14 parameters.model.nvp: expected { values: [...] } or { value: x }, got a list',
      'sweep.yaml:4:16 parameters.model.width: expected values: [...] or value: x, got neither',
      'sweep.yaml:4:18 parameters.model.width.min: unknown key "min" (a parameter has: values, value); a grid sweep has no distributions',
      'sweep.yaml:4:27 parameters.model.width.max: unknown key "max" (a parameter has: values, value); a grid sweep has no distributions',
      'sweep.yaml:5:34 parameters.model.head_dim.value: expected values or value, got both',
      'sweep.yaml:6:27 parameters.prior.mu_std.values: expected a list of values, got 0.02',
    ]);
  });

  it('wrong type of seeds, bad and repeated seeds, seeds with a seed parameter', () => {
    expect(errorLines(parse('name: a\nseeds: two\n'))).toEqual([
      'sweep.yaml:2:8 seeds: expected a number of seeds (1 to 10000, e.g. 3 for seeds 0, 1, 2) or a list of seeds (e.g. [0, 7]), got "two"',
    ]);
    expect(errorLines(parse('name: a\nseeds: 0\n'))).toEqual([
      'sweep.yaml:2:8 seeds: expected a number of seeds (1 to 10000, e.g. 3 for seeds 0, 1, 2) or a list of seeds (e.g. [0, 7]), got 0',
    ]);
    expect(errorLines(parse('name: a\nseeds: [0, -1, 0.5, 0]\nparameters:\n  seed: { values: [1] }\n'))).toEqual([
      'sweep.yaml:2:12 seeds[1]: expected an integer ≥ 0, got -1',
      'sweep.yaml:2:16 seeds[2]: expected an integer ≥ 0, got 0.5',
      'sweep.yaml:2:21 seeds[3]: expected distinct seeds, got 0 again (also seeds[0])',
      'sweep.yaml:4:3 parameters.seed: expected seeds or a seed parameter, got both (seeds: sets seed in every run)',
    ]);
    expect(errorLines(parse('name: a\nseeds: []\n'))).toEqual(['sweep.yaml:2:8 seeds: expected at least one seed, got an empty list']);
  });

  it('missing or bad name, bad description and method', () => {
    const nameRule = "expected a name of a-z, 0-9, '.', '_' and '-' starting with a letter or digit (at most 64 characters)";
    expect(errorLines(parse('# no name\nbase: {}\n'))).toEqual([`sweep.yaml:2:1 name: ${nameRule}, got nothing`]);
    expect(errorLines(parse('name: Prior Init\ndescription: 3\nmethod: random\n'))).toEqual([
      `sweep.yaml:1:7 name: ${nameRule}, got "Prior Init"`,
      'sweep.yaml:2:14 description: expected a string, got 3',
      'sweep.yaml:3:9 method: expected grid (every combination of the values; random and bayes search are not supported), got "random"',
    ]);
  });

  it('not a mapping', () => {
    expect(errorLines(parse(''))).toEqual(['sweep.yaml:1:1 (top level): expected a sweep (a mapping with name, base and parameters), got an empty file']);
    expect(errorLines(parse('- a\n'))).toEqual(['sweep.yaml:1:1 (top level): expected a sweep (a mapping with name, base and parameters), got a list']);
  });

  it('YAML syntax errors, duplicate keys and custom tags, with their position', () => {
    expect(errorLines(parse('name: a\nbase:\n  train: { steps: 10\n'))).toEqual([
      'sweep.yaml:4:1 (top level): Flow map in block collection must be sufficiently indented and end with a }',
    ]);
    expect(errorLines(parse('name: a\nname: b\n'))).toEqual(['sweep.yaml:2:1 (top level): Map keys must be unique']);
    expect(errorLines(parse('name: a\nbase: !!js/function "function () { return 1 }"\n'))[0]).toMatch(/^sweep\.yaml:2:7 \(top level\): .*js\/function/);
  });

  it('a YAML __proto__ key is data: an unknown key, never a prototype', () => {
    expect(errorLines(parse('name: a\nparameters:\n  prior:\n    values: [{ __proto__: { mu_std: 5 } }]\n'))).toEqual([
      'sweep.yaml:4:16 parameters.prior.values[0].__proto__: unknown key "__proto__"',
    ]);
    expect(Object.prototype).not.toHaveProperty('mu_std');
  });

  it('several problems at once: all of them, in file order', () => {
    const src = `name: Big Sweep
base:
  model: { preset: huge }
  train: { steps: 10, lr: -1 }
parameters:
  prior.mu_int: { values: [zero] }
  model.num_blocks:
    values: [2, four]
  eval.examples: { values: [] }
seeds: two
colour: red
`;
    const err = (() => {
      try {
        parseSweep(src, 'sweep.yaml');
      } catch (e: unknown) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err instanceof ConfigError ? err.issues.map((i) => `${i.line}:${i.col} ${i.field}`) : []).toEqual([
      '1:7 name',
      '3:20 base.model.preset',
      '4:27 base.train.lr',
      '6:3 parameters.prior.mu_int',
      '8:17 parameters.model.num_blocks.values[1]',
      '9:28 parameters.eval.examples.values',
      '10:8 seeds',
      '11:1 colour',
    ]);
    expect(errorLines(parse(src))[1]).toBe('sweep.yaml:3:20 base.model.preset: expected one of paper, small, tiny, test, got "huge"');
  });

  it('limits the number of runs', () => {
    const values = `{ values: [${Array.from({ length: 100 }, (_, i) => i + 1).join(', ')}] }`;
    expect(errorLines(parse(`name: a\nparameters:\n  model.width: ${values}\n  train.steps: ${values}\nseeds: 2\n`))).toEqual([
      'sweep.yaml:2:1 parameters: expected at most 10000 runs, got 20000 (the product of the numbers of values and seeds)',
    ]);
  });

  it('baseline: names one value per parameter; an unknown parameter or a value it does not have is an error at its line', () => {
    const ok = parseSweep(
      `name: b
parameters:
  prior:
    values:
      - { mu_init: zero }
      - { mu_init: randn, mu_std: 1.0 }
  train.lr: { values: [1.0e-3, 3.0e-3] }
baseline:
  prior: { mu_std: 1.0, mu_init: randn }
`,
      'sweep.yaml',
    );
    expect(ok.baseline).toEqual({ prior: { mu_init: 'randn', mu_std: 1 } });
    expect(parseSweep('name: c\nparameters:\n  train.lr: { values: [1, 2] }\n', 'sweep.yaml').baseline).toBeUndefined();
    expect(
      errorLines(() =>
        parseSweep(
          `name: b
parameters:
  train.lr: { values: [1.0e-3, 3.0e-3] }
baseline:
  train.lr: 2.0e-3
  prior.mu_init: zero
`,
          'sweep.yaml',
        ),
      ),
    ).toEqual([
      'sweep.yaml:5:13 baseline.train.lr: expected one of the values of parameters.train.lr, got 0.002',
      'sweep.yaml:6:3 baseline.prior.mu_init: unknown key "prior.mu_init" (the sweep varies: train.lr)',
    ]);
  });
});
