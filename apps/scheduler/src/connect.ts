import { connectProbe, redactRedisUrl, redisOptionsFromUrl } from '@ablate/queue';
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
  try {
    (await connectProbe(options, timeoutMs)).disconnect();
  } catch (err: unknown) {
    throw new UsageError(
      `Redis at ${redactRedisUrl(url)} does not answer (${err instanceof Error ? err.message : String(err)}).\n` +
        'Start it (apt-get install -y redis-server && redis-server --daemonize yes) or set REDIS_URL; pnpm run doctor checks the set-up.',
    );
  }
  return new Redis(options);
}

/**
 * connectRedis for a long-lived service (the recorder): while Redis does not answer, retries every second for up to
 * `waitMs` (a restart during a Redis outage waits for it instead of exiting), then fails with connectRedis's error.
 */
export async function connectRedisWaiting(url: string, waitMs: number, onWait: (message: string) => void): Promise<Redis> {
  const deadline = Date.now() + waitMs;
  for (let tries = 0; ; tries++) {
    try {
      return await connectRedis(url);
    } catch (err: unknown) {
      if (!(err instanceof UsageError) || Date.now() >= deadline) throw err;
      if (tries === 0) onWait(`${err.message.split('\n')[0] ?? ''}; waiting up to ${Math.round(waitMs / 1000)} s for it (RECORDER_REDIS_WAIT_MS)`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

export function openWritableStore(dbPath: string): Store {
  mkdirSync(path.dirname(dbPath), { recursive: true });
  return openStore(dbPath);
}
