import { describe, expect, it } from '@jest/globals';
import { parseDataConfig } from './data-config';
import { DataError } from './data-error';

describe('parseDataConfig', () => {
  it('passes good configs through, keeping only known fields', () => {
    expect(parseDataConfig({ source: 'mnist-embedded' })).toEqual({ source: 'mnist-embedded' });
    expect(parseDataConfig({ source: 'mnist-embedded', testFraction: 0.2, splitSeed: -3 })).toEqual({
      source: 'mnist-embedded',
      testFraction: 0.2,
      splitSeed: -3,
    });
    expect(parseDataConfig({ source: 'idx', dir: '/d', extra: 1 })).toEqual({ source: 'idx', dir: '/d' });
  });

  it('says what is wrong, as a DataError without a file', () => {
    const cases: [unknown, string][] = [
      ['mnist', 'data config must be an object, got "mnist"'],
      [{}, 'data config source must be "mnist-embedded" or "idx", got undefined'],
      [{ source: 'idx', dir: '' }, 'data config with source "idx" needs dir: a directory of IDX files, got ""'],
      [{ source: 'mnist-embedded', testFraction: '0.2' }, 'data config testFraction must be a number strictly between 0 and 1, got "0.2"'],
      [{ source: 'mnist-embedded', splitSeed: 1.5 }, 'data config splitSeed must be an integer, got 1.5'],
    ];
    for (const [cfg, message] of cases) {
      let caught: unknown;
      try {
        parseDataConfig(cfg);
      } catch (err: unknown) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(DataError);
      expect(caught).toMatchObject({ name: 'DataError', file: undefined, message });
    }
  });
});
