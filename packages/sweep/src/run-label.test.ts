import { describe, expect, it } from '@jest/globals';
import { flattenVariant, labelRuns, shortNames } from './run-label';

describe('labelRuns', () => {
  it('shows only what varies, under short unique names, in parameter order', () => {
    const variants = [
      { prior: { mu_init: 'zero' }, 'prior.lr_scale': 1, 'train.steps': 100, seed: 0 },
      { prior: { mu_init: 'randn', mu_std: 0.02 }, 'prior.lr_scale': 0.1, 'train.steps': 100, seed: 0 },
      { prior: { mu_init: 'randn', mu_std: 1 }, 'prior.lr_scale': 0.1, 'train.steps': 100, seed: 1 },
    ];
    expect(labelRuns(variants)).toEqual([
      'mu_init=zero lr_scale=1 seed=0',
      'mu_init=randn mu_std=0.02 lr_scale=0.1 seed=0',
      'mu_init=randn mu_std=1 lr_scale=0.1 seed=1',
    ]);
  });

  it('keeps longer names where suffixes clash, quotes strings with spaces, and labels a lone run', () => {
    expect(
      labelRuns([
        { 'train.batch_size': 8, 'eval.batch_size': 8 },
        { 'train.batch_size': 16, 'eval.batch_size': 8 },
      ]),
    ).toEqual(['train.batch_size=8', 'train.batch_size=16']);
    expect(labelRuns([{ name: 'a b' }, { name: 'c' }])).toEqual(['name="a b"', 'name=c']);
    expect(labelRuns([{ 'train.steps': 10 }])).toEqual(['steps=10']);
    expect(labelRuns([{}])).toEqual(['base']);
  });

  it('stays unique even for equal variants', () => {
    expect(labelRuns([{ a: 1 }, { a: 1 }])).toEqual(['base #0', 'base #1']);
  });
});

describe('flattenVariant', () => {
  it('lets later parameters override earlier ones, leaf by leaf', () => {
    expect([...flattenVariant({ prior: { mu_init: 'zero', mu_std: 2 }, 'prior.mu_init': 'data' })]).toEqual([
      ['prior.mu_std', 2],
      ['prior.mu_init', 'data'],
    ]);
  });
});

describe('shortNames', () => {
  it('uses the shortest suffix no other path ends with', () => {
    expect(Object.fromEntries(shortNames(['prior.mu_init', 'model.width', 'train.lr', 'prior.lr']))).toEqual({
      'prior.mu_init': 'mu_init',
      'model.width': 'width',
      'train.lr': 'train.lr',
      'prior.lr': 'prior.lr',
    });
  });
});
