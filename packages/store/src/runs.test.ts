import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Store } from './open-store';
import {
  attachRuns,
  getRun,
  getSweep,
  insertRuns,
  runsBySweep,
  runStatusCounts,
  setRunsStatus,
  setRunStatus,
  sweepsOfRun,
  upsertSweep,
  variantGroupOf,
  type RunInput,
} from './runs';
import { tempStore } from './test-utils/fixtures';

let store: Store;
let cleanup: () => void;
beforeEach(() => {
  ({ store, cleanup } = tempStore());
  upsertSweep(store, { id: 's1', name: 'mu-init', file: 'sweeps/mu-init.yaml', spec: { a: 1 } }, 100);
});
afterEach(() => cleanup());

const run = (i: number, seed = i % 2): RunInput => ({
  id: `r${i}`,
  idx: i,
  label: `mu_init=zero seed=${seed}`,
  variant: { 'prior.mu_init': 'zero', seed },
  config: { seed },
});

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
    expect(rows[0]).toMatchObject({
      sweepId: 's1',
      idx: 0,
      label: 'mu_init=zero seed=0',
      variantGroup: 'prior.mu_init=zero',
      variantJson: { 'prior.mu_init': 'zero', seed: 0 },
      configJson: { seed: 0 },
      addedAt: 5,
    });
  });

  it('inserts a big sweep in chunks, and links it to a second sweep without creating anything', () => {
    const many = Array.from({ length: 1234 }, (_, i) => run(i));
    expect(insertRuns(store, 's1', many)).toHaveLength(1234);
    expect(insertRuns(store, 's1', many)).toHaveLength(0);
    expect(runStatusCounts(store, 's1').total).toBe(1234);
    upsertSweep(store, { id: 's2', name: 'again', file: 'sweeps/again.yaml', spec: {} }, 100);
    const res = attachRuns(store, 's2', many);
    expect(res.created).toHaveLength(0);
    expect(res.linked).toEqual(many.map((r) => r.id));
    expect(runStatusCounts(store, 's2').total).toBe(1234);
  });

  it('variantGroupOf drops the seed only', () => {
    expect(variantGroupOf({ 'prior.mu_init': 'randn', 'prior.mu_std': 0.02, seed: 3, 'data.split_seed': 1 })).toBe(
      'prior.mu_init=randn prior.mu_std=0.02 data.split_seed=1',
    );
    expect(variantGroupOf({ seed: 1 })).toBe('(base)');
  });

  it('setRunStatus honours `from`, stamps finished_at, and requeue clears the outcome', () => {
    insertRuns(store, 's1', [run(0), run(1)], 5);
    expect(setRunStatus(store, 'r0', 'cancelled', { from: ['queued', 'running'], now: 10 })).toBe(true);
    expect(setRunStatus(store, 'r0', 'cancelled', { from: ['queued', 'running'], now: 11 })).toBe(false);
    expect(getRun(store, 'r0')).toMatchObject({ status: 'cancelled', finishedAt: 10 });
    expect(setRunStatus(store, 'r1', 'failed', { error: 'no GPU', now: 12 })).toBe(true);
    expect(setRunStatus(store, 'r1', 'queued', { now: 13 })).toBe(true);
    expect(getRun(store, 'r1')).toMatchObject({ status: 'queued', queuedAt: 13, finishedAt: null, finalStep: null, elapsedMs: null, error: null });
    expect(setRunStatus(store, 'nope', 'failed')).toBe(false);
  });

  it('setRunsStatus: --retry-failed requeues failed runs only, keeping attempts; cancel takes queued and running ones', () => {
    insertRuns(store, 's1', [run(0), run(1), run(2), run(3)], 5);
    store.sqlite
      .prepare(`UPDATE runs SET status = 'failed', attempts = 3, error = 'OOM', finished_at = 9, final_step = 40, elapsed_ms = 700 WHERE id = 'r0'`)
      .run();
    setRunStatus(store, 'r1', 'succeeded', { now: 8 });
    setRunStatus(store, 'r2', 'running');

    expect(setRunsStatus(store, ['r3', 'r0', 'r1', 'r0', 'ghost'], 'queued', { from: ['failed'], now: 20 })).toEqual(['r0']);
    expect(getRun(store, 'r0')).toMatchObject({ status: 'queued', attempts: 3, error: null, finishedAt: null, finalStep: null, elapsedMs: null, queuedAt: 20 });
    expect(getRun(store, 'r1')).toMatchObject({ status: 'succeeded', finishedAt: 8 });
    expect(getRun(store, 'r3')?.queuedAt).toBe(5); // already queued: `from` excludes it, nothing changes

    expect(setRunsStatus(store, ['r0', 'r1', 'r2', 'r3'], 'cancelled', { from: ['queued', 'running'], now: 30 })).toEqual(['r0', 'r2', 'r3']);
    expect(runStatusCounts(store, 's1')).toMatchObject({ cancelled: 3, succeeded: 1, total: 4 });
    expect(getRun(store, 'r2')).toMatchObject({ status: 'cancelled', finishedAt: 30 });
    expect(setRunsStatus(store, ['r0', 'r1', 'r2', 'r3'], 'cancelled', { from: ['queued', 'running'] })).toEqual([]);
    expect(setRunsStatus(store, [], 'queued')).toEqual([]);
  });

  it('setRunsStatus changes many runs in chunks', () => {
    const many = Array.from({ length: 1234 }, (_, i) => run(i));
    insertRuns(store, 's1', many, 5);
    expect(
      setRunsStatus(
        store,
        many.map((r) => r.id),
        'cancelled',
        { from: ['queued'] },
      ),
    ).toHaveLength(1234);
    expect(runStatusCounts(store, 's1')).toMatchObject({ cancelled: 1234, queued: 0 });
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

describe('runs shared by sweeps', () => {
  // s1 is like prior-init-mini (4 μ inits); s2 like prior-init-lr (4 μ inits × lr_scale 1, 0.1): the same config, so
  // the same run id, for lr_scale 1. Each sweep has its own idx, label and variant for the shared runs.
  const INITS = ['zero', 'randn-0.02', 'randn-1', 'data'];
  const mini = INITS.map((m, i): RunInput => ({
    id: `run-${m}-lr1`,
    idx: i,
    label: `mu_init=${m}`,
    variant: { 'prior.mu_init': m },
    config: { mu: m, lr: 1 },
  }));
  const lr = INITS.flatMap((m, i) =>
    [1, 0.1].map((scale, j): RunInput => ({
      id: `run-${m}-lr${scale}`,
      idx: i * 2 + j,
      label: `mu_init=${m} lr_scale=${scale}`,
      variant: { 'prior.mu_init': m, 'prior.lr_scale': scale },
      config: { mu: m, lr: scale },
    })),
  );
  const count = (table: string): number => (store.sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

  beforeEach(() => {
    upsertSweep(store, { id: 's2', name: 'prior-init-lr', file: 'sweeps/prior-init-lr.yaml', spec: {} }, 100);
  });

  it('creates a run once and lists it in both sweeps, each with its own idx, label and variant', () => {
    expect(attachRuns(store, 's1', mini, 5)).toEqual({ created: mini.map((r) => r.id), linked: mini.map((r) => r.id), unlinked: [] });
    const res = attachRuns(store, 's2', lr, 6);
    expect(res.created).toEqual(lr.filter((r) => r.id.endsWith('lr0.1')).map((r) => r.id));
    expect(res.linked).toEqual(lr.map((r) => r.id));
    expect(count('runs')).toBe(8);
    expect(count('sweep_runs')).toBe(12);

    expect(runsBySweep(store, 's1').map((r) => [r.idx, r.id, r.label])).toEqual(mini.map((r) => [r.idx, r.id, r.label]));
    const inS2 = runsBySweep(store, 's2');
    expect(inS2.map((r) => [r.idx, r.id, r.label])).toEqual(lr.map((r) => [r.idx, r.id, r.label]));
    // The shared run: created by s1 (queued_at 5), linked to s2 at 6 with s2's place and variant.
    expect(inS2[2]).toMatchObject({
      id: 'run-randn-0.02-lr1',
      sweepId: 's2',
      idx: 2,
      variantJson: { 'prior.mu_init': 'randn-0.02', 'prior.lr_scale': 1 },
      variantGroup: 'prior.mu_init=randn-0.02 prior.lr_scale=1',
      queuedAt: 5,
      addedAt: 6,
    });
    expect(runsBySweep(store, 's1')[1]).toMatchObject({
      id: 'run-randn-0.02-lr1',
      sweepId: 's1',
      idx: 1,
      variantGroup: 'prior.mu_init=randn-0.02',
      addedAt: 5,
    });
    expect(getRun(store, 'run-zero-lr1')).toEqual({
      id: 'run-zero-lr1',
      configJson: { mu: 'zero', lr: 1 },
      status: 'queued',
      attempts: 0,
      workerHost: null,
      workerId: null,
      backend: null,
      device: null,
      resumedFrom: null,
      startedEntry: null,
      queuedAt: 5,
      startedAt: null,
      finishedAt: null,
      finalStep: null,
      elapsedMs: null,
      error: null,
    });
    expect(sweepsOfRun(store, 'run-zero-lr1')).toEqual(['s1', 's2']);
    expect(sweepsOfRun(store, 'run-zero-lr0.1')).toEqual(['s2']);
    expect(sweepsOfRun(store, 'ghost')).toEqual([]);
  });

  it('re-inserting is a no-op: no run, link, status or field changes', () => {
    attachRuns(store, 's1', mini, 5);
    attachRuns(store, 's2', lr, 6);
    const before = [
      store.sqlite.prepare('SELECT * FROM runs ORDER BY id').all(),
      store.sqlite.prepare('SELECT * FROM sweep_runs ORDER BY sweep_id, run_id').all(),
    ];
    expect(attachRuns(store, 's2', lr, 7)).toEqual({ created: [], linked: [], unlinked: [] });
    expect(insertRuns(store, 's1', mini, 8)).toEqual([]);
    // Even with other labels (an edited sweep file): a membership keeps the idx, label and variant it was linked with.
    expect(
      attachRuns(
        store,
        's1',
        mini.map((r) => ({ ...r, idx: r.idx + 10, label: 'changed' })),
        9,
      ),
    ).toEqual({ created: [], linked: [], unlinked: [] });
    expect([
      store.sqlite.prepare('SELECT * FROM runs ORDER BY id').all(),
      store.sqlite.prepare('SELECT * FROM sweep_runs ORDER BY sweep_id, run_id').all(),
    ]).toEqual(before);
  });

  it('with replace (an edited sweep file): links are refreshed and runs the file dropped are unlinked, their rows kept', () => {
    attachRuns(store, 's1', mini, 5);
    attachRuns(store, 's2', lr, 6);
    const kept = mini.slice(1).map((r, i) => ({ ...r, idx: i, label: `now ${r.label}` }));
    expect(attachRuns(store, 's1', kept, 9, { replace: true })).toEqual({ created: [], linked: [], unlinked: [mini[0]?.id] });
    expect(store.sqlite.prepare("SELECT run_id AS id, idx, label FROM sweep_runs WHERE sweep_id = 's1' ORDER BY idx").all()).toEqual(
      kept.map((r) => ({ id: r.id, idx: r.idx, label: r.label })),
    );
    expect(getRun(store, mini[0]?.id ?? '')).toBeDefined(); // the run and its results stay
    expect(sweepsOfRun(store, mini[0]?.id ?? '')).toEqual(['s2']); // still in the other sweep
  });

  it('a run that already ran keeps its status and outcome when another sweep takes it in', () => {
    attachRuns(store, 's1', mini, 5);
    setRunStatus(store, 'run-zero-lr1', 'succeeded', { now: 50 });
    setRunStatus(store, 'run-data-lr1', 'failed', { error: 'OOM', now: 51 });
    const res = attachRuns(store, 's2', lr, 60);
    expect(res.created).not.toContain('run-zero-lr1');
    expect(res.linked).toContain('run-zero-lr1');
    expect(getRun(store, 'run-zero-lr1')).toMatchObject({ status: 'succeeded', finishedAt: 50, queuedAt: 5 });
    expect(getRun(store, 'run-data-lr1')).toMatchObject({ status: 'failed', error: 'OOM' });
    expect(runStatusCounts(store, 's2')).toEqual({ queued: 6, running: 0, succeeded: 1, failed: 1, cancelled: 0, diverged: 0, total: 8 });
  });

  it('status counts of both sweeps see a shared run change', () => {
    attachRuns(store, 's1', mini, 5);
    attachRuns(store, 's2', lr, 6);
    setRunStatus(store, 'run-randn-1-lr1', 'running');
    setRunStatus(store, 'run-randn-1-lr0.1', 'diverged');
    expect(runStatusCounts(store, 's1')).toEqual({ queued: 3, running: 1, succeeded: 0, failed: 0, cancelled: 0, diverged: 0, total: 4 });
    expect(runStatusCounts(store, 's2')).toEqual({ queued: 6, running: 1, succeeded: 0, failed: 0, cancelled: 0, diverged: 1, total: 8 });
  });

  it('deleting a sweep drops its links only; the runs and the other sweep keep them', () => {
    attachRuns(store, 's1', mini, 5);
    attachRuns(store, 's2', lr, 6);
    store.sqlite.prepare(`DELETE FROM sweeps WHERE id = 's2'`).run();
    expect(count('sweep_runs')).toBe(4);
    expect(count('runs')).toBe(8);
    expect(runsBySweep(store, 's1').map((r) => r.id)).toEqual(mini.map((r) => r.id));
  });

  it('attaching to a sweep that does not exist fails as a whole: no run is created', () => {
    expect(() => attachRuns(store, 'no-such-sweep', lr)).toThrow(/FOREIGN KEY/);
    expect(count('runs')).toBe(0);
    expect(count('sweep_runs')).toBe(0);
  });
});
