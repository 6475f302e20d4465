import { describe, expect, it } from '@jest/globals';
import { applyEvents, attachRuns, openStore, upsertSweep, type Store } from '@ablate/store';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { genericMetricsSection, MAX_GENERIC_CHARTS, unknownMetricNames, withGenericMetrics } from './generic-metrics';
import { runReport } from './test-utils/fixture';

const T0 = 1_790_000_000_000;

/** A sweep of a program's two runs that report loss, acc/top1, reward (NaN once) and `extraNames` more names. */
function programSweep(extraNames: number): { dir: string; db: string; store: Store; ids: string[] } {
  const dir = mkdtempSync(path.join(tmpdir(), 'generic-'));
  const db = path.join(dir, 'ablate.db');
  const store = openStore(db);
  upsertSweep(store, { id: 'prog', name: 'prog', file: 'prog.yaml', spec: {} }, T0);
  const runs = [0, 1].map((i) => ({
    id: `r-${i}`,
    idx: i,
    label: `lr=${i}`,
    variant: { lr: i },
    config: { program: { argv: ['x'], cwd: '/' }, config: { lr: i } },
  }));
  attachRuns(store, 'prog', runs, T0);
  for (const r of runs) {
    applyEvents(store, [
      { kind: 'run-started', runId: r.id, attempt: 1, host: 'h', workerId: 'w', backend: 'program', device: 'python3', resumeFrom: null, at: T0 },
      ...[1, 2, 3].map((step) => ({
        kind: 'metrics' as const,
        runId: r.id,
        rows: [
          { step, name: 'loss', value: 1 / step },
          { step, name: 'acc/top1', value: step / 10 + r.idx },
          { step, name: 'reward', value: step === 2 ? NaN : step },
          ...Array.from({ length: extraNames }, (_, k) => ({ step, name: `z${String(k).padStart(3, '0')}`, value: k })),
        ],
      })),
      { kind: 'run-finished', runId: r.id, status: 'succeeded', finalStep: 3, at: T0 + 1000 },
    ]);
  }
  return { dir, db, store, ids: runs.map((r) => r.id) };
}

describe('generic charts for the metrics a program reports', () => {
  it('pnpm report draws one chart per unknown metric name, one line per run; the TARFlow names are left to their panels', () => {
    const f = programSweep(0);
    f.store.close();
    const out = path.join(f.dir, 'out');
    const r = runReport(['prog', '--out', out], { SWEEP_DB: f.db });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const html = readFileSync(path.join(out, 'prog.html'), 'utf8');
    const section = html.slice(html.indexOf('<section id="other-metrics">'), html.indexOf('</section>'));
    expect(section).toContain('<h2>Other metrics</h2>');
    expect([...section.matchAll(/aria-label="([^"]+) per run"/g)].map((m) => m[1])).toEqual(['acc/top1', 'reward']);
    const acc = section.slice(section.indexOf('aria-label="acc/top1 per run"'), section.indexOf('aria-label="reward per run"'));
    expect((acc.match(/aria-roledescription="line mark"/g) ?? []).length).toBe(2);
    expect(html.indexOf('<section id="other-metrics">')).toBeLessThan(html.indexOf('</body>'));
  }, 60_000);

  it('selects the unknown names, draws at most MAX_GENERIC_CHARTS and names the rest; nothing when there are none', () => {
    const f = programSweep(MAX_GENERIC_CHARTS);
    const names = unknownMetricNames(f.store, f.ids);
    f.store.close();
    expect(names.slice(0, 3)).toEqual(['acc/top1', 'reward', 'z000']);
    expect(names).toHaveLength(MAX_GENERIC_CHARTS + 2);
    const section = genericMetricsSection({ charts: [{ name: 'a<b', svg: '<svg />' }], omitted: ['z022', 'z023'] });
    expect(section).toContain('aria-label="a&#60;b per run"><svg /></div>');
    expect(section).toContain('2 more metric(s) not drawn: z022, z023 (query them with pnpm query)');
    expect(genericMetricsSection({ charts: [], omitted: [] })).toBe('');
    expect(withGenericMetrics('<body><p>x</p></body>', '<section/>')).toBe('<body><p>x</p><section/></body>');
    expect(withGenericMetrics('<body></body>', '')).toBe('<body></body>');
  });
});
