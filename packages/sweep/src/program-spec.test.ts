import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runIdOf } from './canonical-json';
import { expandSweep } from './expand-sweep';
import { loadSweepFile } from './load-sweep-file';
import { parseSweep } from './parse-sweep';
import { errorLines } from './test-utils';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'program-spec-'));
  writeFileSync(path.join(dir, 'train.py'), 'print(1)\n');
  writeFileSync(path.join(dir, 'run.sh'), '#!/bin/sh\n');
  chmodSync(path.join(dir, 'run.sh'), 0o755);
  mkdirSync(path.join(dir, 'data'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, yaml: string): string => {
  const file = path.join(dir, name);
  writeFileSync(file, yaml);
  return file;
};

describe('a sweep with a program', () => {
  it('resolves the command against the sweep file folder, takes any base keys and varies their dotted paths', () => {
    const file = write(
      'p.yaml',
      `name: p
program: [python3, train.py, --data, data, --epochs, "3", ./run.sh]
base:
  optimizer: { lr: 0.001, betas: [0.9, 0.99] }
  anything: { goes: here }
parameters:
  optimizer.lr: { values: [0.001, 0.01] }
  model: { values: [{ depth: 2 }, { depth: 4 }] }
seeds: 2
`,
    );
    const { spec, runs } = loadSweepFile(file);
    expect(spec.program).toEqual({
      argv: ['python3', path.join(dir, 'train.py'), '--data', path.join(dir, 'data'), '--epochs', '3', path.join(dir, 'run.sh')],
      cwd: dir,
    });
    expect(runs).toHaveLength(8);
    expect(runs[0]?.config).toEqual({ optimizer: { lr: 0.001, betas: [0.9, 0.99] }, anything: { goes: 'here' }, model: { depth: 2 }, seed: 0 });
    expect(runs[7]?.config).toEqual({ optimizer: { lr: 0.01, betas: [0.9, 0.99] }, anything: { goes: 'here' }, model: { depth: 4 }, seed: 1 });
    expect(runs.every((r) => r.program !== undefined && r.program.cwd === dir)).toBe(true);
    expect(runs[0]?.label).toBe('lr=0.001 depth=2 seed=0');
  });

  it('hashes the resolved command with the config: same config, another program → another run id; resubmitted → the same ids', () => {
    const a = write('a.yaml', 'name: a\nprogram: [python3, train.py]\nbase: { lr: 1 }\n');
    const b = write('b.yaml', 'name: b\nprogram: [python3, train.py, --fast]\nbase: { lr: 1 }\n');
    const c = write('c.yaml', 'name: c\nprogram: [python3, train.py]\nbase: { lr: 1 }\n');
    const [ra] = loadSweepFile(a).runs;
    const [rb] = loadSweepFile(b).runs;
    const [rc] = loadSweepFile(c).runs;
    expect(ra?.runId).not.toBe(rb?.runId);
    expect(ra?.runId).toBe(rc?.runId);
    expect(ra?.runId).toBe(runIdOf({ program: { argv: ['python3', path.join(dir, 'train.py')], cwd: dir }, config: { lr: 1 } }));
    // the built-in trainer's ids are unchanged: the hash of the resolved run config alone
    const [builtin] = loadSweepFile(write('d.yaml', 'name: d\nbase: { train: { steps: 5 } }\n')).runs;
    expect(builtin?.program).toBeUndefined();
    expect(builtin?.runId).toBe(runIdOf(builtin?.config as never));
  });

  it('names each problem of the program at file:line:col', () => {
    expect(errorLines(() => parseSweep('name: x\nprogram: python3 train.py\n', path.join(dir, 'x.yaml')))).toEqual([
      `${path.join(dir, 'x.yaml')}:2:10 program: expected a command line as a list of strings, e.g. [python3, train.py, --epochs, "3"], got "python3 train.py"`,
    ]);
    expect(errorLines(() => parseSweep('name: x\nprogram: []\n', 'x.yaml'))).toEqual([
      'x.yaml:2:10 program: expected a command line as a list of strings, e.g. [python3, train.py, --epochs, "3"], got an empty list',
    ]);
    expect(errorLines(() => parseSweep('name: x\nprogram: [python3, 3]\n', 'x.yaml'))).toEqual([
      'x.yaml:2:20 program[1]: expected a non-empty string (quote numbers: "3"), got 3',
    ]);
    const f = path.join(dir, 'y.yaml');
    expect(errorLines(() => parseSweep('name: y\nprogram: [./missing.sh, a]\n', f))).toEqual([
      `${f}:2:11 program[0]: expected an executable file (a bare name such as python3 is looked up on PATH), got "./missing.sh": ${path.join(dir, 'missing.sh')} no such file`,
    ]);
  });

  it('refuses parameter paths that are not data, and still checks the rest of the file', () => {
    const src = 'name: x\nprogram: [python3]\nbase: 3\nparameters:\n  __proto__.x: { values: [1] }\n  a..b: { values: [1] }\n  ok: { valeus: [1] }\n';
    expect(errorLines(() => parseSweep(src, 'x.yaml'))).toEqual([
      'x.yaml:3:7 base: expected a config (a mapping such as optimizer: { lr: 0.001 }), got 3',
      'x.yaml:5:3 parameters.__proto__.x: expected a config path without "__proto__" (it is not data), got "__proto__.x"',
      'x.yaml:6:3 parameters.a..b: expected a dotted config path such as optimizer.lr, got "a..b"',
      'x.yaml:7:7 parameters.ok: expected values: [...] or value: x, got neither',
      'x.yaml:7:9 parameters.ok.valeus: unknown key "valeus", did you mean "values"? (a parameter has: values, value)',
    ]);
  });

  it('refuses a config that is not JSON', () => {
    const spec = parseSweep('name: x\nprogram: [python3]\nbase: { lr: .nan }\n', 'x.yaml');
    expect(errorLines(() => expandSweep(spec))).toEqual([
      'x.yaml:3:7 base: config.lr: expected JSON data (a finite number), got NaN (in run 0: the base config)',
    ]);
  });

  it('keeps duplicate detection: two values that give the same config are one run', () => {
    const spec = parseSweep('name: x\nprogram: [python3]\nbase: { a: 1 }\nparameters:\n  a: { values: [1, 1] }\n', 'x.yaml');
    expect(errorLines(() => expandSweep(spec))[0]).toMatch(/^x\.yaml:5:20 parameters\.a\.values\[1\]: duplicate run/);
  });
});
