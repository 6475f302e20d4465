import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { RunConfigSchema } from './run-config';
import { explainZodIssue, getPath } from './zod-issues';

function partsOf(schema: z.ZodType, value: unknown): ReturnType<typeof explainZodIssue> {
  const r = schema.safeParse(value);
  if (r.success) throw new Error('expected a failure');
  return r.error.issues.flatMap((i) => explainZodIssue(i, value));
}

describe('getPath', () => {
  it('reads nested keys and list items, undefined when absent', () => {
    const v = { a: { b: [1, { c: 'x' }] } };
    expect(getPath(v, ['a', 'b', 1, 'c'])).toBe('x');
    expect(getPath(v, [])).toBe(v);
    expect(getPath(v, ['a', 'z', 'c'])).toBeUndefined();
    expect(getPath(3, ['a'])).toBeUndefined();
  });
});

describe('explainZodIssue', () => {
  it('gives paths relative to the value, a part per unknown key (at the key), and what was found', () => {
    const parts = partsOf(RunConfigSchema, { train: { steps: 'many', stepz: 1, lrr: 2 } });
    expect(parts).toEqual([
      { path: ['train', 'steps'], message: 'expected a positive integer, got "many"', key: false },
      { path: ['train', 'stepz'], message: 'unknown key "stepz" (this mapping also has: steps)', key: true },
      { path: ['train', 'lrr'], message: 'unknown key "lrr" (this mapping also has: steps)', key: true },
    ]);
  });

  it('reports the furthest branch of a plain union, reading values at the full path', () => {
    const schema = z.object({ d: z.union([z.object({ a: z.number({ error: 'expected a number' }) }), z.string({ error: 'expected a string' })]) });
    expect(partsOf(schema, { d: { a: 'x' } })).toEqual([{ path: ['d', 'a'], message: 'expected a number, got "x"', key: false }]);
  });
});
