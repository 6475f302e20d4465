import { runMain, sweepDbPath, UsageError } from '@ablate/cli';
import { createLogger } from '@ablate/log';
import { listSweeps, openStore, type Store } from '@ablate/store';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildReport } from './build-report';
import { buildComparisonPage, loadComparison } from './compare';

const USAGE = `usage: pnpm report <sweep> [--out dir] [--compare <other sweep>]

Writes one self-contained HTML page for the sweep (by id or name) to <dir>/<sweep>.html (default dir: reports):
results table, samples and μ images per variant, ‖μ‖ and loss curves, confusion matrices. It opens from the file
system with no server. Reads the sweep database (SWEEP_DB, default data/ablate.db) read-only, and the images under
the artifact store the workers wrote to.

--compare <other sweep>: instead, one page that sets each run of <sweep> beside the run of the other sweep with the
same swept values and seed (say a PyTorch program's sweep and the built-in tfjs one), with the other sweep's spread
over its seeds: <dir>/<sweep>-vs-<other>.html.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { out: { type: 'string', default: 'reports' }, compare: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const sweepRef = positionals[0];
  if (sweepRef === undefined || positionals.length > 1) throw new UsageError(`expected one sweep id or name\n${USAGE}`);
  const dbPath = sweepDbPath();
  if (!existsSync(dbPath)) throw new UsageError(`no sweep database at ${dbPath} (set SWEEP_DB, or run a sweep first)`);
  const log = createLogger({ name: 'report' });
  const store = openStore(dbPath, { readonly: true });
  try {
    if (values.compare !== undefined) return await writeComparison(store, dbPath, sweepRef, values.compare, values.out);
    const built = await buildReport(store, sweepRef, {
      command: `pnpm report ${[sweepRef, ...(values.out === 'reports' ? [] : ['--out', values.out])].join(' ')}`,
    });
    if (built === null) {
      const known = (store.sqlite.prepare('SELECT name FROM sweeps ORDER BY created_at').all() as { name: string }[]).map((r) => r.name);
      throw new UsageError(`no sweep "${sweepRef}" in ${dbPath}${known.length ? ` (sweeps there: ${known.join(', ')})` : ' (it has no sweeps yet)'}`);
    }
    const outDir = path.resolve(values.out);
    mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, `${built.sweepName.replace(/[^A-Za-z0-9._-]/g, '_')}.html`);
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, built.html);
    renameSync(tmp, file); // never a half-written page
    for (const uri of built.missingImages) log.warn({ uri }, 'image not readable; the report says so in its place');
    log.info({ sweep: built.sweepId, runs: built.runs, bytes: Buffer.byteLength(built.html), file }, `report written: ${file}`);
    return 0;
  } finally {
    store.close();
  }
}

async function writeComparison(store: Store, dbPath: string, refA: string, refB: string, out: string): Promise<number> {
  const c = loadComparison(store, refA, refB);
  if ('missing' in c) {
    const known = listSweeps(store).map((s) => s.name);
    throw new UsageError(`no sweep "${c.missing}" in ${dbPath}${known.length ? ` (sweeps there: ${known.join(', ')})` : ' (it has no sweeps yet)'}`);
  }
  const html = await buildComparisonPage(c, { command: `pnpm report ${refA} --compare ${refB}${out === 'reports' ? '' : ` --out ${out}`}` });
  const outDir = path.resolve(out);
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${`${c.a.name}-vs-${c.b.name}`.replace(/[^A-Za-z0-9._-]/g, '_')}.html`);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, html);
  renameSync(tmp, file);
  createLogger({ name: 'report' }).info({ pairs: c.pairs.length, matched: c.pairs.filter((p) => p.b !== null).length, file }, `comparison written: ${file}`);
  return 0;
}

runMain(() => main(process.argv.slice(2)));
