import { describe, expect, it } from '@jest/globals';
import { resolveRunConfig } from '@ablate/config';
import { canonicalJson, runIdOf } from './canonical-json';

describe('canonicalJson', () => {
  it('sorts keys recursively and is independent of key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson({ x: 1, y: { p: true, q: null } })).toBe(canonicalJson({ y: { q: null, p: true }, x: 1 }));
  });

  it('writes JSON as JSON.stringify does for plain data', () => {
    expect(canonicalJson({ a: undefined, b: [undefined], c: -0, d: 1e-8, e: 'é"' })).toBe('{"b":[null],"c":0,"d":1e-8,"e":"é\\""}');
    expect(JSON.parse(canonicalJson({ n: 0.1, s: 'x' }))).toEqual({ n: 0.1, s: 'x' });
  });

  it('refuses what is not JSON', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(TypeError);
    expect(() => canonicalJson(new Date(0))).toThrow(TypeError);
    expect(() => canonicalJson(1n)).toThrow(TypeError);
  });
});

describe('runIdOf', () => {
  it('is r- and 16 hex chars, stable, and differs between configs', () => {
    const a = resolveRunConfig({ prior: { mu_init: 'zero' } });
    const b = resolveRunConfig({ prior: { mu_init: 'randn' } });
    expect(runIdOf(a)).toMatch(/^r-[0-9a-f]{16}$/);
    expect(runIdOf(a)).toBe(runIdOf(resolveRunConfig({ prior: { mu_init: 'zero' } })));
    expect(runIdOf(a)).not.toBe(runIdOf(b));
  });

  it('hashes the resolved config: a default written out gives the same id', () => {
    expect(runIdOf(resolveRunConfig({ train: { steps: 3000 } }))).toBe(runIdOf(resolveRunConfig({})));
  });
});
