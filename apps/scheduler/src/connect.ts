import { redactRedisUrl, redisOptionsFromUrl } from '@ablate/queue';
import { openStore, type Store } from '@ablate/store';
import { Redis } from 'ioredis';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '@ablate/cli';

/**
 * A Redis client for BullMQ and the recorder, after checking that the server answers (a client with
 * maxRetriesPerRequest: null would otherwise wait forever on a wrong REDIS_URL).
 */
export async function connectRedis(url: string, timeoutMs = 3000): Promise<Redis> {
  const options = redisOptionsFromUrl(url);
  const probe = new Redis({ ...options, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } catch (err: unknown) {
    throw new UsageError(
      `Redis at ${redactRedisUrl(url)} does not answer (${err instanceof Error ? err.message : String(err)}).\n` +
        'Start it (apt-get install -y redis-server && redis-server --daemonize yes) or set REDIS_URL; pnpm run doctor checks the set-up.',
    );
  } finally {
    probe.disconnect();
  }
  return new Redis(options);
}

export function openWritableStore(dbPath: string): Store {
  mkdirSync(path.dirname(dbPath), { recursive: true });
  return openStore(dbPath);
}
