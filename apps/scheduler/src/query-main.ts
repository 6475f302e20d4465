import { openStore } from '@ablate/store';
import { stringify } from 'csv-stringify/sync';
import Table from 'cli-table3';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runMain, UsageError } from '@ablate/cli';
import { schedulerEnv } from './env';
import { QuerySqlError, QueryTimeoutError, runReadOnlyQuery } from './query-runner';

const USAGE = `usage: pnpm query "<SQL>" [--format table|csv|json] [--timeout seconds]

Runs one SQL statement against the sweep database (SWEEP_DB), opened read-only: it cannot write. A statement that runs
longer than --timeout seconds (default 30; 0: no limit) is stopped, with exit code 2. Needs no Redis.
Tables: sweeps, runs, sweep_runs, metrics, mu_norms, checkpoints, artifacts. Views: latest_metrics, run_results, sweep_results.`;

const FORMATS = ['table', 'csv', 'json'] as const;

export function formatRows(rows: Record<string, unknown>[], columns: string[], format: (typeof FORMATS)[number]): string {
  if (format === 'json') return `${JSON.stringify(rows, null, 2)}\n`;
  if (format === 'csv') return stringify(rows, { header: true, columns, cast: { number: (n) => String(n) } });
  const table = new Table({ style: process.stdout.isTTY ? {} : { head: [], border: [] }, head: columns });
  for (const r of rows)
    table.push(
      columns.map((c) => (r[c] === null || r[c] === undefined ? '' : typeof r[c] === 'number' ? Number((r[c] as number).toPrecision(6)) : String(r[c]))),
    );
  return `${table.toString()}\n(${rows.length} row${rows.length === 1 ? '' : 's'})\n`;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { format: { type: 'string', default: 'table' }, timeout: { type: 'string', default: '30' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const sql = positionals.join(' ').trim();
  if (sql === '') throw new UsageError(`expected a SQL statement\n${USAGE}`);
  const format = values.format as (typeof FORMATS)[number];
  if (!FORMATS.includes(format)) throw new UsageError(`--format: expected one of ${FORMATS.join(', ')}, got "${values.format}"`);
  const timeoutSec = Number(values.timeout);
  if (values.timeout.trim() === '' || !Number.isFinite(timeoutSec) || timeoutSec < 0)
    throw new UsageError(`--timeout: expected a number of seconds ≥ 0 (0: no limit), got "${values.timeout}"`);
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
  } finally {
    store.close();
  }
  let result: { columns: string[]; rows: Record<string, unknown>[] };
  try {
    result = await runReadOnlyQuery({ dbPath, sql }, timeoutSec * 1000);
  } catch (err: unknown) {
    if (err instanceof QueryTimeoutError)
      throw new UsageError(
        `query timed out: ${err.message} (--timeout ${values.timeout}). Narrow it (a WHERE, a LIMIT; a recursive CTE needs a condition that ends it) or raise --timeout.`,
      );
    if (err instanceof QuerySqlError) throw new UsageError(`SQL error: ${err.message}`);
    throw err;
  }
  process.stdout.write(formatRows(result.rows, result.columns, format));
  return 0;
}

runMain(main);
