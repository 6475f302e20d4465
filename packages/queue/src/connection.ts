import { Redis } from 'ioredis';
import { SpecError } from './spec-error';

/**
 * Connection options that both `new Redis(options)` (ioredis) and BullMQ's `connection` accept. `maxRetriesPerRequest:
 * null` is what BullMQ Workers need (their commands block): commands wait for a reconnect instead of failing.
 */
export interface RedisConnectionOptions {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  /** Set for rediss:// (TLS with SNI = host). */
  tls?: { servername: string };
  maxRetriesPerRequest: null;
}

/**
 * `redis://[user[:password]@]host[:port][/db]` or `rediss://…` (TLS) → ioredis options for BullMQ's `connection` and
 * for `new Redis(options)`. User and password may be percent-encoded. Throws a SpecError for anything else.
 */
export function redisOptionsFromUrl(url: string): RedisConnectionOptions {
  const bad = (message: string): SpecError => new SpecError('REDIS_URL', [{ field: redactRedisUrl(url), message }]);
  let u: URL;
  try {
    u = new URL(url);
  } catch (err: unknown) {
    throw new SpecError('REDIS_URL', [{ field: redactRedisUrl(url), message: 'expected a URL like redis://[user:password@]host[:port][/db]' }], { cause: err });
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw bad(`expected the scheme redis:// or rediss://, got ${u.protocol}//`);
  const host = u.hostname.startsWith('[') && u.hostname.endsWith(']') ? u.hostname.slice(1, -1) : u.hostname;
  if (host === '') throw bad('expected a host name');
  const port = u.port === '' ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\/+/, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw bad(`expected a database number after the host (e.g. /0), got "/${dbText}"`);
  const options: RedisConnectionOptions = { host, port, db, maxRetriesPerRequest: null };
  if (u.username !== '') options.username = decodeURIComponent(u.username);
  if (u.password !== '') options.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:') options.tls = { servername: host };
  return options;
}

/** The URL with its password replaced by `***`, for logs and errors. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/]*)@/i, (_m, scheme: string, auth: string) => {
    const colon = auth.indexOf(':');
    return colon < 0 ? `${scheme}${auth}@` : `${scheme}${auth.slice(0, colon)}:***@`;
  });
}

/**
 * A client that fails fast instead of retrying (a client with maxRetriesPerRequest: null would wait forever on a wrong
 * REDIS_URL), connected and answering PING, for checking a server before use. Throws the connection's error; the
 * caller disconnects it.
 */
export async function connectProbe(options: RedisConnectionOptions, timeoutMs: number): Promise<Redis> {
  const probe = new Redis({
    ...options,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  probe.on('error', () => undefined); // the caller reports the thrown error
  try {
    await probe.connect();
    await probe.ping();
    return probe;
  } catch (err: unknown) {
    probe.disconnect();
    throw err;
  }
}
