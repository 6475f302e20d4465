import { z } from 'zod';
import { parseOrThrow, SpecError } from './spec-error';
import type {
  ArtifactEvent,
  CheckpointEvent,
  ConfusionEvent,
  MetricsEvent,
  MetricValue,
  MuNormsEvent,
  RunEvent,
  RunEventKind,
  RunFinishedEvent,
  RunReleasedEvent,
  RunStartedEvent,
  RunStatusFinal,
} from '@ablate/events';

// The event types live in @ablate/events (the store applies them without depending on the queue); the queue validates them.
export type {
  ArtifactEvent,
  CheckpointEvent,
  ConfusionEvent,
  MetricsEvent,
  MetricValue,
  MuNormsEvent,
  RunEvent,
  RunEventKind,
  RunFinishedEvent,
  RunReleasedEvent,
  RunStartedEvent,
  RunStatusFinal,
};

export const FINAL_STATUSES = ['succeeded', 'failed', 'cancelled', 'diverged'] as const satisfies readonly RunStatusFinal[];
export const RUN_EVENT_KINDS = [
  'run-started',
  'metrics',
  'mu-norms',
  'confusion',
  'checkpoint',
  'artifact',
  'run-released',
  'run-finished',
] as const satisfies readonly RunEventKind[];

/** The run-finished event of a run that failed outside its training (a bad payload, a crash, its last attempt used up). */
export function runFailedEvent(runId: string, error: string): RunFinishedEvent {
  return { kind: 'run-finished', runId, status: 'failed', finalStep: 0, error, at: Date.now() };
}

// ---- zod schemas (the recorder's edge) ----

const str = (what: string) => z.string({ error: `expected ${what}` }).min(1, { error: `expected ${what}` });
const anyStr = (what: string) => z.string({ error: `expected ${what}` });
const step = () =>
  z
    .number({ error: 'expected a step (an integer ≥ 0)' })
    .int({ error: 'expected a step (an integer ≥ 0)' })
    .min(0, { error: 'expected a step (an integer ≥ 0)' });
const nonNegInt = (what: string) =>
  z
    .number({ error: `expected ${what}` })
    .int({ error: `expected ${what}` })
    .min(0, { error: `expected ${what}` });
const epochMs = () =>
  z.number({ error: 'expected epoch milliseconds' }).int({ error: 'expected epoch milliseconds' }).positive({ error: 'expected epoch milliseconds' });
/** A number that may be NaN or ±Infinity: JSON carries those as the strings "NaN", "Infinity", "-Infinity" (or null = NaN). */
const anyNumber = () =>
  z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity']).transform(Number), z.null().transform(() => NaN)], {
    error: 'expected a number (or "NaN", "Infinity", "-Infinity")',
  });

const RunStartedSchema = z.object({
  kind: z.literal('run-started'),
  runId: str('a run id'),
  attempt: z
    .number({ error: 'expected an attempt number ≥ 1' })
    .int({ error: 'expected an attempt number ≥ 1' })
    .min(1, { error: 'expected an attempt number ≥ 1' }),
  host: anyStr('a host name'),
  workerId: anyStr('a worker id'),
  backend: anyStr('a backend name'),
  device: anyStr('a device description'),
  resumeFrom: step().nullable(),
  at: epochMs(),
});
const MetricsSchema = z.object({
  kind: z.literal('metrics'),
  runId: str('a run id'),
  rows: z.array(z.object({ step: step(), name: str('a metric name'), value: anyNumber() }), { error: 'expected a list of { step, name, value }' }),
});
const MuNormsSchema = z.object({
  kind: z.literal('mu-norms'),
  runId: str('a run id'),
  step: step(),
  norms: z.array(anyNumber(), { error: 'expected a list of numbers, one per class' }),
});
const ConfusionSchema = z.object({
  kind: z.literal('confusion'),
  runId: str('a run id'),
  step: step(),
  sampleKind: z.enum(['raw', 'denoised'], { error: 'expected raw or denoised' }).optional(),
  temperature: z.number({ error: 'expected a temperature > 0' }).positive({ error: 'expected a temperature > 0' }).optional(),
  judge: str('a judge name').optional(),
  matrix: z
    .array(z.array(nonNegInt('a count (an integer ≥ 0)'), { error: 'expected a row of counts' }), { error: 'expected a square matrix of counts' })
    .refine((m) => m.every((row) => row.length === m.length), { error: 'expected a square matrix of counts (one row and one column per class)' }),
});
const CheckpointSchema = z.object({
  kind: z.literal('checkpoint'),
  runId: str('a run id'),
  step: step(),
  uri: str('a uri'),
  bytes: nonNegInt('a byte count'),
  sha256: z.string({ error: 'expected a sha256 hex digest' }).regex(/^[0-9a-f]{64}$/, { error: 'expected a sha256 hex digest (64 lowercase hex digits)' }),
});
const ArtifactSchema = z.object({
  kind: z.literal('artifact'),
  runId: str('a run id'),
  step: step(),
  artifact: str('an artifact kind'),
  uri: str('a uri'),
});
const RunReleasedSchema = z.object({
  kind: z.literal('run-released'),
  runId: str('a run id'),
  step: step(),
  at: epochMs(),
});
const RunFinishedSchema = z.object({
  kind: z.literal('run-finished'),
  runId: str('a run id'),
  status: z.enum(FINAL_STATUSES, { error: `expected one of ${FINAL_STATUSES.join(', ')}` }),
  finalStep: step(),
  error: z.string({ error: 'expected an error message' }).optional(),
  elapsedMs: nonNegInt('elapsed milliseconds').optional(),
  at: epochMs(),
});

const SCHEMAS = {
  'run-started': RunStartedSchema,
  metrics: MetricsSchema,
  'mu-norms': MuNormsSchema,
  confusion: ConfusionSchema,
  checkpoint: CheckpointSchema,
  artifact: ArtifactSchema,
  'run-released': RunReleasedSchema,
  'run-finished': RunFinishedSchema,
} as const;

function isKind(k: unknown): k is RunEventKind {
  return typeof k === 'string' && Object.hasOwn(SCHEMAS, k);
}

/**
 * Validates one event (already JSON-decoded). Throws a SpecError that names the field and what was wrong, e.g.
 * `event 17-0 rows[3].step: expected a step (an integer ≥ 0), got -1`. Unknown keys are dropped (forward compatible).
 */
export function parseRunEvent(value: unknown, source = 'event'): RunEvent {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new SpecError(source, [
      { field: '', message: `expected an event object, got ${value === null ? 'null' : Array.isArray(value) ? 'a list' : JSON.stringify(value)}` },
    ]);
  }
  const kind = (value as { kind?: unknown }).kind;
  if (!isKind(kind)) {
    throw new SpecError(source, [
      { field: 'kind', message: `expected one of ${RUN_EVENT_KINDS.join(', ')}, got ${kind === undefined ? 'nothing' : JSON.stringify(kind)}` },
    ]);
  }
  // Each schema's output is exactly its event interface; the checks below keep the two in step at compile time.
  return parseOrThrow(SCHEMAS[kind], value, source) satisfies RunEvent;
}

// ---- stream encoding ----

/**
 * The one stream field of an entry: `XADD <prefix>:events * e <json>`. The JSON is the event object; numbers that JSON
 * cannot hold (NaN, Infinity, -Infinity) are written as those strings. One field keeps XADD and the decode cheap and
 * lets the event shape evolve without touching the stream layout.
 */
export const EVENT_FIELD = 'e';

function replacer(_key: string, v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v); // 'NaN' | 'Infinity' | '-Infinity'
  return v;
}

/** The JSON written into field `e`. */
export function encodeEvent(event: RunEvent): string {
  return JSON.stringify(event, replacer);
}

/**
 * A stream entry's field list (as ioredis returns it: [field, value, field, value, ...]) or the bare JSON string → the
 * validated event. Throws a SpecError with the reason (no `e` field, not JSON, bad field).
 */
export function decodeEvent(entry: readonly string[] | string, source = 'event'): RunEvent {
  let json: string | undefined;
  if (typeof entry === 'string') json = entry;
  else {
    for (let i = 0; i + 1 < entry.length; i += 2) if (entry[i] === EVENT_FIELD) json = entry[i + 1];
    if (json === undefined) {
      const fields = entry.filter((_, i) => i % 2 === 0);
      throw new SpecError(source, [
        {
          field: EVENT_FIELD,
          message: `expected a stream field "${EVENT_FIELD}" holding the event JSON, got ${fields.length === 0 ? 'no fields' : `fields ${fields.map((f) => JSON.stringify(f)).join(', ')}`}`,
        },
      ]);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err: unknown) {
    throw new SpecError(
      source,
      [
        {
          field: EVENT_FIELD,
          message: `expected JSON, got ${JSON.stringify(json.length > 80 ? `${json.slice(0, 80)}…` : json)} (${err instanceof Error ? err.message : String(err)})`,
        },
      ],
      { cause: err },
    );
  }
  return parseRunEvent(value, source);
}
