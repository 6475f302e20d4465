import { describe, expect, it } from '@jest/globals';
import { PRESETS, TarflowConfigError, assertConfig, assertDivisible, numHeads, numTokens, tokenDim } from './config';

describe('config', () => {
  it('derives T, D and heads', () => {
    expect(numTokens(PRESETS.paper)).toBe(196);
    expect(tokenDim(PRESETS.paper)).toBe(4);
    expect(numTokens(PRESETS.tiny)).toBe(49);
    expect(tokenDim(PRESETS.tiny)).toBe(16);
    expect(numHeads(PRESETS.paper)).toBe(4);
  });

  it('accepts every preset', () => {
    for (const cfg of Object.values(PRESETS)) expect(() => assertConfig(cfg)).not.toThrow();
  });

  it('names both fields when not divisible', () => {
    expect(() => assertDivisible(100, 64, 'width', 'headDim')).toThrow('width (100) must be divisible by headDim (64)');
    expect(() => assertConfig({ ...PRESETS.tiny, patchSize: 5 })).toThrow('imageSize (28) must be divisible by patchSize (5)');
    expect(() => assertConfig({ ...PRESETS.tiny, headDim: 48 })).toThrow(TarflowConfigError);
  });

  it('rejects non-integers and bad clips', () => {
    expect(() => assertConfig({ ...PRESETS.tiny, numBlocks: 1.5 })).toThrow('numBlocks: expected a positive integer, got 1.5');
    expect(() => assertConfig({ ...PRESETS.tiny, logScaleClip: 0 })).toThrow('logScaleClip');
  });
});
