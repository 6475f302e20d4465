import type { Redis } from 'ioredis';

/**
 * One recorder records at a time: the one holding `<prefix>:recorder:lease`, renewed every loop and expiring after
 * `leaseMs` if its holder dies. Two recorders applying batches of one stream at once could interleave a run's start
 * with its rows and lose rows.
 */
export interface Lease {
  /** Renews the lease if this recorder holds it, takes it if nobody does. 'renewed' | 'acquired' | the holder's token. */
  renew(): Promise<'renewed' | 'acquired' | string>;
  /** Gives the lease up if this recorder holds it. */
  release(): Promise<void>;
}

export function recorderLeaseKey(prefix: string): string {
  return `${prefix}:recorder:lease`;
}

export function createLease(redis: Redis, prefix: string, consumer: string, leaseMs: number): Lease {
  const key = recorderLeaseKey(prefix);
  const token = `${consumer}:${process.pid}:${Math.random().toString(36).slice(2, 10)}`;
  return {
    async renew() {
      const r = (await redis.eval(
        "local v = redis.call('GET', KEYS[1]) if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 'renewed' end if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 'acquired' end return v",
        1,
        key,
        token,
        leaseMs,
      )) as string;
      return r;
    },
    async release() {
      await redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, key, token);
    },
  };
}
