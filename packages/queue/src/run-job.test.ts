import { describe, expect, it } from '@jest/globals';
import { resolveRunConfig } from '@ablate/config';
import { parseRunJobData } from './run-job';
import { SpecError } from './spec-error';

const GOOD = {
  runId: 'tiny-zero-3f2a9c',
  sweepId: 'mu-init',
  config: resolveRunConfig({ seed: 1 }),
  label: 'mu_init=zero seed=1',
  artifactDir: '/srv/artifacts/mu-init/tiny-zero-3f2a9c',
};

describe('parseRunJobData', () => {
  it('accepts a good payload and fills config defaults', () => {
    const d = parseRunJobData({ ...GOOD, config: { seed: 1 } });
    expect(d).toEqual(GOOD);
  });

  it('drops unknown keys (a newer scheduler may send more)', () => {
    expect(parseRunJobData({ ...GOOD, priority: 3 })).toEqual(GOOD);
  });

  it('names every bad field, nested config fields included', () => {
    let err: unknown;
    try {
      parseRunJobData({ ...GOOD, runId: 'a:b', artifactDir: '', config: { train: { steps: 'many' } } }, 'job a:b');
    } catch (e: unknown) {
      err = e;
    }
    expect(err).toBeInstanceOf(SpecError);
    expect((err as SpecError).message.split('\n').sort()).toEqual(
      [
        'job a:b runId: expected a run id without ":" (BullMQ job ids cannot contain it), got "a:b"',
        'job a:b config.train.steps: expected a positive integer, got "many"',
        'job a:b artifactDir: expected a directory path, got ""',
      ].sort(),
    );
  });

  it('tells unknown keys (version skew) from forbidden ones (a crafted payload), at any depth', () => {
    const codes = (data: unknown) => {
      try {
        parseRunJobData(data, 'job r');
      } catch (e: unknown) {
        if (e instanceof SpecError) return e.issues.map((i) => `${i.field} ${i.code ?? '-'}`);
      }
      return [];
    };
    expect(codes({ ...GOOD, config: { eval: { future_knob: 1 } } })).toEqual(['config.eval.future_knob unknown_key']);
    // As JSON.parse makes them (own keys), which is how BullMQ hands a payload to the worker.
    const hostile = JSON.parse(
      JSON.stringify({
        ...GOOD,
        config: { seed: 1, model: { preset: 'tiny', PROTO: { polluted: true } }, train: { constructor: { prototype: {} } } },
        extra: [{ prototype: 1 }],
      }).replace('"PROTO"', '"__proto__"'),
    ) as unknown;
    expect(codes(hostile).sort()).toEqual([
      'config.model.__proto__ forbidden_key',
      'config.train.constructor forbidden_key',
      'extra[0].prototype forbidden_key',
    ]);
    expect(() => parseRunJobData(hostile, 'job r')).toThrow(
      'job r config.model.__proto__: forbidden key "__proto__": no valid payload has it (a prototype-pollution attempt?); the payload is invalid',
    );
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('rejects bare-integer run ids and missing fields', () => {
    expect(() => parseRunJobData({ ...GOOD, runId: '42' })).toThrow(
      'job runId: expected a run id that is not a bare integer (BullMQ reserves those), got "42"',
    );
    expect(() => parseRunJobData({ runId: 'r' })).toThrow(/job sweepId: expected a sweep id, got nothing/);
    expect(() => parseRunJobData(null)).toThrow(/^job \(top level\): /);
  });

  it('reads a program job: any config, the command and its folder', () => {
    const job = { ...GOOD, config: { optimizer: { lr: 0.1 }, anything: [1, 'x'] }, program: { argv: ['python3', '/srv/train.py'], cwd: '/srv' } };
    expect(parseRunJobData(job)).toEqual(job);
    expect(() => parseRunJobData({ ...job, program: { argv: [], cwd: '/srv' } })).toThrow('job program.argv: expected a command line (a list of strings)');
    expect(() => parseRunJobData({ ...job, config: 3 })).toThrow('job config: expected a config (a mapping), got 3');
  });
});
