import { isInside, realish } from '@ablate/config';
import path from 'node:path';

/**
 * The events a training program writes to fd 3 (ABLATE_EVENTS_FD), one JSON object per line:
 *   {"step": 100, "metrics": {"loss": 0.31, "eval/nll": -0.61}}
 *   {"step": 250, "checkpoint": "checkpoints/step-250.pt", "keep": 2}   ("keep": optional, the worker deletes older
 *       reported checkpoints past the newest `keep`, once a newer resume point is safely in Redis)
 *   {"step": 250, "artifact": "samples", "path": "images/step-250.png"}
 *   {"step": 250, "mu_norms": [1.2, 0.8, …]}          (‖μ_c‖ per class, for a TARFlow-like program's ‖μ‖ panel)
 *   {"step": 3000, "samples": "samples/step-3000-raw-t1.0.f32", "shape": [1000, 28, 28, 1], "kind": "raw", "temperature": 1.0}
 *       (generated digits for the judges: float32 little-endian (N, H, W, C) in [-1, 1], class-major with N / 10 per
 *       class; the worker labels them with both digit judges and records the class-consistency metrics and confusions)
 * Any event may add "total_steps" (the run's length, for progress bars). Paths are relative to ABLATE_RUN_DIR or
 * absolute, and must stay inside it once `..` and symlinks are resolved.
 */
export type ProgramEvent =
  | { type: 'metrics'; step: number; metrics: { name: string; value: number }[]; totalSteps?: number }
  | { type: 'checkpoint'; step: number; path: string; keep?: number; totalSteps?: number }
  | { type: 'artifact'; step: number; kind: string; path: string; totalSteps?: number }
  | { type: 'mu-norms'; step: number; norms: number[]; totalSteps?: number }
  | {
      type: 'samples';
      step: number;
      path: string;
      shape: [number, number, number, number];
      kind: 'raw' | 'denoised';
      temperature: number;
      totalSteps?: number;
    };

/** A line that is not an event. `outside` marks a path outside the run folder (refused: the run fails). */
export class ProgramEventError extends Error {
  override name = 'ProgramEventError';
  constructor(
    readonly line: number,
    message: string,
    readonly outside = false,
  ) {
    super(`event line ${line}: ${message}`);
  }
}

const MAX_SHOWN_CHARS = 120;
const METRIC_NAME = /^[A-Za-z0-9_][A-Za-z0-9_./:-]*$/;

function show(text: string): string {
  return JSON.stringify(text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}…` : text);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * One line of fd 3 → an event with its paths resolved (absolute, inside `runDir`). Throws ProgramEventError naming the
 * line number and what is wrong. Metric values may be numbers, null or "NaN"/"Infinity"/"-Infinity" (null = NaN).
 */
export function parseProgramEvent(text: string, line: number, runDir: string): ProgramEvent {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ProgramEventError(line, `expected one JSON object per line, got ${show(text)}`);
  }
  if (!isRecord(v)) throw new ProgramEventError(line, `expected a JSON object such as {"step": 1, "metrics": {"loss": 0.5}}, got ${show(text)}`);
  const step = v.step;
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0)
    throw new ProgramEventError(line, `step: expected an integer ≥ 0, got ${JSON.stringify(step) ?? 'nothing'}`);
  let totalSteps: number | undefined;
  if (v.total_steps !== undefined) {
    if (typeof v.total_steps !== 'number' || !Number.isSafeInteger(v.total_steps) || v.total_steps < 1)
      throw new ProgramEventError(line, `total_steps: expected an integer ≥ 1, got ${JSON.stringify(v.total_steps)}`);
    totalSteps = v.total_steps;
  }
  const extra = totalSteps === undefined ? {} : { totalSteps };
  const kinds = ['metrics', 'checkpoint', 'artifact', 'mu_norms', 'samples'].filter((k) => v[k] !== undefined);
  if (kinds.length !== 1) {
    throw new ProgramEventError(
      line,
      `expected exactly one of "metrics", "checkpoint", "artifact", "mu_norms", "samples", got ${kinds.length === 0 ? 'none' : kinds.map((k) => `"${k}"`).join(' and ')} in ${show(text)}`,
    );
  }
  if (v.metrics !== undefined) {
    if (!isRecord(v.metrics) || Object.keys(v.metrics).length === 0)
      throw new ProgramEventError(line, `metrics: expected an object of name → number, got ${show(JSON.stringify(v.metrics))}`);
    const metrics = Object.entries(v.metrics).map(([name, raw]) => {
      if (!METRIC_NAME.test(name))
        throw new ProgramEventError(line, `metrics: expected names of letters, digits and _ . / : - (such as "eval/nll"), got ${JSON.stringify(name)}`);
      const value = toNumber(raw);
      if (value === undefined)
        throw new ProgramEventError(line, `metrics.${name}: expected a number (or null, "NaN", "Infinity", "-Infinity"), got ${JSON.stringify(raw)}`);
      return { name, value };
    });
    return { type: 'metrics', step, metrics, ...extra };
  }
  if (v.mu_norms !== undefined) {
    const norms = Array.isArray(v.mu_norms) ? v.mu_norms.map(toNumber) : [];
    if (norms.length === 0 || norms.some((n) => n === undefined))
      throw new ProgramEventError(line, `mu_norms: expected a non-empty list of numbers (one per class), got ${show(JSON.stringify(v.mu_norms))}`);
    return { type: 'mu-norms', step, norms: norms.map((n) => n ?? NaN), ...extra };
  }
  if (v.samples !== undefined) {
    const shape = v.shape;
    if (!Array.isArray(shape) || shape.length !== 4 || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 1)) {
      throw new ProgramEventError(line, `shape: expected [N, height, width, channels] of integers ≥ 1, got ${show(JSON.stringify(shape) ?? 'nothing')}`);
    }
    const kind = v.kind ?? 'raw';
    if (kind !== 'raw' && kind !== 'denoised') throw new ProgramEventError(line, `kind: expected "raw" or "denoised", got ${JSON.stringify(kind)}`);
    const temperature = v.temperature ?? 1;
    if (typeof temperature !== 'number' || !(temperature > 0))
      throw new ProgramEventError(line, `temperature: expected a number > 0, got ${JSON.stringify(temperature)}`);
    return {
      type: 'samples',
      step,
      path: insideRunDir(v.samples, 'samples', line, runDir),
      shape: shape as [number, number, number, number],
      kind,
      temperature,
      ...extra,
    };
  }
  if (v.checkpoint !== undefined) {
    if (v.keep !== undefined && (typeof v.keep !== 'number' || !Number.isSafeInteger(v.keep) || v.keep < 1))
      throw new ProgramEventError(line, `keep: expected an integer ≥ 1 (how many of the newest reported checkpoints to keep), got ${JSON.stringify(v.keep)}`);
    return {
      type: 'checkpoint',
      step,
      path: insideRunDir(v.checkpoint, 'checkpoint', line, runDir),
      ...(v.keep === undefined ? {} : { keep: v.keep }),
      ...extra,
    };
  }
  const kind = v.artifact;
  if (typeof kind !== 'string' || !/^[a-z0-9][a-z0-9_.-]*$/.test(kind))
    throw new ProgramEventError(line, `artifact: expected a kind of a-z, 0-9, _ . - (such as "samples"), got ${JSON.stringify(kind)}`);
  return { type: 'artifact', step, kind, path: insideRunDir(v.path, 'path', line, runDir), ...extra };
}

/** A number, null (NaN) or "NaN" / "Infinity" / "-Infinity"; undefined for anything else. */
function toNumber(raw: unknown): number | undefined {
  if (raw === null) return NaN;
  if (typeof raw === 'number') return raw;
  return raw === 'NaN' || raw === 'Infinity' || raw === '-Infinity' ? Number(raw) : undefined;
}

/** `p` resolved against the run folder; refused (ProgramEventError with `outside`) when it leads out of it. */
function insideRunDir(p: unknown, field: string, line: number, runDir: string): string {
  if (typeof p !== 'string' || p === '')
    throw new ProgramEventError(line, `${field}: expected a path inside ABLATE_RUN_DIR, got ${JSON.stringify(p) ?? 'nothing'}`);
  const abs = path.resolve(runDir, p);
  if (!isInside(realish(abs), realish(path.resolve(runDir)))) {
    throw new ProgramEventError(
      line,
      `${field}: refused "${p}": it is outside the run folder ${runDir} (ABLATE_RUN_DIR); write checkpoints and artifacts inside it`,
      true,
    );
  }
  return abs;
}
