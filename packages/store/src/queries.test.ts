import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Store } from './open-store';
import { openStore } from './open-store';
import {
  dataVersion,
  estimateEtaSec,
  findSweepId,
  listSweeps,
  newestArtifactsBySweep,
  runProgressBySweep,
  metricSeriesOfRuns,
  muNormSeriesOfRuns,
  runIdsOfSweep,
  sweepSummary,
  variantStatusCounts,
} from './queries';
import { insertRuns, setRunStatus, upsertSweep, type RunInput } from './runs';
import { tempStore } from './test-utils/fixtures';

let store: Store;
let cleanup: () => void;
beforeEach(() => {
  ({ store, cleanup } = tempStore());
  upsertSweep(store, { id: 's1', name: 'mu-init', file: 'sweeps/mu-init.yaml', spec: {} }, 100);
  upsertSweep(store, { id: 's2', name: 'other', file: 'sweeps/other.yaml', spec: {} }, 200);
});
afterEach(() => cleanup());

const run = (i: number, init: string, seed: number): RunInput => ({
  id: `r${i}`,
  idx: i,
  label: `mu_init=${init} seed=${seed}`,
  variant: { 'prior.mu_init': init, seed },
  config: { seed, train: { steps: 100 } },
});
const metric = (runId: string, step: number, name: string, value: number) =>
  store.sqlite.prepare('INSERT INTO metrics (run_id, step, name, value) VALUES (?, ?, ?, ?)').run(runId, step, name, value);

describe('status queries', () => {
  beforeEach(() => {
    insertRuns(store, 's1', [run(0, 'zero', 0), run(1, 'zero', 1), run(2, 'data', 0), run(3, 'data', 1)], 5);
    insertRuns(store, 's2', [run(9, 'zero', 0)], 5);
    store.sqlite.prepare("UPDATE runs SET status = 'running', started_at = 1000, worker_host = 'h', worker_id = 'w1' WHERE id = 'r0'").run();
    setRunStatus(store, 'r1', 'failed', { error: 'out of memory', now: 50 });
    setRunStatus(store, 'r2', 'succeeded', { now: 60 });
    metric('r0', 10, 'loss', 2.5);
    metric('r0', 20, 'loss', 2.0);
    metric('r0', 20, 'eval/bpd', 6.1);
    metric('r2', 100, 'loss', 1.0);
  });

  it('lists sweeps with their counts, and finds a sweep by id or name', () => {
    const all = listSweeps(store);
    expect(all.map((s) => [s.id, s.counts.total, s.counts.running, s.counts.failed, s.counts.queued])).toEqual([
      ['s1', 4, 1, 1, 1],
      ['s2', 1, 0, 0, 1],
    ]);
    expect(findSweepId(store, 's1')).toBe('s1');
    expect(findSweepId(store, 'other')).toBe('s2');
    expect(findSweepId(store, 'nope')).toBeUndefined();
  });

  it('counts per variant (seed dropped), in sweep order', () => {
    expect(
      variantStatusCounts(store, 's1').map((v) => [v.variantGroup, v.counts.total, v.counts.running, v.counts.failed, v.counts.succeeded, v.counts.queued]),
    ).toEqual([
      ['prior.mu_init=zero', 2, 1, 1, 0, 0],
      ['prior.mu_init=data', 2, 0, 0, 1, 1],
    ]);
  });

  it('gives each run its newest loss step, and pages and filters', () => {
    const rows = runProgressBySweep(store, 's1');
    expect(rows.map((r) => [r.runId, r.status, r.step, r.loss, r.totalSteps])).toEqual([
      ['r0', 'running', 20, 2.0, 100],
      ['r1', 'failed', 0, null, 100],
      ['r2', 'succeeded', 100, 1.0, 100],
      ['r3', 'queued', 0, null, 100],
    ]);
    expect(runProgressBySweep(store, 's1', { limit: 2, offset: 1 }).map((r) => r.runId)).toEqual(['r1', 'r2']);
    expect(runProgressBySweep(store, 's1', { status: ['failed'] }).map((r) => [r.runId, r.error])).toEqual([['r1', 'out of memory']]);
    expect(runProgressBySweep(store, 's1', { runIds: ['r3', 'r9'] }).map((r) => r.runId)).toEqual(['r3']);
  });

  it('summarises: totals, running with an ETA from steps per second since the start, failures with errors', () => {
    const s = sweepSummary(store, 's1', { now: 1000 + 20_000 }); // 20 steps in 20 s → 80 left → 80 s
    expect(s.counts).toMatchObject({ total: 4, running: 1, failed: 1, succeeded: 1, queued: 1 });
    expect(s.running.map((r) => [r.runId, r.step, r.etaSec, r.workerId])).toEqual([['r0', 20, 80, 'w1']]);
    expect(s.failures.map((r) => [r.runId, r.error])).toEqual([['r1', 'out of memory']]);
    expect(estimateEtaSec({ status: 'running', step: 0, totalSteps: 100, resumedFrom: null, startedAt: 0 }, 10)).toBeNull();
  });

  it('reads metric and μ-norm series after given steps, artifacts newest per kind', () => {
    store.sqlite.prepare('INSERT INTO mu_norms (run_id, step, class, norm) VALUES (?, ?, ?, ?)').run('r0', 0, 0, 1);
    store.sqlite.prepare('INSERT INTO mu_norms (run_id, step, class, norm) VALUES (?, ?, ?, ?)').run('r0', 0, 1, 3);
    store.sqlite.prepare('INSERT INTO artifacts (run_id, step, kind, uri) VALUES (?, ?, ?, ?)').run('r0', 10, 'samples', '/a/10.png');
    store.sqlite.prepare('INSERT INTO artifacts (run_id, step, kind, uri) VALUES (?, ?, ?, ?)').run('r0', 20, 'samples', '/a/20.png');
    const ids = runIdsOfSweep(store, 's1');
    expect(ids).toEqual(['r0', 'r1', 'r2', 'r3']);
    expect(runIdsOfSweep(store, 's1', 1)).toEqual(['r0']);
    expect(metricSeriesOfRuns(store, ids, ['loss']).map((p) => [p.runId, p.step])).toEqual([
      ['r0', 10],
      ['r0', 20],
      ['r2', 100],
    ]);
    expect(
      metricSeriesOfRuns(
        store,
        ids,
        ['loss'],
        new Map([
          ['r0', 10],
          ['r2', 100],
        ]),
      ).map((p) => [p.runId, p.step]),
    ).toEqual([['r0', 20]]);
    expect(muNormSeriesOfRuns(store, ids)).toEqual([{ runId: 'r0', name: 'mu_norm', step: 0, value: 2 }]);
    expect(newestArtifactsBySweep(store, 's1')).toEqual([{ runId: 'r0', kind: 'samples', step: 20, uri: '/a/20.png' }]);
  });

  it('data_version changes for a reader when another connection commits', () => {
    const reader = openStore(store.path, { readonly: true });
    try {
      const v0 = dataVersion(reader);
      expect(dataVersion(reader)).toBe(v0);
      metric('r3', 1, 'loss', 3);
      expect(dataVersion(reader)).not.toBe(v0);
    } finally {
      reader.close();
    }
  });
});
