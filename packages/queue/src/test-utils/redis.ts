import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { DEFAULT_REDIS_URL } from '../names';

/** Test helper (not exported): the real Redis of REDIS_URL, a fresh `test-<uuid>` prefix, and cleanup of its keys. */
export const REDIS_URL = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;

export function testPrefix(): string {
  return `test-${randomUUID()}`;
}

/** Deletes every key under `prefix:`. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

export function newRedis(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: null });
}
