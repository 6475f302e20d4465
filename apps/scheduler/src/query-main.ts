import { openStore } from '@ablate/store';
import { stringify } from 'csv-stringify/sync';
import Table from 'cli-table3';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runMain, UsageError } from './cli-util';
import { schedulerEnv } from './env';

const USAGE = `usage: pnpm query "<SQL>" [--format table|csv|json]

Runs one SQL statement against the sweep database (SWEEP_DB), opened read-only: it cannot write.
Tables: sweeps, runs, sweep_runs, metrics, mu_norms, checkpoints, artifacts. Views: latest_metrics, run_results, sweep_results.`;

const FORMATS = ['table', 'csv', 'json'] as const;

export function formatRows(rows: Record<string, unknown>[], columns: string[], format: (typeof FORMATS)[number]): string {
  if (format === 'json') return `${JSON.stringify(rows, null, 2)}\n`;
  if (format === 'csv') return stringify(rows, { header: true, columns, cast: { number: (n) => String(n) } });
  const table = new Table({ style: process.stdout.isTTY ? {} : { head: [], border: [] }, head: columns });
  for (const r of rows) table.push(columns.map((c) => (r[c] === null || r[c] === undefined ? '' : typeof r[c] === 'number' ? Number((r[c] as number).toPrecision(6)) : String(r[c]))));
  return `${table.toString()}\n(${rows.length} row${rows.length === 1 ? '' : 's'})\n`;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { format: { type: 'string', default: 'table' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const sql = positionals.join(' ').trim();
  if (sql === '') throw new UsageError(`expected a SQL statement\n${USAGE}`);
  const format = values.format as (typeof FORMATS)[number];
  if (!FORMATS.includes(format)) throw new UsageError(`--format: expected one of ${FORMATS.join(', ')}, got "${values.format}"`);
  const { dbPath } = schedulerEnv();
  if (!existsSync(dbPath)) throw new UsageError(`no sweep database at ${dbPath} (set SWEEP_DB, or run a sweep first)`);
  const store = openStore(dbPath, { readonly: true });
  try {
    let stmt;
    try {
      stmt = store.sqlite.prepare(sql);
    } catch (err: unknown) {
      throw new UsageError(`SQL error: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!stmt.reader) throw new UsageError('pnpm query is read-only: it runs SELECT statements (and read-only PRAGMAs), not writes');
    let rows: Record<string, unknown>[];
    try {
      rows = stmt.all() as Record<string, unknown>[];
    } catch (err: unknown) {
      throw new UsageError(`SQL error: ${err instanceof Error ? err.message : String(err)}`);
    }
    const columns = stmt.columns().map((c) => c.name);
    process.stdout.write(formatRows(rows, columns, format));
    return 0;
  } finally {
    store.close();
  }
}

runMain(main);
