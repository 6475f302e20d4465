import { describe, expect, it } from '@jest/globals';
import { judgementMetrics, judgeSpecs, temperatureTag, type Judgement } from './consistency';

describe('the judges’ metrics', () => {
  it('names temperatures with at least one decimal', () => {
    expect([1, 0.7, 0.75, 2].map(temperatureTag)).toEqual(['t1.0', 't0.7', 't0.75', 't2.0']);
  });

  it('one row per judge, its held-out accuracy, the judges’ mean and their agreement', () => {
    const j: Judgement = {
      step: 300,
      kind: 'raw',
      temperature: 0.7,
      count: 20,
      consistency: 0.65,
      agreement: 0.8,
      firstOfStep: true,
      judges: [
        { name: 'deep', testAccuracy: 0.988, consistency: 0.6, perClass: [], confusion: [] },
        { name: 'shallow', testAccuracy: 0.977, consistency: 0.7, perClass: [], confusion: [] },
      ],
    };
    expect(judgementMetrics(j)).toEqual([
      { step: 300, name: 'eval/consistency/raw/t0.7', value: 0.65 },
      { step: 300, name: 'eval/judge_agreement/raw/t0.7', value: 0.8 },
      { step: 300, name: 'eval/consistency/raw/t0.7/deep', value: 0.6 },
      { step: 300, name: 'eval/consistency/raw/t0.7/shallow', value: 0.7 },
      { step: 300, name: 'eval/judge_accuracy/deep', value: 0.988 },
      { step: 300, name: 'eval/judge_accuracy/shallow', value: 0.977 },
    ]);
    expect(judgementMetrics({ ...j, firstOfStep: false }).map((r) => r.name)).not.toContain('eval/judge_accuracy/deep'); // once per step
  });

  it('CLASSIFIER_EPOCHS shortens both judges’ recipes (a separate cache entry); anything but a positive integer is an error', () => {
    expect(judgeSpecs({}).map((j) => [j.name, j.training.epochs])).toEqual([
      ['deep', 24],
      ['shallow', 10],
    ]);
    expect(judgeSpecs({ CLASSIFIER_EPOCHS: '1' }).map((j) => j.training.epochs)).toEqual([1, 1]);
    expect(() => judgeSpecs({ CLASSIFIER_EPOCHS: '0' })).toThrow(/CLASSIFIER_EPOCHS: expected a positive integer, got "0"/);
  });
});
