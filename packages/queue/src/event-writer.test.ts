import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { Redis } from 'ioredis';
import { createEventWriter } from './event-writer';
import { eventStreamKey } from './names';
import { decodeEvent, type MetricsEvent } from './run-event';
import { deleteKeys, newRedis, testPrefix } from '@ablate/test-utils';

let redis: Redis;
let prefix: string;
beforeAll(() => {
  redis = newRedis();
});
afterAll(async () => {
  await redis.quit();
});
beforeEach(() => {
  prefix = testPrefix();
});
afterEach(async () => {
  await deleteKeys(redis, prefix);
});

function metrics(i: number): MetricsEvent {
  return { kind: 'metrics', runId: 'r1', rows: [{ step: i, name: 'loss', value: 1 / (i + 1) }] };
}

async function readAll(): Promise<MetricsEvent[]> {
  const entries = await redis.xrange(eventStreamKey(prefix), '-', '+');
  return entries.map(([id, fields]) => decodeEvent(fields, id) as MetricsEvent);
}

describe('createEventWriter', () => {
  it('delivers every event in order exactly once, with few round trips', async () => {
    const pipeline = jest.spyOn(redis, 'pipeline');
    const em = createEventWriter(redis, prefix, { maxBatch: 100, flushEveryMs: 50 });
    for (let i = 0; i < 1000; i++) em.emit(metrics(i));
    await em.close();
    expect(em.pending).toBe(0);
    expect(em.written).toBe(1000);
    const got = await readAll();
    expect(got.map((e) => e.rows[0]?.step)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(got[999]).toEqual(metrics(999));
    expect(pipeline.mock.calls.length).toBeLessThanOrEqual(10);
    pipeline.mockRestore();
  });

  it('flushes on its timer without being asked', async () => {
    const em = createEventWriter(redis, prefix, { flushEveryMs: 20 });
    em.emit(metrics(0));
    em.emit(metrics(1));
    expect(await redis.xlen(eventStreamKey(prefix))).toBe(0);
    for (let t = 0; t < 50 && em.pending > 0; t++) await new Promise((r) => setTimeout(r, 20));
    expect((await readAll()).map((e) => e.rows[0]?.step)).toEqual([0, 1]);
    await em.close();
  });

  it('keeps events Redis refused and writes them, still in order, on the next flush', async () => {
    await redis.set(eventStreamKey(prefix), 'not a stream'); // XADD → WRONGTYPE
    const errors: unknown[] = [];
    const em = createEventWriter(redis, prefix, { maxBatch: 4, flushEveryMs: 10_000, onError: (e) => errors.push(e) });
    for (let i = 0; i < 10; i++) em.emit(metrics(i));
    await expect(em.flush()).rejects.toThrow(/WRONGTYPE/);
    expect(em.pending).toBe(10);
    await redis.del(eventStreamKey(prefix));
    await em.flush();
    expect((await readAll()).map((e) => e.rows[0]?.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(errors.length).toBeGreaterThan(0); // the background flush at 4 buffered events failed too
    await em.close();
    expect(() => em.emit(metrics(10))).toThrow('event emitter is closed');
  });
});
