import { createHash } from 'node:crypto';
import type { RunConfig } from '@ablate/config';
import type { ProgramSpec } from './program-spec';

/** What a program run's id hashes, and what runs.config_json holds for it. */
export interface ProgramIdentity {
  program: ProgramSpec;
  config: Record<string, unknown>;
}

/**
 * JSON with object keys sorted recursively and no whitespace, so equal data gives equal text whatever the key order.
 * Undefined object values are left out (as JSON.stringify does); functions, symbols, bigints, non-finite numbers and
 * non-plain objects are bugs and throw a TypeError.
 */
export function canonicalJson(v: unknown): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'string':
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`canonicalJson: ${v} is not JSON`);
      return JSON.stringify(v); // -0 → "0"
    case 'object': {
      if (Array.isArray(v)) return `[${v.map((x: unknown) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) throw new TypeError('canonicalJson: only plain objects are JSON');
      const entries = Object.entries(v).filter(([, x]) => x !== undefined);
      entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJson: a ${typeof v} is not JSON`);
  }
}

/**
 * `r-` + the first 16 hex chars of sha256(canonicalJson(config)): the run id and BullMQ job id. For a program's run,
 * `config` is `{ program, config }` (programIdentity), so the command is part of what the id names.
 */
export function runIdOf(config: RunConfig | ProgramIdentity): string {
  return `r-${createHash('sha256').update(canonicalJson(config)).digest('hex').slice(0, 16)}`;
}
