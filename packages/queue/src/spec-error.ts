import type { z } from 'zod';
import { describeValue, formatPath } from '@ablate/config';
import { AblateError } from '@ablate/cli';

/** One problem of a job payload or stream event: the field path (`config.train.steps`, `rows[3].value`) and what is wrong. */
export interface SpecIssue {
  field: string;
  message: string;
  /**
   * What callers branch on. `unknown_key`: a key this version does not know (a newer scheduler may have written it);
   * `forbidden_key`: `__proto__`, `constructor` or `prototype`, which no version writes (the payload was crafted).
   */
  code?: 'unknown_key' | 'forbidden_key';
}

/**
 * Keys no payload or event of ours has, and that JavaScript treats specially: assigning `__proto__` replaces an object's
 * prototype, and `constructor` / `prototype` lead to functions. A payload holding one anywhere was crafted (a
 * prototype-pollution attempt), so it is refused whole before anything reads or merges it.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** One issue per forbidden key found anywhere in `value` (own keys, as JSON.parse makes them), with its path. */
export function forbiddenKeyIssues(value: unknown): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const todo: { v: unknown; path: PropertyKey[] }[] = [{ v: value, path: [] }]; // a loop, not recursion: depth is the sender's
  for (let item = todo.pop(); item !== undefined; item = todo.pop()) {
    const { v, path } = item;
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      v.forEach((x, i) => todo.push({ v: x, path: [...path, i] }));
      continue;
    }
    for (const k of Object.keys(v)) {
      if (FORBIDDEN_KEYS.has(k))
        issues.push({
          field: formatPath([...path, k]),
          message: `forbidden key "${k}": no valid payload has it (a prototype-pollution attempt?); the payload is invalid`,
          code: 'forbidden_key',
        });
      else todo.push({ v: (v as Record<string, unknown>)[k], path: [...path, k] });
    }
  }
  return issues.reverse();
}

/**
 * Bad input on the queue: a job payload or a stream event that does not parse. Every problem at once, each as
 * `<source> <field>: expected X, got Y`, where source says what was being read (`job runs/abc`, `event 1700000000000-0`).
 * The worker turns it into BullMQ's UnrecoverableError (bad input fails once); the recorder logs and skips the entry.
 */
export class SpecError extends AblateError {
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
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((k) => ({ field: formatPath([...path, k]), message: `unknown key "${k}"`, code: 'unknown_key' as const }));
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

/** Validates `value` against `schema` or throws a SpecError naming every bad field (forbidden keys first, alone). */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, source: string): z.output<T> {
  const forbidden = forbiddenKeyIssues(value);
  if (forbidden.length > 0) throw new SpecError(source, forbidden);
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new SpecError(source, toSpecIssues(r.error.issues, value));
}
