import { describe, expect, it } from '@jest/globals';
import type { RunEvent } from '@ablate/queue';
import { applyEvents, attachRuns, openStore, upsertSweep } from '@ablate/store';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadComparison, placeAgainstSeeds } from './compare';
import { runReport, seededSweep } from './test-utils/fixture';

/**
 * The seeded fixture (μ init zero / randn / data × seeds 0–3, flow accuracy 0.8 + e(seed), +0.05 + seed/1000 for randn)
 * plus a second sweep of the same inits with no seeds (a program's sweep: seed 0), with flow accuracy 0.81 (inside the
 * zero runs' 0.7826–0.8173), 0.9 (above randn's 0.8346–0.8683) and 0.7 (below data's).
 */
function withSecondSweep(): ReturnType<typeof seededSweep> {
  const f = seededSweep();
  const store = openStore(f.db);
  const acc: Record<string, number> = { zero: 0.81, randn: 0.9, data: 0.7 };
  upsertSweep(store, { id: 'torch', name: 'prior-torch', file: 'sweeps/prior-torch.yaml', spec: {} }, 1_790_000_000_000);
  const inits = Object.keys(acc);
  attachRuns(
    store,
    'torch',
    inits.map((init, idx) => ({
      id: `t-${init}`,
      idx,
      label: `mu_init=${init}`,
      variant: { prior: { mu_init: init } },
      config: { program: { argv: ['python3'], cwd: '/' }, config: { prior: { mu_init: init } } },
    })),
    1_790_000_000_000,
  );
  const events: RunEvent[] = inits.flatMap((init): RunEvent[] => [
    { kind: 'run-started', runId: `t-${init}`, attempt: 1, host: 'h', workerId: 'w', backend: 'program', device: 'python3', resumeFrom: null, at: 1 },
    {
      kind: 'metrics',
      runId: `t-${init}`,
      rows: [
        { step: 50, name: 'eval/accuracy', value: 0.5 },
        { step: 100, name: 'eval/accuracy', value: acc[init] ?? 0 },
        { step: 100, name: 'eval/nll', value: 0.4 },
      ],
    },
    { kind: 'mu-norms', runId: `t-${init}`, step: 100, norms: [3, 5] },
    { kind: 'run-finished', runId: `t-${init}`, status: 'succeeded', finalStep: 100, elapsedMs: 10, at: 2 },
  ]);
  applyEvents(store, events);
  store.close();
  return f;
}

describe('pnpm report --compare', () => {
  it('pairs each run with the other sweep’s run of the same variant and seed, and places it against that sweep’s seeds', () => {
    const f = withSecondSweep();
    const store = openStore(f.db, { readonly: true });
    try {
      const c = loadComparison(store, 'prior-torch', 'prior-seeds');
      if ('missing' in c) throw new Error(`missing ${c.missing}`);
      expect(c.pairs.map((p) => [p.label, p.seed, p.a.row.runId, p.b?.row.runId])).toEqual([
        ['mu_init=zero', 0, 't-zero', 'r-zero-0'],
        ['mu_init=randn', 0, 't-randn', 'r-randn-0'],
        ['mu_init=data', 0, 't-data', 'r-data-0'],
      ]);
      const randn = c.pairs[1];
      expect(randn?.a.finals['eval/accuracy']).toBe(0.9); // the last step's value, not the first
      expect(randn?.a.finals.mu_norm).toBe(4); // mean of ‖μ_c‖ over classes
      expect(randn?.b?.finals['eval/accuracy']).toBeCloseTo(0.85, 10);
      const s = randn?.bSeeds['eval/accuracy'];
      expect(s?.n).toBe(4);
      expect(s?.min).toBeCloseTo(0.85 + Math.sin(4.2) * 0.02 + 0.002, 10);
      expect(s?.max).toBeCloseTo(0.85 + Math.sin(2.1) * 0.02 + 0.001, 10);
      expect(c.pairs.map((p) => placeAgainstSeeds(p.a.finals['eval/accuracy'], p.bSeeds['eval/accuracy'] ?? { n: 0, min: null, max: null }))).toEqual([
        'within',
        'above',
        'below',
      ]);
    } finally {
      store.close();
    }
  });

  it('writes <a>-vs-<b>.html with the table and a chart per pair and curve; an unknown sweep is a clean exit-2 error', () => {
    const f = withSecondSweep();
    const out = path.join(f.dir, 'out');
    const r = runReport(['prior-torch', '--compare', 'prior-seeds', '--out', out], { SWEEP_DB: f.db });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(out)).toEqual(['prior-torch-vs-prior-seeds.html']);
    const html = readFileSync(path.join(out, 'prior-torch-vs-prior-seeds.html'), 'utf8');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('<td>90.0%</td><td>85.0%</td><td>+5.0 pt</td>');
    expect(html).toContain('(83.5%–86.8%, n = 4)</td><td>above</td>');
    expect((html.match(/<svg /g) ?? []).length).toBe(3 * 3); // ‖μ‖, NLL and consistency for each of the 3 pairs

    const bad = runReport(['prior-torch', '--compare', 'nope', '--out', out], { SWEEP_DB: f.db });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(`no sweep "nope" in ${f.db} (sweeps there: prior-seeds, prior-torch)`);
  });
});
