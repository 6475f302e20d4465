import type { RunEvent } from '@ablate/queue';
import { applyEvents, attachRuns, openStore, refreshVariantStats, upsertSweep } from '@ablate/store';
import { encodeImageGrid } from '@ablate/train';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const REPORT_MAIN = path.resolve(__dirname, '..', '..', 'dist', 'report-main.js');
export const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const T0 = 1_790_000_000_000;

/** A deterministic pseudo-random image grid (values in [-1, 1]) as PNG. */
function png(rows: number, cols: number, seed: number): Buffer {
  const values = Float32Array.from({ length: rows * cols * 28 * 28 }, (_, i) => Math.sin(i * 0.37 + seed * 1.7) * Math.cos(i * 0.011 + seed));
  return encodeImageGrid(values, { rows, cols, height: 28, width: 28, scale: 1 });
}

export interface ReportFixture {
  dir: string;
  db: string;
  sweepId: string;
  runIds: string[];
  /** The image whose file was deleted after it was recorded. */
  missingUri: string;
}

/**
 * A real SQLite sweep database as the recorder leaves it, for a two-dimensional sweep (μ init × prior lr scale = 2 × 2
 * runs), with real PNG files on disk. Run 3 has no confusion matrix and its μ image file is gone.
 */
export function twoByTwoSweep(): ReportFixture {
  const dir = mkdtempSync(path.join(tmpdir(), 'report-'));
  const db = path.join(dir, 'ablate.db');
  const store = openStore(db);
  const sweepId = 'grid';
  upsertSweep(store, { id: sweepId, name: 'prior-grid', file: 'sweeps/prior-grid.yaml', spec: { description: 'μ init × prior lr scale <test>' } }, T0);
  const inits = [{ mu_init: 'zero' }, { mu_init: 'randn', mu_std: 1 }];
  const scales = [1, 0.1];
  const runs = inits.flatMap((prior, i) => scales.map((scale, j) => ({ prior, scale, idx: i * 2 + j })));
  const runIds = runs.map((r) => `r-${r.idx}`);
  attachRuns(
    store,
    sweepId,
    runs.map((r) => ({
      id: `r-${r.idx}`,
      idx: r.idx,
      label: `${Object.entries(r.prior)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')} lr_scale=${r.scale}`,
      variant: { prior: r.prior, 'prior.lr_scale': r.scale },
      config: { prior: { ...r.prior, lr_scale: r.scale } },
    })),
    T0,
  );
  let missingUri = '';
  const events: RunEvent[] = runs.flatMap((r): RunEvent[] => {
    const id = `r-${r.idx}`;
    const imgDir = path.join(dir, 'artifacts', 'runs', id, 'images');
    mkdirSync(imgDir, { recursive: true });
    const ev: RunEvent[] = [
      { kind: 'run-started', runId: id, attempt: 1, host: 'h', workerId: 'w', backend: 'wasm', device: 'CPU (wasm)', resumeFrom: null, at: T0 },
    ];
    for (let s = 0; s <= 100; s += 10) {
      ev.push({
        kind: 'mu-norms',
        runId: id,
        step: s,
        norms: Array.from({ length: 10 }, (_, c) => (r.prior.mu_init === 'zero' ? s / 20 : 28 - s / 10) + c * 0.01),
      });
      if (s > 0) ev.push({ kind: 'metrics', runId: id, rows: [{ step: s, name: 'loss', value: 1 / (1 + s / 50) + r.idx * 0.01 }] });
    }
    for (const s of [50, 100]) {
      ev.push({
        kind: 'metrics',
        runId: id,
        rows: [
          { step: s, name: 'eval/nll', value: 0.5 - s / 1000 },
          { step: s, name: 'eval/bpd', value: 6.5 - s / 100 - r.idx * 0.01 },
          { step: s, name: 'eval/accuracy', value: 0.8 },
          { step: s, name: 'eval/class_consistency', value: 0.5 + r.idx / 10 },
        ],
      });
      for (const kind of ['samples', 'samples-denoised', 'mu'] as const) {
        const uri = path.join(imgDir, `step-${s}-${kind}.png`);
        writeFileSync(uri, kind === 'mu' ? png(1, 10, r.idx) : png(10, 10, r.idx + s));
        ev.push({ kind: 'artifact', runId: id, step: s, artifact: kind, uri });
        if (r.idx === 3 && kind === 'mu' && s === 100) missingUri = uri;
      }
      if (r.idx !== 3) {
        ev.push({
          kind: 'confusion',
          runId: id,
          step: s,
          matrix: Array.from({ length: 10 }, (_, t) => Array.from({ length: 10 }, (_, p) => (t === p ? 40 : (t + p + r.idx) % 7 === 0 ? 5 : 1))),
        });
      }
    }
    ev.push({
      kind: 'run-finished',
      runId: id,
      status: r.idx === 2 ? 'diverged' : 'succeeded',
      finalStep: 100,
      elapsedMs: 61_000 + r.idx,
      at: T0 + 61_000,
      ...(r.idx === 2 ? { error: 'diverged at step 100' } : {}),
    });
    return ev;
  });
  applyEvents(store, events);
  store.close();
  // The shared artifact store lost a file after it was recorded.
  writeFileSync(missingUri, '');
  return { dir, db, sweepId, runIds, missingUri };
}

/**
 * A seeded sweep as the recorder leaves it: three μ inits × 4 seeds (seeds outermost), with the two judges' metrics.
 * Known answers: randn's accuracy is zero's + 0.05 + a small seed effect (higher, every pair); data's consistency is
 * zero's ± 0.01 alternating (no difference detectable); judges score 0.8 (deep) and 0.9 (shallow) on held-out digits.
 */
export function seededSweep(): ReportFixture {
  const dir = mkdtempSync(path.join(tmpdir(), 'report-seeded-'));
  const db = path.join(dir, 'ablate.db');
  const store = openStore(db);
  const sweepId = 'seeded';
  upsertSweep(store, { id: sweepId, name: 'prior-seeds', file: 'sweeps/prior-seeds.yaml', spec: { description: 'μ init × 4 seeds' } }, T0);
  const inits = ['zero', 'randn', 'data'];
  const seeds = [0, 1, 2, 3];
  const runs = seeds.flatMap((seed, k) => inits.map((init, i) => ({ init, seed, idx: k * inits.length + i, id: `r-${init}-${seed}` })));
  attachRuns(
    store,
    sweepId,
    runs.map((r) => ({
      id: r.id,
      idx: r.idx,
      label: `mu_init=${r.init} seed=${r.seed}`,
      variant: { prior: { mu_init: r.init }, seed: r.seed },
      config: { seed: r.seed, prior: { mu_init: r.init } },
    })),
    T0,
  );
  const events: RunEvent[] = runs.flatMap((r): RunEvent[] => {
    const e = Math.sin(r.seed * 2.1) * 0.02; // the seed's own effect, shared by the inits of that seed
    const acc = 0.8 + e + (r.init === 'randn' ? 0.05 + r.seed * 0.001 : 0);
    const cons = 0.7 + e + (r.init === 'data' ? (r.seed % 2 === 0 ? 0.01 : -0.01) : 0);
    const ev: RunEvent[] = [
      { kind: 'run-started', runId: r.id, attempt: 1, host: 'h', workerId: 'w', backend: 'wasm+blas', device: 'CPU', resumeFrom: null, at: T0 },
    ];
    for (let s = 0; s <= 100; s += 50) {
      ev.push({ kind: 'mu-norms', runId: r.id, step: s, norms: [1 + s / 100 + e, 2 + e] });
      if (s === 0) continue;
      ev.push({
        kind: 'metrics',
        runId: r.id,
        rows: [
          { step: s, name: 'loss', value: 1 - s / 200 + e },
          { step: s, name: 'eval/nll', value: 0.5 - s / 1000 + e },
          { step: s, name: 'eval/accuracy', value: acc },
          { step: s, name: 'eval/consistency/raw/t1.0', value: cons },
          { step: s, name: 'eval/consistency/raw/t1.0/deep', value: cons - 0.05 },
          { step: s, name: 'eval/consistency/raw/t1.0/shallow', value: cons + 0.05 },
          { step: s, name: 'eval/consistency/raw/t0.7', value: cons + 0.1 },
          { step: s, name: 'eval/consistency/denoised/t1.0', value: cons + 0.01 },
          { step: s, name: 'eval/judge_agreement/raw/t1.0', value: 0.85 },
          { step: s, name: 'eval/judge_accuracy/deep', value: 0.8 },
          { step: s, name: 'eval/judge_accuracy/shallow', value: 0.9 },
        ],
      });
      ev.push({
        kind: 'confusion',
        runId: r.id,
        step: s,
        sampleKind: 'raw',
        temperature: 1,
        judge: 'deep',
        matrix: [
          [9, 1],
          [2, 8],
        ],
      });
      ev.push({
        kind: 'confusion',
        runId: r.id,
        step: s,
        sampleKind: 'raw',
        temperature: 0.7,
        judge: 'deep',
        matrix: [
          [10, 0],
          [0, 10],
        ],
      });
    }
    ev.push({ kind: 'run-finished', runId: r.id, status: 'succeeded', finalStep: 100, elapsedMs: 1000, at: T0 + 1000 });
    return ev;
  });
  applyEvents(store, events);
  refreshVariantStats(store, sweepId, T0 + 2000);
  store.close();
  return { dir, db, sweepId, runIds: runs.map((r) => r.id), missingUri: '' };
}

export function runReport(args: string[], env: NodeJS.ProcessEnv): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [REPORT_MAIN, ...args], { encoding: 'utf8', env: { ...process.env, LOG_FORMAT: 'json', ...env }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
