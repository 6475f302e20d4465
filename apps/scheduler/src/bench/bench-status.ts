/**
 * `pnpm status` on a big sweep: a generated 10,000-run sweep in a temp database, half of it finished with a loss curve
 * (30 points) and an eval, 20 runs running, 100 failed with errors; then the real command, spawned as the user runs
 * it (node start included), timed end to end: the default summary, `--all` (text, not a TTY) and `--all --json`.
 */
import { insertRuns, openStore, upsertSweep } from '@ablate/store';
import { loadSweepFile } from '@ablate/sweep';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generatedSweepYaml } from './bench-submit';

export interface StatusSample {
  runs: number;
  metricRows: number;
  summaryMs: number;
  allTextMs: number;
  allJsonMs: number;
  summaryLines: number;
  allLines: number;
}

const STATUS_MAIN = path.join(__dirname, '..', 'status-main.js');

function timeCommand(args: string[], env: NodeJS.ProcessEnv): { ms: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [STATUS_MAIN, ...args], { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`pnpm status ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

/** Builds the database once; `reps` timings of each command. */
export function benchStatus(opts: { side: number; reps: number }): StatusSample[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'ablate-bench-status-'));
  try {
    const file = path.join(dir, 'bench-10k.yaml');
    writeFileSync(file, generatedSweepYaml('bench-10k', opts.side));
    const db = path.join(dir, 'status.db');
    const store = openStore(db);
    const { spec, runs } = loadSweepFile(file);
    upsertSweep(store, { id: spec.name, name: spec.name, file: spec.file, spec });
    insertRuns(
      store,
      spec.name,
      runs.map((r) => ({ id: r.runId, idx: r.index, label: r.label, variant: r.variant, config: r.config })),
    );
    const now = Date.now();
    const metric = store.sqlite.prepare('INSERT INTO metrics (run_id, step, name, value) VALUES (?, ?, ?, ?)');
    const setRun = store.sqlite.prepare(
      'UPDATE runs SET status = ?, started_at = ?, finished_at = ?, worker_host = ?, worker_id = ?, attempts = 1, error = ?, final_step = ? WHERE id = ?',
    );
    let metricRows = 0;
    store.sqlite.transaction(() => {
      runs.forEach((r, i) => {
        const status = i % 2 === 0 ? 'succeeded' : i < 40 ? 'running' : i % 97 === 1 ? 'failed' : 'queued';
        if (status === 'queued') return;
        const last = status === 'succeeded' ? 3000 : 1500;
        for (let s = 100; s <= last; s += 100) {
          metric.run(r.runId, s, 'loss', 3 - s / 3000);
          metricRows += 1;
        }
        metric.run(r.runId, last, 'eval/accuracy', 0.8);
        metricRows += 1;
        const err = status === 'failed' ? 'WebAssembly.Memory(): could not allocate memory: the wasm backend has 4 GiB; lower train.batch_size' : null;
        setRun.run(status, now - 600_000, status === 'running' ? null : now, 'bench-host', `w${i % 4}`, err, status === 'running' ? null : last, r.runId);
      });
    })();
    store.close();
    const env = { ...process.env, SWEEP_DB: db };
    const samples: StatusSample[] = [];
    for (let i = 0; i < opts.reps; i++) {
      const summary = timeCommand([spec.name], env);
      const allText = timeCommand([spec.name, '--all'], env);
      const allJson = timeCommand([spec.name, '--all', '--json'], env);
      if ((JSON.parse(allJson.stdout) as unknown[]).length !== runs.length) throw new Error('--all --json did not list every run');
      samples.push({
        runs: runs.length,
        metricRows,
        summaryMs: summary.ms,
        allTextMs: allText.ms,
        allJsonMs: allJson.ms,
        summaryLines: summary.stdout.split('\n').length - 1,
        allLines: allText.stdout.split('\n').length - 1,
      });
    }
    return samples;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
