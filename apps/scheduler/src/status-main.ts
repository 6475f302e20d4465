import {
  findSweepId,
  listSweeps,
  openStore,
  RUN_STATUSES,
  runProgressBySweep,
  sweepSummary,
  type RunProgress,
  type StatusCounts,
  type Store,
} from '@ablate/store';
import Table from 'cli-table3';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runMain, UsageError } from '@ablate/cli';
import { schedulerEnv } from './env';
import { fmtEta } from './fmt-eta';

const USAGE = `usage: pnpm status [sweep] [--all] [--json] [--limit 20]

Without a sweep: every sweep with its run counts.
With one: a summary whatever the sweep's size: run counts per status and per variant (runs that differ only in seed),
the running runs with their step and ETA, and the failed runs with their errors (--limit rows each).
  --all    every run of the sweep, one line each (through $PAGER, default "less -FRX", on a terminal); with --json an array
  --json   the same as JSON
Reads SWEEP_DB read-only (the recorder keeps it current).`;

const STATUS_ORDER = RUN_STATUSES;

function countsLine(c: StatusCounts): string {
  return (
    STATUS_ORDER.filter((s) => c[s] > 0)
      .map((s) => `${s} ${c[s]}`)
      .join(', ') || 'no runs'
  );
}

const num = (v: number | null, d = 4) => (v === null ? '' : v.toFixed(d));
const stepOf = (r: RunProgress) => `${r.step}/${r.totalSteps ?? '?'}`;

function table(head: string[], rows: string[][], tty: boolean): string {
  const t = new Table({ head, style: tty ? {} : { head: [], border: [] } });
  for (const r of rows) t.push(r);
  return t.toString();
}

function oneLine(s: string | null, max = 160): string {
  if (s === null) return '';
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function summaryText(store: Store, sweepId: string, limit: number, tty: boolean): string {
  const s = sweepSummary(store, sweepId, { limit });
  const out: string[] = [`sweep ${sweepId}: ${s.counts.total} runs — ${countsLine(s.counts)}`];
  if (s.variants.length > 0) {
    const shown = s.variants.slice(0, limit);
    out.push('', `per variant (${s.variants.length}; a variant is the runs that differ only in seed):`);
    const statuses = STATUS_ORDER.filter((st) => s.counts[st] > 0);
    out.push(
      table(
        ['variant', 'runs', ...statuses],
        shown.map((v) => [v.variantGroup, String(v.counts.total), ...statuses.map((st) => String(v.counts[st]))]),
        tty,
      ),
    );
    if (s.variants.length > shown.length) out.push(`… ${s.variants.length - shown.length} more variants (--limit, or --json)`);
  }
  if (s.counts.running > 0) {
    out.push('', `running (${s.counts.running}):`);
    out.push(
      table(
        ['run', 'label', 'step', 'loss', 'ETA', 'worker'],
        s.running.map((r) => [
          r.runId,
          r.label,
          stepOf(r),
          num(r.loss),
          r.etaSec === null ? '?' : fmtEta(r.etaSec),
          [r.workerId, r.workerHost].filter(Boolean).join(' @ '),
        ]),
        tty,
      ),
    );
    if (s.counts.running > s.running.length) out.push(`… ${s.counts.running - s.running.length} more running (--all)`);
  }
  if (s.counts.failed > 0) {
    out.push('', `failed (${s.counts.failed}):`);
    out.push(
      table(
        ['run', 'label', 'attempts', 'step', 'error'],
        s.failures.map((r) => [r.runId, r.label, String(r.attempts), stepOf(r), oneLine(r.error)]),
        tty,
      ),
    );
    if (s.counts.failed > s.failures.length) out.push(`… ${s.counts.failed - s.failures.length} more failed (--all, or pnpm query)`);
  }
  if (s.counts.total > 0 && s.counts.total === s.counts.queued)
    out.push('', 'nothing has started: is a worker running? (pnpm worker, or pnpm sweep <file> to start local ones)');
  return `${out.join('\n')}\n`;
}

/** Every run, one fixed-width line each: no table layout, so that 10,000 lines print in milliseconds. */
function allRunsText(runs: RunProgress[]): string {
  const w = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
  const labelW = Math.min(48, Math.max(5, ...runs.map((r) => r.label.length)));
  const idW = Math.max(3, ...runs.map((r) => r.runId.length));
  const lines = [`${w('idx', 6)} ${w('run', idW)} ${w('status', 10)} ${w('step', 12)} ${w('loss', 8)} ${w('label', labelW)} worker / error`];
  for (const r of runs) {
    const tail = r.error ? oneLine(r.error) : [r.workerId, r.workerHost].filter(Boolean).join(' @ ');
    lines.push(`${w(String(r.idx), 6)} ${w(r.runId, idW)} ${w(r.status, 10)} ${w(stepOf(r), 12)} ${w(num(r.loss), 8)} ${w(r.label, labelW)} ${tail}`);
  }
  return `${lines.join('\n')}\n`;
}

/** stdout.write that resolves once the text is handed to the OS: runMain's process.exit must not cut a big output. */
function writeOut(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
}

/** Writes text to $PAGER (default less -FRX: exits at once when it fits the screen) on a terminal, else to stdout. */
async function page(text: string): Promise<void> {
  const pager = process.env.PAGER ?? 'less -FRX';
  if (!process.stdout.isTTY || pager === '' || pager === 'cat') return writeOut(text);
  await new Promise<void>((resolve) => {
    const child = spawn(pager, { shell: true, stdio: ['pipe', 'inherit', 'inherit'] });
    child.on('error', () => void writeOut(text).then(resolve, resolve));
    child.stdin.on('error', () => undefined); // the user quit the pager early
    child.on('exit', () => resolve());
    child.stdin.end(text);
  });
}

// `pnpm status x --all | head`: the reader went away; that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { json: { type: 'boolean' }, all: { type: 'boolean' }, limit: { type: 'string', default: '20' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit: expected an integer ≥ 1, got "${values.limit}"`);
  const { dbPath } = schedulerEnv();
  if (!existsSync(dbPath)) throw new UsageError(`no sweep database at ${dbPath} (set SWEEP_DB, or run a sweep first)`);
  const store = openStore(dbPath, { readonly: true });
  const tty = process.stdout.isTTY === true;
  try {
    const ref = positionals[0];
    if (ref === undefined) {
      if (values.all) throw new UsageError('--all needs a sweep: pnpm status <sweep> --all');
      const sweeps = listSweeps(store);
      if (values.json) {
        process.stdout.write(
          `${JSON.stringify(
            sweeps.map((s) => ({ sweep: s.id, name: s.name, file: s.file, created: new Date(s.createdAt).toISOString(), ...s.counts })),
            null,
            2,
          )}\n`,
        );
        return 0;
      }
      if (sweeps.length === 0) {
        process.stdout.write('no sweeps yet\n');
        return 0;
      }
      const head = ['sweep', 'file', 'created', ...STATUS_ORDER, 'total'];
      process.stdout.write(
        `${table(
          head,
          sweeps.map((s) => [s.id, s.file, new Date(s.createdAt).toISOString(), ...STATUS_ORDER.map((st) => String(s.counts[st])), String(s.counts.total)]),
          tty,
        )}\n`,
      );
      return 0;
    }
    const sweepId = findSweepId(store, ref);
    if (sweepId === undefined) {
      const known = listSweeps(store).map((s) => s.id);
      throw new UsageError(`no sweep "${ref}" in ${dbPath}${known.length ? ` (sweeps: ${known.join(', ')})` : ''}`);
    }
    if (values.all) {
      const runs = runProgressBySweep(store, sweepId);
      if (values.json) await writeOut(`${JSON.stringify(runs)}\n`);
      else await page(allRunsText(runs));
      return 0;
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify(sweepSummary(store, sweepId, { limit }), null, 2)}\n`);
      return 0;
    }
    process.stdout.write(summaryText(store, sweepId, limit, tty));
    return 0;
  } finally {
    store.close();
  }
}

runMain(main);
