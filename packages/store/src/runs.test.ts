import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Store } from './open-store';
import { getRun, getSweep, insertRuns, runsBySweep, runStatusCounts, setRunStatus, upsertSweep, variantGroupOf, type RunInput } from './runs';
import { tempStore } from './test-utils/fixtures';

let store: Store;
let cleanup: () => void;
beforeEach(() => {
  ({ store, cleanup } = tempStore());
  upsertSweep(store, { id: 's1', name: 'mu-init', file: 'sweeps/mu-init.yaml', spec: { a: 1 } }, 100);
});
afterEach(() => cleanup());

const run = (i: number, seed = i % 2): RunInput => ({ id: `r${i}`, idx: i, label: `mu_init=zero seed=${seed}`, variant: { 'prior.mu_init': 'zero', seed }, config: { seed } });

describe('sweeps and runs', () => {
  it('upsertSweep creates, then updates name, file and spec but keeps created_at', () => {
    upsertSweep(store, { id: 's1', name: 'renamed', file: 'sweeps/b.yaml', spec: { b: 2 } }, 200);
    expect(getSweep(store, 's1')).toEqual({ id: 's1', name: 'renamed', file: 'sweeps/b.yaml', specJson: { b: 2 }, createdAt: 100, updatedAt: 200 });
  });

  it('insertRuns twice inserts once and says which ids are new', () => {
    expect(insertRuns(store, 's1', [run(0), run(1)], 5)).toEqual(['r0', 'r1']);
    expect(insertRuns(store, 's1', [run(0), run(1)], 6)).toEqual([]);
    expect(insertRuns(store, 's1', [run(1), run(2), run(2)], 7)).toEqual(['r2']);
    const rows = runsBySweep(store, 's1');
    expect(rows.map((r) => [r.id, r.status, r.queuedAt, r.attempts])).toEqual([
      ['r0', 'queued', 5, 0],
      ['r1', 'queued', 5, 0],
      ['r2', 'queued', 7, 0],
    ]);
    expect(rows[0]).toMatchObject({ label: 'mu_init=zero seed=0', variantGroup: 'prior.mu_init=zero', variantJson: { 'prior.mu_init': 'zero', seed: 0 }, configJson: { seed: 0 } });
  });

  it('inserts a big sweep in chunks', () => {
    const many = Array.from({ length: 1234 }, (_, i) => run(i));
    expect(insertRuns(store, 's1', many)).toHaveLength(1234);
    expect(insertRuns(store, 's1', many)).toHaveLength(0);
    expect(runStatusCounts(store, 's1').total).toBe(1234);
  });

  it('variantGroupOf drops the seed only', () => {
    expect(variantGroupOf({ 'prior.mu_init': 'randn', 'prior.mu_std': 0.02, seed: 3, 'data.split_seed': 1 })).toBe('prior.mu_init=randn prior.mu_std=0.02 data.split_seed=1');
    expect(variantGroupOf({ seed: 1 })).toBe('(base)');
  });

  it('setRunStatus honours `from`, stamps finished_at, and requeue clears the outcome', () => {
    insertRuns(store, 's1', [run(0), run(1)], 5);
    expect(setRunStatus(store, 'r0', 'cancelled', { from: ['queued', 'running'], now: 10 })).toBe(true);
    expect(setRunStatus(store, 'r0', 'cancelled', { from: ['queued', 'running'], now: 11 })).toBe(false);
    expect(getRun(store, 'r0')).toMatchObject({ status: 'cancelled', finishedAt: 10 });
    expect(setRunStatus(store, 'r1', 'failed', { error: 'no GPU', now: 12 })).toBe(true);
    expect(setRunStatus(store, 'r1', 'queued', { now: 13 })).toBe(true);
    expect(getRun(store, 'r1')).toMatchObject({ status: 'queued', queuedAt: 13, finishedAt: null, error: null });
    expect(setRunStatus(store, 'nope', 'failed')).toBe(false);
  });

  it('runStatusCounts lists every status', () => {
    insertRuns(store, 's1', [run(0), run(1), run(2)], 5);
    setRunStatus(store, 'r2', 'running');
    expect(runStatusCounts(store, 's1')).toEqual({ queued: 2, running: 1, succeeded: 0, failed: 0, cancelled: 0, diverged: 0, total: 3 });
    expect(runStatusCounts(store, 'other').total).toBe(0);
  });

  it('the status CHECK constraint refuses unknown statuses', () => {
    insertRuns(store, 's1', [run(0)], 5);
    expect(() => store.sqlite.prepare(`UPDATE runs SET status = 'exploded' WHERE id = 'r0'`).run()).toThrow(/CHECK constraint failed/);
  });
});
