import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from './config-error';
import { issueAt, type YamlSource } from './yaml-source';

/** `"four"`, `3`, `null`, `a list`, `a mapping`: what the user wrote, for "expected X, got Y". */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (v !== null && typeof v === 'object') return 'a mapping';
  return JSON.stringify(v);
}

/** The value at a key path of plain data, or undefined when the path does not exist. */
export function getPath(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** One problem named by a zod issue: its key path in the validated value, the message, and whether it is about the key itself. */
export interface IssuePart {
  path: PropertyKey[];
  message: string;
  /** True for unknown keys: locate the key, not its value. */
  key: boolean;
}

/**
 * One zod issue → one part per problem, with paths relative to `root` (the value that was validated): unknown keys get one
 * each, unions report the branch that got furthest, and every message ends in `got <what the value is>`.
 */
export function explainZodIssue(issue: z.core.$ZodIssue, root: unknown, prefix: readonly PropertyKey[] = []): IssuePart[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'unrecognized_keys') {
    const parent = getPath(root, path);
    const known = parent !== null && typeof parent === 'object' ? Object.keys(parent).filter((k) => !issue.keys.includes(k)) : [];
    return issue.keys.map((k) => ({
      path: [...path, k],
      message: `unknown key "${k}"${known.length ? ` (this mapping also has: ${known.join(', ')})` : ''}`,
      key: true,
    }));
  }
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    // Report the branch that got furthest: the one with the longest paths.
    const best = [...issue.errors].sort((a, b) => depth(b) - depth(a))[0] ?? [];
    return best.flatMap((sub) => explainZodIssue(sub, root, path));
  }
  const got = describeValue(getPath(root, path));
  const message = issue.message.includes(', got ') ? issue.message : `${issue.message}, got ${got}`;
  return [{ path, message, key: false }];
}

/** One zod issue → one located ConfigIssue per problem (unknown keys get one each, at the key). */
export function toConfigIssues(issue: z.core.$ZodIssue, source: YamlSource, root: unknown, base: readonly PropertyKey[] = []): ConfigIssue[] {
  return explainZodIssue(issue, root).map((p) => issueAt(source, [...base, ...p.path], p.message, p.key));
}

function depth(errors: z.core.$ZodIssue[]): number {
  return Math.max(0, ...errors.map((e) => e.path.length));
}

/** Validates `value` (from `source`) against `schema`, or throws a ConfigError listing every problem. */
export function parseWithSchema<T extends z.ZodType>(
  schema: T,
  source: YamlSource,
  value: unknown = source.value,
  base: readonly PropertyKey[] = [],
): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new ConfigError(r.error.issues.flatMap((i) => toConfigIssues(i, source, value, base)));
}
