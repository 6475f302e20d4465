import type { Redis } from 'ioredis';
import { compareStreamIds } from '@ablate/store';
import { entriesOfRead, pairs, parseAutoclaim, type StreamEntry } from './stream-replies';

/** The recorder's reads of `<prefix>:events` as one consumer of the group: Redis only, no SQLite. */
export interface StreamReader {
  /** XGROUP CREATE <key> <group> 0 MKSTREAM; true when it created the group (BUSYGROUP: it was there). */
  ensureGroup(): Promise<boolean>;
  /** This consumer's pending entries after `from` (XREADGROUP … 0): delivered before, maybe applied, never acked. */
  pending(from: string): Promise<StreamEntry[]>;
  /** New entries (XREADGROUP … >), waiting up to `blockMs` for some (null: not at all). */
  readNew(blockMs: number | null): Promise<StreamEntry[]>;
  /** One XAUTOCLAIM page from `cursor`: entries idle at least `minIdleMs` on other consumers, now this one's. */
  claim(minIdleMs: number, cursor: string): Promise<{ cursor: string; entries: StreamEntry[] }>;
  ack(ids: string[]): Promise<void>;
  /** XTRIM MINID ~ <the oldest entry any group has not acked or not yet read>. */
  trim(): Promise<void>;
}

export function createStreamReader(redis: Redis, key: string, group: string, consumer: string, batchSize: number): StreamReader {
  return {
    async ensureGroup() {
      try {
        await redis.xgroup('CREATE', key, group, '0', 'MKSTREAM');
        return true;
      } catch (err: unknown) {
        const message = err !== null && typeof err === 'object' && 'message' in err ? err.message : undefined;
        if (!(typeof message === 'string' && message.startsWith('BUSYGROUP'))) throw err;
        return false;
      }
    },
    async pending(from) {
      return entriesOfRead(await redis.xreadgroup('GROUP', group, consumer, 'COUNT', batchSize, 'STREAMS', key, from));
    },
    async readNew(blockMs) {
      const reply =
        blockMs === null
          ? await redis.xreadgroup('GROUP', group, consumer, 'COUNT', batchSize, 'STREAMS', key, '>')
          : await redis.xreadgroup('GROUP', group, consumer, 'COUNT', batchSize, 'BLOCK', blockMs, 'STREAMS', key, '>');
      return entriesOfRead(reply);
    },
    async claim(minIdleMs, cursor) {
      return parseAutoclaim(await redis.xautoclaim(key, group, consumer, minIdleMs, cursor, 'COUNT', batchSize));
    },
    async ack(ids) {
      await redis.xack(key, group, ...ids);
    },
    async trim() {
      const groups = await redis.xinfo('GROUPS', key);
      if (!Array.isArray(groups) || groups.length === 0) return;
      let minId: string | null = null;
      for (const g of groups) {
        const info = pairs(g);
        const name = info.name;
        const last = info['last-delivered-id'];
        if (typeof name !== 'string' || typeof last !== 'string') return; // unknown shape: do not trim
        let keep = last;
        if (Number(info.pending) > 0) {
          const summary = await redis.xpending(key, name);
          const smallest: unknown = summary[1];
          if (typeof smallest === 'string' && compareStreamIds(smallest, keep) < 0) keep = smallest;
        }
        if (minId === null || compareStreamIds(keep, minId) < 0) minId = keep;
      }
      if (minId !== null) await redis.xtrim(key, 'MINID', '~', minId);
    },
  };
}
