import { getSweep, runResultsBySweep, runStatusCounts, type RunResultRow, type Store, type SweepRow } from '@ablate/store';

/** A series point of one run. */
export interface Point {
  step: number;
  value: number | null;
}

export interface ImageRef {
  step: number;
  /** Path as the worker recorded it (on the shared artifact store). */
  uri: string;
}

/** Everything the report shows about one run of the sweep. */
export interface RunReport {
  result: RunResultRow;
  /** Per swept parameter (seed excluded): its display value, e.g. `mu_init=randn mu_std=0.02` or `lr_scale=0.1`. */
  axes: Record<string, string>;
  loss: Point[];
  evalBpd: Point[];
  classConsistency: Point[];
  /** Mean over classes of ‖μ_c‖, per step. */
  muNorm: Point[];
  /** The newest image of each kind (samples, samples-denoised, mu). */
  images: Partial<Record<string, ImageRef>>;
  /** The confusion matrix at the newest step that has one, or null. */
  confusion: { step: number; matrix: number[][] } | null;
}

export interface SweepReport {
  sweep: SweepRow;
  /** Swept parameters in sweep-file order (seed excluded), with their values in first-seen order. */
  axes: { key: string; values: string[] }[];
  runs: RunReport[];
  counts: Record<string, number>;
}

/** `prior` + {mu_init: randn, mu_std: 0.02} → `mu_init=randn mu_std=0.02`; `prior.lr_scale` + 0.1 → `lr_scale=0.1`. */
export function axisValueLabel(key: string, value: unknown): string {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join(' ');
  }
  const last = key.split('.').at(-1) ?? key;
  return `${last}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`;
}

/**
 * Reads what the report needs from the sweep database (read-only queries). Throws a plain Error naming the sweep if
 * it is not there; the caller turns that into a usage error.
 */
export function loadSweepReport(store: Store, sweepRef: string): SweepReport | null {
  const db = store.sqlite;
  const byName = () => db.prepare('SELECT id FROM sweeps WHERE name = ? ORDER BY created_at DESC LIMIT 1').get(sweepRef) as { id: string } | undefined;
  const full = getSweep(store, sweepRef) ?? getSweep(store, byName()?.id ?? '');
  if (full === undefined) return null;

  const results = runResultsBySweep(store, full.id);
  const series = db.prepare('SELECT step, value FROM metrics WHERE run_id = ? AND name = ? ORDER BY step');
  const mu = db.prepare('SELECT step, avg(norm) AS value FROM mu_norms WHERE run_id = ? GROUP BY step ORDER BY step');
  const images = db.prepare(
    'SELECT kind, step, uri FROM artifacts a WHERE run_id = ? AND step = (SELECT max(step) FROM artifacts b WHERE b.run_id = a.run_id AND b.kind = a.kind)',
  );
  const confusionStep = db.prepare('SELECT max(step) AS step FROM confusion WHERE run_id = ?');
  const confusionCells = db.prepare('SELECT true_class AS t, predicted_class AS p, count FROM confusion WHERE run_id = ? AND step = ?');

  const axisOrder: string[] = [];
  const axisValues = new Map<string, string[]>();
  const runs = results.map((result): RunReport => {
    const axes: Record<string, string> = {};
    for (const [key, value] of Object.entries(result.variantJson)) {
      if (key === 'seed') continue;
      const label = axisValueLabel(key, value);
      axes[key] = label;
      if (!axisValues.has(key)) {
        axisOrder.push(key);
        axisValues.set(key, []);
      }
      const vs = axisValues.get(key) ?? [];
      if (!vs.includes(label)) vs.push(label);
    }
    const imgs: Partial<Record<string, ImageRef>> = {};
    for (const r of images.all(result.runId) as { kind: string; step: number; uri: string }[]) imgs[r.kind] = { step: r.step, uri: r.uri };
    const cStep = (confusionStep.get(result.runId) as { step: number | null }).step;
    let confusion: RunReport['confusion'] = null;
    if (cStep !== null) {
      const cells = confusionCells.all(result.runId, cStep) as { t: number; p: number; count: number }[];
      const n = Math.max(...cells.map((c) => Math.max(c.t, c.p))) + 1;
      const matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0));
      for (const c of cells) {
        const row = matrix[c.t];
        if (row) row[c.p] = c.count;
      }
      confusion = { step: cStep, matrix };
    }
    return {
      result,
      axes,
      loss: series.all(result.runId, 'loss') as Point[],
      evalBpd: series.all(result.runId, 'eval/bpd') as Point[],
      classConsistency: series.all(result.runId, 'eval/class_consistency') as Point[],
      muNorm: mu.all(result.runId) as Point[],
      images: imgs,
      confusion,
    };
  });
  const { total, ...byStatus } = runStatusCounts(store, full.id);
  return { sweep: full, axes: axisOrder.map((key) => ({ key, values: axisValues.get(key) ?? [] })), runs, counts: { ...byStatus, total } };
}
