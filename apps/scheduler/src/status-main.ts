import { openStore, runsBySweep, runStatusCounts, type Store } from '@ablate/store';
import Table from 'cli-table3';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runMain, UsageError } from './cli-util';
import { schedulerEnv } from './env';

const USAGE = `usage: pnpm status [sweep] [--json]

Without a sweep: every sweep with its run counts. With one: its runs, their status, progress and latest results.
Reads SWEEP_DB read-only (the recorder keeps it current).`;

function latest(store: Store, runId: string, name: string): { step: number; value: number | null } | undefined {
  return store.sqlite.prepare('SELECT step, value FROM metrics WHERE run_id = ? AND name = ? ORDER BY step DESC LIMIT 1').get(runId, name) as { step: number; value: number | null } | undefined;
}

function sweepsOverview(store: Store): Record<string, unknown>[] {
  const sweeps = store.sqlite.prepare('SELECT id, file, created_at FROM sweeps ORDER BY created_at').all() as { id: string; file: string; created_at: number }[];
  return sweeps.map((s) => ({ sweep: s.id, file: s.file, created: new Date(s.created_at).toISOString(), ...runStatusCounts(store, s.id) }));
}

function sweepRuns(store: Store, sweepId: string): Record<string, unknown>[] {
  return runsBySweep(store, sweepId).map((r) => {
    const cfg = r.configJson as { train?: { steps?: number } };
    const loss = latest(store, r.id, 'loss');
    const acc = latest(store, r.id, 'eval/accuracy');
    return {
      idx: r.idx,
      runId: r.id,
      label: r.label,
      status: r.status,
      step: `${loss?.step ?? 0}/${cfg.train?.steps ?? '?'}`,
      loss: loss?.value ?? null,
      accuracy: acc?.value ?? null,
      attempts: r.attempts,
      worker: r.workerHost,
      backend: r.backend,
      error: r.error,
    };
  });
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { dbPath } = schedulerEnv();
  if (!existsSync(dbPath)) throw new UsageError(`no sweep database at ${dbPath} (set SWEEP_DB, or run a sweep first)`);
  const store = openStore(dbPath, { readonly: true });
  try {
    const sweepId = positionals[0];
    if (sweepId !== undefined && store.sqlite.prepare('SELECT 1 FROM sweeps WHERE id = ?').get(sweepId) === undefined) {
      const known = (store.sqlite.prepare('SELECT id FROM sweeps ORDER BY id').all() as { id: string }[]).map((s) => s.id);
      throw new UsageError(`no sweep "${sweepId}" in ${dbPath}${known.length ? ` (sweeps: ${known.join(', ')})` : ''}`);
    }
    const rows = sweepId === undefined ? sweepsOverview(store) : sweepRuns(store, sweepId);
    if (values.json) {
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return 0;
    }
    const columns = Object.keys(rows[0] ?? {});
    const table = new Table({ style: process.stdout.isTTY ? {} : { head: [], border: [] }, head: columns, wordWrap: true });
    for (const r of rows) table.push(columns.map((c) => (r[c] === null || r[c] === undefined ? '' : typeof r[c] === 'number' && !Number.isInteger(r[c]) ? (r[c] as number).toFixed(4) : String(r[c]))));
    process.stdout.write(rows.length ? `${table.toString()}\n` : 'no sweeps yet\n');
    return 0;
  } finally {
    store.close();
  }
}

runMain(main);
