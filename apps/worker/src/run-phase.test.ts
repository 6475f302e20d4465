import { describe, expect, it } from '@jest/globals';
import { eventsLeft, FIRST_CLASSIFIER_LABEL, PhaseTracker } from './run-phase';

describe('run phases', () => {
  it('counts the evals (or checkpoints) still to come, the final one included', () => {
    expect(eventsLeft(0, 20, 10)).toBe(2); // step 10, final at 20
    expect(eventsLeft(5, 20, 10)).toBe(2);
    expect(eventsLeft(10, 20, 10)).toBe(1); // the one at 10 is the current one
    expect(eventsLeft(19, 20, 10)).toBe(1);
    expect(eventsLeft(20, 20, 10)).toBe(0);
    expect(eventsLeft(0, 25, 10)).toBe(3); // 10, 20, final 25
    expect(eventsLeft(3, 20, 0)).toBe(1); // no periodic evals: the final one
  });

  it('labels each phase, says when the classifier is first awaited, and adds the evals to come to the ETA once one was timed', () => {
    let t = 0;
    const tr = new PhaseTracker({ totalSteps: 30, evalEverySteps: 10, checkpointEverySteps: 0 }, () => t);
    expect(tr.info()).toMatchObject({ phase: 'starting', evalSec: null });
    t = 1000;
    tr.enter('training', 1);
    expect(tr.etaSec(29)).toEqual({ etaSec: 29, etaIncludesEvals: false }); // no eval timed yet: the bar says "+ evals"
    t = 10_000;
    tr.enter('eval-nll', 10);
    expect(tr.info()).toMatchObject({ phase: 'eval-nll', phaseLabel: 'eval: held-out NLL', phaseSince: 10_000, evalsLeft: 2 });
    t = 12_000;
    tr.enter('eval-sampling');
    t = 14_000;
    tr.enter('eval-classifier');
    expect(tr.info().phaseLabel).toBe(FIRST_CLASSIFIER_LABEL);
    t = 60_000; // 46 s: the classifier was trained; not a typical eval's cost
    tr.enter('training', 11);
    expect(tr.info().evalSec).toBe(4);
    // 19 steps at 1 step/s, then the evals at 20 and 30 at 4 s each
    expect(tr.etaSec(19)).toEqual({ etaSec: 19 + 2 * 4, etaIncludesEvals: true });
    t = 70_000;
    tr.enter('eval-nll', 20);
    t = 71_000;
    tr.enter('eval-classifier');
    expect(tr.info().phaseLabel).toBe('eval: digit classifier labelling');
    // In the eval at 20 for 1 s: ~3 s of it left, then the final one at 30, then 10 steps.
    expect(tr.etaSec(10)).toEqual({ etaSec: 10 + 4 + 3, etaIncludesEvals: true });
  });

  it('enter is a no-op within the same phase', () => {
    const tr = new PhaseTracker({ totalSteps: 10, evalEverySteps: 0, checkpointEverySteps: 5 }, () => 0);
    expect(tr.enter('training', 1)).toBe(true);
    expect(tr.enter('training', 2)).toBe(false);
    expect(tr.enter('checkpoint', 5)).toBe(true);
  });
});
