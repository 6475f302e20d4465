import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { RunEvent } from '@ablate/events';
import { applyEvents } from './apply-events';
import type { Store } from './open-store';
import { latestMetricsOfRun, metricSeries, runResultsBySweep, sweepResultsBySweep } from './results';
import { attachRuns, getRun, setRunStatus, upsertSweep } from './runs';
import { dump, scriptedRun, seedSweep, T0, tempStore } from './test-utils/fixtures';

let store: Store;
let cleanup: () => void;
let ids: string[];
beforeEach(() => {
  ({ store, cleanup } = tempStore());
  ids = seedSweep(store, 4);
});
afterEach(() => cleanup());

const count = (sql: string, ...params: unknown[]): number => (store.sqlite.prepare(sql).get(...params) as { n: number }).n;
const r0 = (): string => ids[0] ?? '';

describe('applyEvents', () => {
  it('writes the rows of a run and its status', () => {
    const res = applyEvents(store, scriptedRun(r0()));
    expect(res).toMatchObject({ events: 26, applied: 26, unknownRun: 0, ignored: 0 });
    expect(count('SELECT count(*) AS n FROM metrics WHERE run_id = ?', r0())).toBe(10 * 2 + 3);
    expect(count('SELECT count(*) AS n FROM mu_norms WHERE run_id = ?', r0())).toBe(11 * 3);
    expect(count('SELECT count(*) AS n FROM checkpoints')).toBe(1);
    expect(count('SELECT count(*) AS n FROM artifacts')).toBe(1);
    expect(res.rowsWritten).toBe(23 + 33 + 1 + 1 + 2); // + two updates of the runs row
    expect(getRun(store, r0())).toMatchObject({
      status: 'succeeded',
      attempts: 1,
      workerHost: 'h1',
      workerId: 'h1:1',
      backend: 'cpu',
      device: 'cpu',
      resumedFrom: null,
      startedAt: T0,
      finishedAt: T0 + 1234,
      finalStep: 100,
      elapsedMs: 1234,
      error: null,
    });
  });

  it('replaying the same batch changes nothing', () => {
    const events = scriptedRun(r0());
    applyEvents(store, events);
    const before = dump(store);
    const again = applyEvents(store, events);
    expect(again.rowsWritten).toBe(0);
    expect(again.ignored).toBe(2); // run-started and run-finished are replays
    expect(dump(store)).toEqual(before);
  });

  it('confusion matrices: one row per (step, true, predicted) class, replays change nothing, a resume drops the later ones', () => {
    const id = r0();
    const start = (attempt: number, resumeFrom: number | null, at: number): RunEvent => ({
      kind: 'run-started',
      runId: id,
      attempt,
      host: 'h',
      workerId: 'w',
      backend: 'wasm',
      device: 'cpu',
      resumeFrom,
      at,
    });
    const matrix = (hits: number): number[][] => [
      [hits, 5 - hits],
      [1, 4],
    ];
    const first: RunEvent[] = [
      start(1, null, T0),
      { kind: 'confusion', runId: id, step: 10, matrix: matrix(3) },
      { kind: 'confusion', runId: id, step: 20, matrix: matrix(4) },
    ];
    applyEvents(store, first);
    expect(applyEvents(store, first).rowsWritten).toBe(0);
    expect(store.sqlite.prepare('SELECT step, true_class AS t, predicted_class AS p, count FROM confusion WHERE run_id = ? ORDER BY 1, 2, 3').all(id)).toEqual([
      { step: 10, t: 0, p: 0, count: 3 },
      { step: 10, t: 0, p: 1, count: 2 },
      { step: 10, t: 1, p: 0, count: 1 },
      { step: 10, t: 1, p: 1, count: 4 },
      { step: 20, t: 0, p: 0, count: 4 },
      { step: 20, t: 0, p: 1, count: 1 },
      { step: 20, t: 1, p: 0, count: 1 },
      { step: 20, t: 1, p: 1, count: 4 },
    ]);
    // The attempt died after its step-10 checkpoint: the next one resumes from 10 and writes step 20 again.
    const resumed = applyEvents(store, [start(2, 10, T0 + 1000), { kind: 'confusion', runId: id, step: 20, matrix: matrix(5) }]);
    expect(resumed.rowsDeleted).toBe(4);
    expect(store.sqlite.prepare('SELECT step, count FROM confusion WHERE run_id = ? AND true_class = 0 AND predicted_class = 0 ORDER BY step').all(id)).toEqual(
      [
        { step: 10, count: 3 },
        { step: 20, count: 5 },
      ],
    );
  });

  it('a released run (its worker stopped) is queued again until the next start; a stale release changes nothing', () => {
    const id = r0();
    const start = (attempt: number, resumeFrom: number | null, at: number): RunEvent => ({
      kind: 'run-started',
      runId: id,
      attempt,
      host: 'h',
      workerId: 'w',
      backend: 'wasm',
      device: 'cpu',
      resumeFrom,
      at,
    });
    applyEvents(store, [start(1, null, T0)], ['1-0']);
    expect(getRun(store, id)?.status).toBe('running');
    applyEvents(store, [{ kind: 'run-released', runId: id, step: 40, at: T0 + 100 }], ['2-0']);
    expect(getRun(store, id)?.status).toBe('queued');
    applyEvents(store, [start(1, 40, T0 + 200)], ['3-0']);
    expect(getRun(store, id)).toMatchObject({ status: 'running', resumedFrom: 40 });
    // The release of the earlier stint, delivered late: ignored.
    expect(applyEvents(store, [{ kind: 'run-released', runId: id, step: 40, at: T0 + 100 }], ['2-0']).ignored).toBe(1);
    expect(getRun(store, id)?.status).toBe('running');
  });

  it('keeps NaN as NULL and ±Infinity as they are', () => {
    applyEvents(store, [
      {
        kind: 'metrics',
        runId: r0(),
        rows: [
          { step: 1, name: 'grad_norm', value: NaN },
          { step: 1, name: 'x', value: Infinity },
        ],
      },
      { kind: 'mu-norms', runId: r0(), step: 1, norms: [NaN, -Infinity] },
    ]);
    expect(metricSeries(store, r0(), 'grad_norm')).toEqual([{ step: 1, value: null }]);
    expect(metricSeries(store, r0(), 'x')).toEqual([{ step: 1, value: Infinity }]);
    expect(store.sqlite.prepare('SELECT class, norm FROM mu_norms ORDER BY class').all()).toEqual([
      { class: 0, norm: null },
      { class: 1, norm: -Infinity },
    ]);
  });

  it('skips and counts events of unknown runs instead of throwing', () => {
    const res = applyEvents(store, [
      { kind: 'metrics', runId: 'ghost', rows: [{ step: 1, name: 'loss', value: 1 }] },
      { kind: 'run-finished', runId: 'ghost', status: 'failed', finalStep: 0, at: T0 },
      { kind: 'metrics', runId: r0(), rows: [{ step: 1, name: 'loss', value: 1 }] },
    ]);
    expect(res).toMatchObject({ events: 3, applied: 1, unknownRun: 2, unknownRunIds: ['ghost'], rowsWritten: 1 });
  });

  /** Attempt 1 of a run: steps 10..80 (loss 1), a checkpoint at 50, samples at 60, then the worker dies. */
  const attempt1 = (id: string): RunEvent[] => [
    ...scriptedRun(id, { steps: 80, lossAt: () => 1 }).filter(
      (e) => e.kind === 'run-started' || e.kind === 'mu-norms' || (e.kind === 'metrics' && e.rows[0]?.name === 'loss'),
    ),
    { kind: 'checkpoint', runId: id, step: 50, uri: '/a/ckpt-50', bytes: 10, sha256: 'c'.repeat(64) },
    { kind: 'artifact', runId: id, step: 60, artifact: 'samples', uri: '/a/s-60-attempt1.png' },
  ];
  /** Attempt 2 resumes from 50 on another host and writes 60..100 again (loss 2), samples at 60 and 100. */
  const attempt2 = (id: string): RunEvent[] => [
    { kind: 'run-started', runId: id, attempt: 2, host: 'h2', workerId: 'h2:1', backend: 'wasm', device: 'cpu', resumeFrom: 50, at: T0 + 10_000 },
    ...scriptedRun(id, { steps: 100, lossAt: () => 2, at: T0 + 10_000 }).filter(
      (e) => e.kind !== 'run-started' && (e.kind === 'run-finished' || (e.kind === 'metrics' ? (e.rows[0]?.step ?? 0) > 50 : e.step > 50)),
    ),
    { kind: 'artifact', runId: id, step: 60, artifact: 'samples', uri: '/a/s-60-attempt2.png' },
  ];

  it('a resumed attempt replaces the tail of the attempt that died, so each (run, step, metric) exists once', () => {
    const id = r0();
    const a1 = attempt1(id);
    const a2 = attempt2(id);
    applyEvents(store, a1);
    expect(count('SELECT count(*) AS n FROM metrics WHERE name = ?', 'loss')).toBe(8);

    const started = applyEvents(store, a2.slice(0, 1));
    expect(started.rowsDeleted).toBe(3 * 2 + 3 * 3 + 1); // loss and lr at 60..80, mu norms at 60..80 (×3 classes), samples at 60; checkpoint 50 stays
    applyEvents(store, a2.slice(1));
    const state = dump(store);

    expect(metricSeries(store, id, 'loss')).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((step) => ({ step, value: step <= 50 ? 1 : 2 })));
    expect(count('SELECT count(*) AS n FROM (SELECT run_id, step, name FROM metrics GROUP BY 1, 2, 3 HAVING count(*) > 1)')).toBe(0);
    expect(store.sqlite.prepare('SELECT step FROM checkpoints ORDER BY step').all()).toEqual([{ step: 50 }, { step: 100 }]);
    expect(store.sqlite.prepare('SELECT step, uri FROM artifacts ORDER BY step').all()).toEqual([
      { step: 60, uri: '/a/s-60-attempt2.png' },
      { step: 100, uri: `/a/${id}/samples.png` },
    ]);
    expect(getRun(store, id)).toMatchObject({ status: 'succeeded', attempts: 2, workerHost: 'h2', backend: 'wasm', resumedFrom: 50, startedAt: T0 + 10_000 });

    // The whole stream again (a recorder that crashed before XACK): the old attempt's tail and start are no-ops now.
    const replay = applyEvents(store, [...a1, ...a2]);
    expect(replay.rowsWritten).toBe(0);
    expect(replay.rowsDeleted).toBe(0);
    expect(dump(store)).toEqual(state);
  });

  it("with entry ids, a dead attempt's tail delivered after the new start is dropped, not resurrected", () => {
    const id = r0();
    const a1 = attempt1(id);
    const [start2] = attempt2(id);
    if (start2 === undefined) throw new Error('no run-started');
    const ids1 = a1.map((_, i) => `100-${i}`);
    // One batch [attempt 1 …, attempt 2's start] is committed, then the recorder dies before XACK; attempt 2 has written nothing yet.
    applyEvents(store, [...a1, start2], [...ids1, '200-0']);
    expect(count('SELECT count(*) AS n FROM metrics WHERE step > 50')).toBe(0);
    const state = dump(store);
    const replay = applyEvents(store, [...a1, start2], [...ids1, '200-0']);
    expect(replay).toMatchObject({ rowsWritten: 0, rowsDeleted: 0, staleRows: 3 * 2 + 3 * 3 + 1, ignored: 2 }); // both starts are old news
    expect(dump(store)).toEqual(state);
    expect(getRun(store, id)).toMatchObject({ startedEntry: '200-0', resumedFrom: 50 });
  });

  it('a fresh restart (resumeFrom null) of a started run drops all its rows', () => {
    const id = r0();
    applyEvents(store, scriptedRun(id, { steps: 30 }).slice(0, -1));
    const res = applyEvents(store, [
      { kind: 'run-started', runId: id, attempt: 2, host: 'h', workerId: 'w', backend: 'cpu', device: 'cpu', resumeFrom: null, at: T0 + 1 },
    ]);
    expect(res.rowsDeleted).toBeGreaterThan(0);
    expect(count('SELECT count(*) AS n FROM metrics')).toBe(0);
  });

  it('a start after success (a copy that lost its job while cut off from Redis) neither reopens the run nor drops its rows', () => {
    const id = r0();
    applyEvents(store, scriptedRun(id, { steps: 30 }));
    const before = dump(store);
    const late = applyEvents(
      store,
      [{ kind: 'run-started', runId: id, attempt: 1, host: 'h2', workerId: 'w2', backend: 'program', device: 'node', resumeFrom: null, at: T0 + 99_999 }],
      ['9999999999999-0'],
    );
    expect(late).toMatchObject({ applied: 0, ignored: 1, rowsDeleted: 0 });
    expect(dump(store)).toEqual(before);
    expect(getRun(store, id)?.status).toBe('succeeded');
  });

  it('nor does a late start reopen a diverged run (never run again either)', () => {
    const id = r0();
    const run = scriptedRun(id, { steps: 30 });
    const finished = run.at(-1);
    if (finished?.kind !== 'run-finished') throw new Error('scriptedRun ends with run-finished');
    applyEvents(store, [...run.slice(0, -1), { ...finished, status: 'diverged', error: 'loss is NaN at step 30' }]);
    const before = dump(store);
    const late = applyEvents(store, [
      { kind: 'run-started', runId: id, attempt: 1, host: 'h2', workerId: 'w2', backend: 'cpu', device: 'cpu', resumeFrom: null, at: T0 + 99_999 },
    ]);
    expect(late).toMatchObject({ applied: 0, ignored: 1, rowsDeleted: 0 });
    expect(dump(store)).toEqual(before);
    expect(getRun(store, id)?.status).toBe('diverged');
  });

  it('status transitions: never cancelled → failed, never succeeded → anything, stale finishes ignored', () => {
    const [a = '', b = '', c = ''] = ids;
    const start = (runId: string, attempt: number, at: number): RunEvent => ({
      kind: 'run-started',
      runId,
      attempt,
      host: 'h',
      workerId: 'w',
      backend: 'cpu',
      device: 'cpu',
      resumeFrom: null,
      at,
    });
    const finish = (runId: string, status: 'succeeded' | 'failed' | 'cancelled' | 'diverged', at: number): RunEvent => ({
      kind: 'run-finished',
      runId,
      status,
      finalStep: 5,
      at,
    });

    // a: cancelled by the scheduler while running; the worker then crashes: stays cancelled. A real success wins.
    applyEvents(store, [start(a, 1, T0)]);
    setRunStatus(store, a, 'cancelled', { from: ['queued', 'running'] });
    expect(applyEvents(store, [start(a, 2, T0 + 5)]).ignored).toBe(0);
    expect(getRun(store, a)?.status).toBe('cancelled'); // a start does not undo a cancel
    expect(applyEvents(store, [finish(a, 'failed', T0 + 10)]).ignored).toBe(1);
    expect(getRun(store, a)?.status).toBe('cancelled');
    applyEvents(store, [finish(a, 'succeeded', T0 + 11)]);
    expect(getRun(store, a)?.status).toBe('succeeded');
    expect(applyEvents(store, [finish(a, 'failed', T0 + 12), finish(a, 'cancelled', T0 + 13)]).ignored).toBe(2);
    expect(getRun(store, a)?.status).toBe('succeeded');

    // b: attempt 1 fails, attempt 2 starts; attempt 1's failure delivered late again is stale; attempt 2 succeeds.
    applyEvents(store, [start(b, 1, T0), finish(b, 'failed', T0 + 1), start(b, 2, T0 + 2)]);
    expect(getRun(store, b)).toMatchObject({ status: 'running', attempts: 2, finishedAt: null });
    expect(applyEvents(store, [finish(b, 'failed', T0 + 1), start(b, 1, T0)]).ignored).toBe(2);
    expect(getRun(store, b)?.status).toBe('running');
    applyEvents(store, [finish(b, 'succeeded', T0 + 3)]);
    expect(getRun(store, b)).toMatchObject({ status: 'succeeded', attempts: 2 });

    // b again: re-enqueued by the scheduler as a new job, whose attempts start again at 1: still the newest start.
    setRunStatus(store, b, 'queued');
    applyEvents(store, [start(b, 1, T0 + 100)]);
    expect(getRun(store, b)).toMatchObject({ status: 'running', attempts: 1, startedAt: T0 + 100 });

    // c: a stalled job restarted with the same attempt number but later: applied. Diverged is not downgraded to failed.
    applyEvents(store, [start(c, 1, T0), start(c, 1, T0 + 5)]);
    expect(getRun(store, c)?.startedAt).toBe(T0 + 5);
    applyEvents(store, [finish(c, 'diverged', T0 + 6)]);
    expect(applyEvents(store, [finish(c, 'failed', T0 + 7)]).ignored).toBe(1);
    expect(getRun(store, c)).toMatchObject({ status: 'diverged', finalStep: 5 });
  });

  it("with entry ids, starts and finishes are ordered by the stream, not by the workers' clocks", () => {
    const id = r0();
    const start = (attempt: number, at: number): RunEvent => ({
      kind: 'run-started',
      runId: id,
      attempt,
      host: `h${attempt}`,
      workerId: 'w',
      backend: 'cpu',
      device: 'cpu',
      resumeFrom: null,
      at,
    });
    // Attempt 2 runs on a host whose clock is an hour behind attempt 1's.
    applyEvents(store, [start(1, T0 + 3_600_000), start(2, T0)], ['1-0', '2-0']);
    expect(getRun(store, id)).toMatchObject({ workerHost: 'h2', startedEntry: '2-0' });
    // Attempt 1's failure, claimed late from a dead recorder: older in the stream, ignored.
    const late = applyEvents(store, [{ kind: 'run-finished', runId: id, status: 'failed', finalStep: 3, at: T0 + 3_600_100 }], ['1-5']);
    expect(late.ignored).toBe(1);
    applyEvents(store, [{ kind: 'run-finished', runId: id, status: 'succeeded', finalStep: 9, at: T0 + 50 }], ['2-9']);
    expect(getRun(store, id)).toMatchObject({ status: 'succeeded', finalStep: 9 });
  });

  it('the transaction is all or nothing', () => {
    const id = r0();
    store.sqlite.exec(`CREATE TRIGGER boom BEFORE INSERT ON checkpoints BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`);
    expect(() => applyEvents(store, scriptedRun(id))).toThrow('disk on fire');
    expect(count('SELECT count(*) AS n FROM metrics')).toBe(0);
    expect(getRun(store, id)?.status).toBe('queued');
  });
});

describe('views', () => {
  it('latest_metrics, run_results and sweep_results for a small scripted sweep', () => {
    const [a = '', b = '', c = '', d = ''] = ids; // a, b: mu_init=zero seeds 0, 1; c, d: mu_init=randn seeds 0, 1
    applyEvents(store, [
      ...scriptedRun(a, { lossAt: (s) => 10 / s }),
      ...scriptedRun(b, { lossAt: (s) => 20 / s }).map((e): RunEvent =>
        e.kind === 'metrics' && e.rows[0]?.name === 'eval/nll' ? { ...e, rows: e.rows.map((r) => (r.name === 'eval/bpd' ? { ...r, value: 1.5 } : r)) } : e,
      ),
      ...scriptedRun(c),
      { kind: 'metrics', runId: a, rows: [{ step: 100, name: 'eval/class_consistency', value: 0.6 }] },
      {
        kind: 'metrics',
        runId: b,
        rows: [
          { step: 50, name: 'eval/class_consistency', value: 0.2 },
          { step: 100, name: 'eval/class_consistency', value: 0.6 },
        ],
      },
      { kind: 'run-started', runId: d, attempt: 1, host: 'h', workerId: 'w', backend: 'cpu', device: 'cpu', resumeFrom: null, at: T0 },
      { kind: 'run-finished', runId: d, status: 'diverged', finalStep: 7, at: T0 + 9 },
    ]);

    expect(latestMetricsOfRun(store, a)).toEqual([
      { runId: a, name: 'eval/accuracy', step: 100, value: 0.8 },
      { runId: a, name: 'eval/bpd', step: 100, value: 1.3 },
      { runId: a, name: 'eval/class_consistency', step: 100, value: 0.6 },
      { runId: a, name: 'eval/nll', step: 100, value: 0.9 },
      { runId: a, name: 'loss', step: 100, value: 0.1 },
      { runId: a, name: 'lr', step: 100, value: 1e-3 },
    ]);

    const rr = runResultsBySweep(store, 's1');
    expect(rr).toHaveLength(4);
    expect(rr[0]).toEqual({
      runId: a,
      sweepId: 's1',
      sweepName: 'mu-init',
      idx: 0,
      label: 'mu_init=zero seed=0',
      variantGroup: 'prior.mu_init=zero',
      variantJson: { 'prior.mu_init': 'zero', seed: 0 },
      status: 'succeeded',
      attempts: 1,
      backend: 'cpu',
      device: 'cpu',
      finalStep: 100,
      finalLoss: 0.1,
      finalEvalNll: 0.9,
      finalEvalBpd: 1.3,
      finalEvalAccuracy: 0.8,
      finalClassConsistency: 0.6,
      finalConsistencyT1: null,
      finalConsistencyT07: null,
      finalConsistencyDenoised: null,
      finalJudgeAgreementT1: null,
      seed: 0,
      muNormInit: 2,
      muNormFinal: 3,
      elapsedMs: 1234,
      startedAt: T0,
      finishedAt: T0 + 1234,
      error: null,
    });
    expect(rr[3]).toMatchObject({ runId: d, status: 'diverged', finalLoss: null, muNormInit: null, finalStep: 7 });

    const sr = sweepResultsBySweep(store, 's1');
    expect(sr).toHaveLength(2);
    expect(sr[0]).toMatchObject({
      sweepId: 's1',
      sweepName: 'mu-init',
      variantGroup: 'prior.mu_init=zero',
      firstIdx: 0,
      runs: 2,
      succeeded: 2,
      failed: 0,
      diverged: 0,
      cancelled: 0,
      unfinished: 0,
      meanEvalNll: 0.9,
      minEvalBpd: 1.3,
      maxEvalBpd: 1.5,
      meanEvalAccuracy: 0.8,
      meanClassConsistency: 0.6,
      meanMuNormInit: 2,
      meanMuNormFinal: 3,
      meanElapsedMs: 1234,
    });
    expect(sr[0]?.meanFinalLoss).toBeCloseTo(0.15, 12);
    expect(sr[0]?.meanEvalBpd).toBeCloseTo(1.4, 12);
    expect(sr[1]).toMatchObject({ variantGroup: 'prior.mu_init=randn', firstIdx: 2, runs: 2, succeeded: 1, diverged: 1, meanEvalBpd: 1.3 });
  });

  it('two sweeps sharing runs: run_results has a row per membership, sweep_results groups each sweep by its own variants', () => {
    const [a = '', b = '', c = ''] = ids; // s1: a, b = mu_init=zero seeds 0, 1; c = mu_init=randn seed 0
    // s2 takes a and b in as lr_scale=1 (same configs), and has two runs of its own with lr_scale=0.1.
    upsertSweep(store, { id: 's2', name: 'mu-init-lr', file: 'sweeps/mu-init-lr.yaml', spec: {} }, T0);
    const v = (seed: number, scale: number) => ({ 'prior.mu_init': 'zero', 'prior.lr_scale': scale, seed });
    expect(
      attachRuns(
        store,
        's2',
        [
          { id: a, idx: 0, label: 'lr_scale=1 seed=0', variant: v(0, 1), config: {} },
          { id: 'x0', idx: 1, label: 'lr_scale=0.1 seed=0', variant: v(0, 0.1), config: { lr: 0.1, seed: 0 } },
          { id: b, idx: 2, label: 'lr_scale=1 seed=1', variant: v(1, 1), config: {} },
          { id: 'x1', idx: 3, label: 'lr_scale=0.1 seed=1', variant: v(1, 0.1), config: { lr: 0.1, seed: 1 } },
        ],
        T0 + 1,
      ),
    ).toEqual({ created: ['x0', 'x1'], linked: [a, 'x0', b, 'x1'], unlinked: [] });
    applyEvents(store, [
      ...scriptedRun(a, { lossAt: (s) => 10 / s }),
      ...scriptedRun(b, { lossAt: (s) => 20 / s }),
      ...scriptedRun('x0', { lossAt: () => 5 }),
      ...scriptedRun(c),
      { kind: 'run-started', runId: 'x1', attempt: 1, host: 'h', workerId: 'w', backend: 'cpu', device: 'cpu', resumeFrom: null, at: T0 },
    ]);

    expect(count('SELECT count(*) AS n FROM run_results')).toBe(4 + 4);
    const rowsOfA = store.sqlite.prepare('SELECT sweep_id, idx, label, final_loss, status FROM run_results WHERE run_id = ? ORDER BY sweep_id').all(a);
    expect(rowsOfA).toEqual([
      { sweep_id: 's1', idx: 0, label: 'mu_init=zero seed=0', final_loss: 0.1, status: 'succeeded' },
      { sweep_id: 's2', idx: 0, label: 'lr_scale=1 seed=0', final_loss: 0.1, status: 'succeeded' },
    ]);

    const rr2 = runResultsBySweep(store, 's2');
    expect(rr2.map((r) => [r.idx, r.runId, r.sweepName, r.label, r.status])).toEqual([
      [0, a, 'mu-init-lr', 'lr_scale=1 seed=0', 'succeeded'],
      [1, 'x0', 'mu-init-lr', 'lr_scale=0.1 seed=0', 'succeeded'],
      [2, b, 'mu-init-lr', 'lr_scale=1 seed=1', 'succeeded'],
      [3, 'x1', 'mu-init-lr', 'lr_scale=0.1 seed=1', 'running'],
    ]);
    expect(rr2[0]).toMatchObject({
      sweepId: 's2',
      variantGroup: 'prior.mu_init=zero prior.lr_scale=1',
      variantJson: v(0, 1),
      finalEvalBpd: 1.3,
      muNormInit: 2,
      muNormFinal: 3,
    });
    expect(runResultsBySweep(store, 's1').map((r) => [r.runId, r.label])).toEqual(
      ids.map((id, i) => [id, ['mu_init=zero seed=0', 'mu_init=zero seed=1', 'mu_init=randn seed=0', 'mu_init=randn seed=1'][i]]),
    );

    const sr2 = sweepResultsBySweep(store, 's2');
    expect(sr2.map((g) => [g.variantGroup, g.firstIdx, g.runs, g.succeeded, g.unfinished])).toEqual([
      ['prior.mu_init=zero prior.lr_scale=1', 0, 2, 2, 0],
      ['prior.mu_init=zero prior.lr_scale=0.1', 1, 2, 1, 1],
    ]);
    expect(sr2[0]?.meanFinalLoss).toBeCloseTo(0.15, 12);
    expect(sr2[1]).toMatchObject({ sweepId: 's2', sweepName: 'mu-init-lr', meanFinalLoss: 5, meanEvalBpd: 1.3 });
    // s1 sees the shared runs with its own grouping, unchanged by s2.
    const sr1 = sweepResultsBySweep(store, 's1');
    expect(sr1.map((g) => [g.variantGroup, g.firstIdx, g.runs, g.succeeded, g.unfinished])).toEqual([
      ['prior.mu_init=zero', 0, 2, 2, 0],
      ['prior.mu_init=randn', 2, 2, 1, 1],
    ]);
    expect(sr1[0]?.meanFinalLoss).toBeCloseTo(0.15, 12);
    expect(count(`SELECT count(*) AS n FROM sweep_results`)).toBe(4);
  });
});
