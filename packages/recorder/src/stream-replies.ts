/** Checks the shapes of Redis stream replies (ioredis types them as unknown) at the boundary. */

/** One stream entry: id and its field list, or null when the entry was deleted (trimmed) while pending. */
export type StreamEntry = [id: string, fields: string[] | null];

function isStringArray(x: unknown): x is string[] {
  return Array.isArray(x) && x.every((v) => typeof v === 'string');
}

function toEntry(x: unknown): StreamEntry | null {
  if (!Array.isArray(x) || typeof x[0] !== 'string') return null;
  const fields: unknown = x[1];
  if (fields === null || fields === undefined) return [x[0], null];
  return isStringArray(fields) ? [x[0], fields] : [x[0], null];
}

export function toEntries(x: unknown): StreamEntry[] {
  if (!Array.isArray(x)) return [];
  return x.map(toEntry).filter((e): e is StreamEntry => e !== null);
}

/** XREADGROUP reply `[[key, entries]]` (or null on timeout) → the entries of the one stream read. */
export function entriesOfRead(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return [];
  const first: unknown = reply[0];
  return Array.isArray(first) ? toEntries(first[1]) : [];
}

/** XAUTOCLAIM reply `[nextCursor, entries, deletedIds]`. */
export function parseAutoclaim(reply: unknown): { cursor: string; entries: StreamEntry[]; deleted: string[] } {
  if (!Array.isArray(reply) || typeof reply[0] !== 'string') return { cursor: '0-0', entries: [], deleted: [] };
  const deleted: unknown = reply[2];
  return { cursor: reply[0], entries: toEntries(reply[1]), deleted: isStringArray(deleted) ? deleted : [] };
}

/** A flat [k, v, k, v] reply (XINFO GROUPS items) → object. */
export function pairs(x: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(x)) return out;
  for (let i = 0; i + 1 < x.length; i += 2) {
    const k: unknown = x[i];
    if (typeof k === 'string') out[k] = x[i + 1];
  }
  return out;
}
