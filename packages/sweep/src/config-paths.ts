import { RunConfigSchema } from '@ablate/config';
import { z } from 'zod';

/** The keys of a mapping in the run config schema, or null when the schema there is a value (number, enum, …). */
function keysOf(schema: z.core.$ZodType): { keys: string[]; children: Map<string, z.core.$ZodType> } | null {
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) return keysOf(schema.unwrap());
  if (schema instanceof z.ZodObject) {
    const children = new Map<string, z.core.$ZodType>(Object.entries(schema.shape));
    return { keys: [...children.keys()], children };
  }
  if (schema instanceof z.ZodUnion) {
    // data: { source: mnist-embedded, … } | { source: idx, dir }: a key exists if some branch has it.
    const children = new Map<string, z.core.$ZodType>();
    for (const option of schema.options) {
      const sub = keysOf(option);
      if (sub === null) return null;
      for (const [k, v] of sub.children) if (!children.has(k)) children.set(k, v);
    }
    return { keys: [...children.keys()], children };
  }
  return null;
}

/**
 * Why a dotted path is not a key of the run config (`prior.mu_int` → `unknown run config key "mu_int" in prior …`), or
 * null when it is one. Paths that stop at a mapping (`prior`) are keys too: their values are merged into it.
 */
export function configPathProblem(path: readonly string[]): string | null {
  let schema: z.core.$ZodType = RunConfigSchema;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i] ?? '';
    const where = path.slice(0, i).join('.');
    const here = keysOf(schema);
    if (here === null) return `unknown run config key "${path.join('.')}" (${where} is a value and has no keys below it)`;
    const child = here.children.get(seg);
    if (child === undefined) {
      const owner = where === '' ? 'the run config' : where;
      const suggestion = closest(seg, here.keys);
      return `unknown run config key "${seg}"${where === '' ? '' : ` in ${where}`}${suggestion === null ? '' : `, did you mean "${suggestion}"?`} (${owner} has: ${here.keys.join(', ')})`;
    }
    schema = child;
  }
  return null;
}

/** The known key nearest to a misspelt one, if it is near enough to be a likely typo. */
export function closest(word: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const k of known) {
    const d = editDistance(word, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

/** Edits (insert, delete, substitute, swap two neighbours) between two words: optimal string alignment distance. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      const row = d[i];
      if (row !== undefined) row[j] = v;
    }
  }
  return at(a.length, b.length);
}
