import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/** The real Redis the tests use: REDIS_URL, else @ablate/queue's DEFAULT_REDIS_URL (not imported: the queue's own tests use these helpers). */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function newRedis(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: null });
}

/** A fresh `test-<uuid>` queue prefix, so tests never see each other's keys. */
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

/** Deletes every key under `prefix:` with a connection of its own. */
export async function deletePrefix(prefix: string, url = REDIS_URL): Promise<void> {
  const redis = new Redis(url);
  try {
    await deleteKeys(redis, prefix);
  } finally {
    redis.disconnect();
  }
}
