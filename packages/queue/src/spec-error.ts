import type { z } from 'zod';
import { describeValue, formatPath } from '@ablate/config';

/** One problem of a job payload or stream event: the field path (`config.train.steps`, `rows[3].value`) and what is wrong. */
export interface SpecIssue {
  field: string;
  message: string;
}

/**
 * Bad input on the queue: a job payload or a stream event that does not parse. Every problem at once, each as
 * `<source> <field>: expected X, got Y`, where source says what was being read (`job runs/abc`, `event 1700000000000-0`).
 * The worker turns it into BullMQ's UnrecoverableError (bad input fails once); the recorder logs and skips the entry.
 */
export class SpecError extends Error {
  override name = 'SpecError';
  constructor(
    readonly source: string,
    readonly issues: SpecIssue[],
    options?: { cause?: unknown },
  ) {
    super(issues.map((i) => `${source} ${i.field === '' ? '(top level)' : i.field}: ${i.message}`).join('\n'), options);
  }
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** zod issues → SpecIssues with "expected X, got Y" messages; unknown keys and unions get one readable line each. */
export function toSpecIssues(issues: readonly z.core.$ZodIssue[], root: unknown, base: readonly PropertyKey[] = []): SpecIssue[] {
  return issues.flatMap((issue): SpecIssue[] => {
    const path = [...base, ...issue.path];
    if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => ({ field: formatPath([...path, k]), message: `unknown key "${k}"` }));
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // An object branch that got some way in explains more than the union's own message; a union of scalars does not.
      const best = [...issue.errors].sort((a, b) => depth(b) - depth(a))[0] ?? [];
      if (depth(best) > 0) return toSpecIssues(best, root, path);
    }
    const message = issue.message.includes(', got ') ? issue.message : `${issue.message}, got ${describeValue(valueAt(root, path))}`;
    return [{ field: formatPath(path), message }];
  });
}

function depth(errors: readonly z.core.$ZodIssue[]): number {
  return Math.max(0, ...errors.map((e) => e.path.length));
}

/** Validates `value` against `schema` or throws a SpecError naming every bad field. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, source: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new SpecError(source, toSpecIssues(r.error.issues, value));
}
