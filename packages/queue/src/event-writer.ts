import type { Redis } from 'ioredis';
import { encodeEvent, EVENT_FIELD, type RunEvent } from './run-event';
import { eventStreamKey } from './names';

export interface EventWriterOptions {
  /** Flush at most this long after the first buffered event. Default 100 ms. */
  flushEveryMs?: number;
  /** Flush as soon as this many events are buffered. Default 200. */
  maxBatch?: number;
  /** Called with the error of a background flush (the events stay buffered and are retried on the next flush). */
  onError?(err: unknown): void;
}

/** How a worker reports to the recorder. `emit` never blocks; events reach the stream in emit order. */
export interface RunEventWriter {
  /** Buffers the event; it is XADDed with the next flush. */
  emit(event: RunEvent): void;
  /** Writes every buffered event (one pipeline per batch). Rejects if Redis refused some; those stay buffered, in order. */
  flush(): Promise<void>;
  /** Flushes and stops the timer. Does not close the Redis client (the caller owns it). */
  close(): Promise<void>;
  /** Events not yet on the stream. */
  readonly pending: number;
  /** Events written to the stream so far. */
  readonly written: number;
}

/**
 * Batched XADD to `<prefix>:events`: events are buffered and written with one pipeline every `flushEveryMs` or every
 * `maxBatch` events, so a run reporting metrics every 10 steps costs a round trip now and then, not one per event.
 * Flushes never overlap, so entries land in emit order; an entry Redis refused is retried (before newer ones) on the
 * next flush, so an event can reach the stream twice but never zero times, which the recorder's idempotent writes absorb.
 */
export function createEventWriter(redis: Redis, prefix: string, opts: EventWriterOptions = {}): RunEventWriter {
  const key = eventStreamKey(prefix);
  const flushEveryMs = opts.flushEveryMs ?? 100;
  const maxBatch = opts.maxBatch ?? 200;
  let buffer: string[] = [];
  let written = 0;
  let timer: NodeJS.Timeout | null = null;
  let chain: Promise<void> = Promise.resolve();
  let closed = false;
  let backgroundQueued = false; // a background flush is chained and has not started yet: no need for another

  const writeBuffered = async (): Promise<void> => {
    backgroundQueued = false;
    while (buffer.length > 0) {
      const batch = buffer.slice(0, maxBatch);
      const pipeline = redis.pipeline();
      for (const json of batch) pipeline.xadd(key, '*', EVENT_FIELD, json);
      const results = (await pipeline.exec()) ?? [];
      const failed: string[] = [];
      let firstError: unknown = null;
      batch.forEach((json, i) => {
        const err = results[i]?.[0] ?? (results[i] === undefined ? new Error('no reply from Redis') : null);
        if (err) {
          failed.push(json);
          firstError ??= err;
        } else written += 1;
      });
      buffer = [...failed, ...buffer.slice(batch.length)];
      if (firstError !== null) throw firstError;
    }
  };

  const flush = (): Promise<void> => {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    const next = chain.then(writeBuffered);
    chain = next.catch(() => undefined);
    return next;
  };

  const background = (): void => {
    if (backgroundQueued) return;
    backgroundQueued = true;
    flush().catch((err: unknown) => opts.onError?.(err));
  };

  return {
    emit(event) {
      if (closed) throw new Error('event emitter is closed');
      buffer.push(encodeEvent(event));
      if (buffer.length >= maxBatch) background();
      else if (timer === null) {
        timer = setTimeout(background, flushEveryMs);
        timer.unref();
      }
    },
    flush,
    async close() {
      closed = true;
      await flush();
    },
    get pending() {
      return buffer.length;
    },
    get written() {
      return written;
    },
  };
}
