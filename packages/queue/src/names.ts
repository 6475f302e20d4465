/**
 * Every Redis name the scheduler, the workers and the recorder share. All keys live under one prefix
 * (`QUEUE_PREFIX`, default `ablate`), which is also BullMQ's `prefix`, so one Redis can host several independent setups
 * (and each test uses its own `test-<uuid>` prefix).
 */

/** The BullMQ queue of runs: one job per run, job id = run id. */
export const RUN_QUEUE = 'runs';
/** The consumer group of the recorder on the event stream. */
export const RECORDER_GROUP = 'recorder';
export const DEFAULT_PREFIX = 'ablate';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** The Redis Stream the workers report through (worker → recorder): `<prefix>:events`. */
export function eventStreamKey(prefix: string): string {
  return `${prefix}:events`;
}

/** Set (any value) to cancel every run of a sweep; the worker checks it between steps. `<prefix>:cancel:sweep:<sweepId>`. */
export function cancelKey(prefix: string, sweepId: string): string {
  return `${prefix}:cancel:sweep:${sweepId}`;
}

/** Set (any value) to cancel one run; the worker checks it between steps. `<prefix>:cancel:run:<runId>`. */
export function cancelRunKey(prefix: string, runId: string): string {
  return `${prefix}:cancel:run:${runId}`;
}

/** Both keys that cancel a run, for one `EXISTS sweepKey runKey` per step (the run is cancelled when it returns > 0). */
export function cancelKeys(prefix: string, ids: { sweepId: string; runId: string }): [sweepKey: string, runKey: string] {
  return [cancelKey(prefix, ids.sweepId), cancelRunKey(prefix, ids.runId)];
}

/**
 * Where a run must resume from, as its worker last checkpointed it: JSON `{ step, uri, sha256, host, at }` at
 * `<prefix>:resume:run:<runId>`. Written by the worker after each checkpoint (workers never read SQLite), deleted when
 * the run succeeds. A worker that finds it but cannot read a checkpoint fails the job instead of starting from step 0.
 */
export function resumePointKey(prefix: string, runId: string): string {
  return `${prefix}:resume:run:${runId}`;
}

export interface QueueEnv {
  redisUrl: string;
  prefix: string;
}

/**
 * `REDIS_URL` (default redis://127.0.0.1:6379) and `QUEUE_PREFIX` (default `ablate`). `REDIS_PASSWORD`, when set, is the
 * password for a REDIS_URL that carries none (docker compose passes it this way; a password written in the URL wins).
 */
export function queueEnv(env: Readonly<Record<string, string | undefined>> = process.env): QueueEnv {
  const url = env.REDIS_URL?.trim();
  const prefix = env.QUEUE_PREFIX?.trim();
  return {
    redisUrl: withPassword(url === undefined || url === '' ? DEFAULT_REDIS_URL : url, env.REDIS_PASSWORD),
    prefix: prefix === undefined || prefix === '' ? DEFAULT_PREFIX : prefix,
  };
}

function withPassword(url: string, password: string | undefined): string {
  if (password === undefined || password === '') return url;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url; // redisOptionsFromUrl names what is wrong with it
  }
  if (u.password !== '' || (u.protocol !== 'redis:' && u.protocol !== 'rediss:')) return url;
  u.password = encodeURIComponent(password);
  return u.toString();
}
