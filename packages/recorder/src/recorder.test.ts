import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import type { Redis } from 'ioredis';
import { createEventWriter, decodeEvent, encodeEvent, eventStreamKey, RECORDER_GROUP, type MetricsEvent, type RunEvent } from '@ablate/queue';
import { applyEvents, getRun, openStore, type Store } from '@ablate/store';
import { captureLog, deleteKeys, newRedis, scriptedRun, tempDir, testPrefix } from '@ablate/test-utils';
import { createRecorder, type Recorder } from './recorder';
import { entriesOfRead } from './stream-replies';
import { seedSweep } from './test-utils/fixtures';

let redis: Redis; // commands and emitter
let reader: Redis; // the recorder's own connection (XREADGROUP BLOCK holds it)
let prefix: string;
let key: string;
let store: Store;
let file: string;
let runIds: string[];
const cleanups: (() => unknown)[] = [];

beforeAll(() => {
  redis = newRedis();
  reader = newRedis();
});
afterAll(async () => {
  await redis.quit();
  await reader.quit();
});
beforeEach(() => {
  prefix = testPrefix();
  key = eventStreamKey(prefix);
  const t = tempDir();
  file = t.file('ablate.db');
  store = openStore(file);
  runIds = seedSweep(store, 2);
  cleanups.push(
    t.cleanup,
    () => store.sqlite.open && store.close(),
    () => deleteKeys(redis, prefix),
  );
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** `n` metric rows as events of `perEvent` rows, alternating between the two runs: (run, step) is unique per row. */
function metricEvents(n: number, perEvent: number): MetricsEvent[] {
  const out: MetricsEvent[] = [];
  for (let i = 0; i < n; i += perEvent) {
    const runId = runIds[(i / perEvent) % 2] ?? '';
    out.push({
      kind: 'metrics',
      runId,
      rows: Array.from({ length: Math.min(perEvent, n - i) }, (_, j) => ({ step: i + j, name: 'loss', value: (i + j) / 1000 })),
    });
  }
  return out;
}

async function emitAll(events: readonly RunEvent[]): Promise<void> {
  const em = createEventWriter(redis, prefix, { maxBatch: 100 });
  for (const e of events) em.emit(e);
  await em.close();
}

function metricRows(): { runId: string; step: number; value: number }[] {
  return store.sqlite.prepare('SELECT run_id AS runId, step, value FROM metrics ORDER BY step').all() as { runId: string; step: number; value: number }[];
}

function expectEveryRowOnce(n: number): void {
  const rows = metricRows();
  expect(rows).toHaveLength(n);
  expect(rows.map((r) => r.step)).toEqual(Array.from({ length: n }, (_, i) => i));
  expect(rows.every((r) => r.value === r.step / 1000)).toBe(true);
}

async function pendingCount(): Promise<number> {
  const summary = await redis.xpending(key, RECORDER_GROUP);
  return Number(summary[0]);
}

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function recorder(consumer: string, extra: Partial<Parameters<typeof createRecorder>[0]> = {}): Recorder {
  return createRecorder({ redis: reader, store, prefix, consumer, batchSize: 64, blockMs: 50, ...extra });
}

describe('createRecorder', () => {
  it('end to end: 1,000 metric rows through the real emitter arrive exactly once', async () => {
    const events = metricEvents(1000, 2);
    const rec = recorder('r1');
    const loop = rec.run();
    await emitAll(events);
    await until(() => rec.stats.entries >= events.length);
    await rec.stop();
    await loop;
    expectEveryRowOnce(1000);
    expect(rec.stats).toMatchObject({ entries: 500, events: 500, eventsApplied: 500, rowsWritten: 1000, rejected: 0, skippedUnknownRun: 0, errors: 0 });
    expect(rec.stats.batches).toBeGreaterThanOrEqual(8); // 500 entries in batches of ≤ 64
    expect(await pendingCount()).toBe(0);
  });

  it('an abandoned consumer (crashed after reading) loses nothing: its entries are claimed and recorded once', async () => {
    await emitAll(metricEvents(600, 2));
    // Consumer "dead" reads 100 entries, then dies without applying or acking them.
    await redis.xgroup('CREATE', key, RECORDER_GROUP, '0', 'MKSTREAM');
    const taken = entriesOfRead(await redis.xreadgroup('GROUP', RECORDER_GROUP, 'dead', 'COUNT', 100, 'STREAMS', key, '>'));
    expect(taken).toHaveLength(100);
    await new Promise((r) => setTimeout(r, 60));
    const rec = recorder('alive', { claimIdleMs: 50 });
    expect(await rec.drain()).toBe(300);
    expect(rec.stats.claimed).toBe(100);
    expectEveryRowOnce(600);
    expect(await pendingCount()).toBe(0);
  });

  it('a recorder killed between COMMIT and XACK replays its pending batch on restart, harmlessly', async () => {
    const events = [...scriptedRun(runIds[0] ?? ''), ...metricEvents(400, 4).map((e) => ({ ...e, runId: runIds[1] ?? '' }))];
    await emitAll(events);
    await redis.xgroup('CREATE', key, RECORDER_GROUP, '0', 'MKSTREAM');
    // The first life of consumer "rec": reads 50 entries, commits them, and is killed before XACK.
    const taken = entriesOfRead(await redis.xreadgroup('GROUP', RECORDER_GROUP, 'rec', 'COUNT', 50, 'STREAMS', key, '>'));
    applyEvents(
      store,
      taken.map(([id, fields]) => decodeEvent(fields ?? [], id)),
      taken.map(([id]) => id),
    );
    const before = (store.sqlite.prepare('SELECT count(*) AS n FROM metrics').get() as { n: number }).n;
    expect(before).toBeGreaterThan(0);
    // Its second life: re-reads its own pending entries first, then the rest.
    const rec = recorder('rec');
    expect(await rec.drain()).toBe(events.length);
    expect(rec.stats.ignored).toBe(2); // the replayed run-started and run-finished
    const dupes = store.sqlite.prepare('SELECT count(*) AS n FROM (SELECT 1 FROM metrics GROUP BY run_id, step, name HAVING count(*) > 1)').get();
    expect(dupes).toEqual({ n: 0 });
    expect(store.sqlite.prepare('SELECT count(*) AS n FROM metrics').get()).toEqual({ n: 23 + 400 });
    expect(getRun(store, runIds[0] ?? '')?.status).toBe('succeeded');
    expect(await pendingCount()).toBe(0);
  });

  it('recreates its consumer group when Redis loses the stream (a restart without persistence)', async () => {
    const rec = recorder('only', { retryDelayMs: 50, blockMs: 100 });
    const running = rec.run();
    await emitAll(metricEvents(100, 10));
    await until(() => metricRows().length === 100);
    await redis.del(key); // the stream and its group are gone, as after a Redis restart that kept nothing
    await emitAll(metricEvents(200, 10).slice(10)); // rows 100..199
    await until(() => metricRows().length === 200, 15_000);
    await rec.stop();
    await running;
    expectEveryRowOnce(200);
  });

  it('skips a garbage entry with a logged reason, acks it, and records the rest', async () => {
    const log = captureLog();
    await redis.xadd(key, '*', 'e', '{"kind":"metrics",');
    await redis.xadd(key, '*', 'payload', 'hello');
    await redis.xadd(key, '*', 'e', JSON.stringify({ kind: 'metrics', runId: runIds[0], rows: [{ step: -1, name: 'loss', value: 1 }] }));
    await redis.xadd(key, '*', 'e', encodeEvent({ kind: 'metrics', runId: 'ghost', rows: [{ step: 1, name: 'loss', value: 1 }] }));
    await emitAll(metricEvents(10, 5));
    const rec = recorder('r1', { log });
    expect(await rec.drain()).toBe(6);
    expectEveryRowOnce(10);
    expect(rec.stats).toMatchObject({ rejected: 3, skippedUnknownRun: 1, eventsApplied: 2, entries: 6 });
    const reasons = log.lines.filter((l) => l.level === 'warn' && l.msg === 'skipping bad event').map((l) => (l.obj as { reason: string }).reason);
    expect(reasons).toHaveLength(3);
    expect(reasons[0]).toMatch(/^event \d+-\d+ e: expected JSON, got/);
    expect(reasons[1]).toMatch(/^event \d+-\d+ e: expected a stream field "e" holding the event JSON, got fields "payload"/);
    expect(reasons[2]).toMatch(/^event \d+-\d+ rows\[0\]\.step: expected a step \(an integer ≥ 0\), got -1/);
    expect(log.lines.some((l) => l.level === 'warn' && l.msg === 'skipped events of unknown runs')).toBe(true);
    expect(await pendingCount()).toBe(0);
  });

  it('does not ack a batch SQLite could not commit; retries it once the lock is gone', async () => {
    store.close();
    store = openStore(file, { busyTimeoutMs: 20 });
    const blocker = new Database(file);
    blocker.exec('BEGIN IMMEDIATE'); // another writer holds the lock
    const log = captureLog();
    const rec = recorder('r1', { log, retryDelayMs: 20 });
    const loop = rec.run();
    await emitAll(metricEvents(100, 10));
    await until(() => rec.stats.errors >= 2);
    expect(metricRows()).toHaveLength(0);
    expect(await pendingCount()).toBeGreaterThan(0); // delivered, not acked
    blocker.exec('COMMIT');
    blocker.close();
    await until(() => rec.stats.rowsWritten >= 100);
    await rec.stop();
    await loop;
    expectEveryRowOnce(100);
    expect(await pendingCount()).toBe(0);
    expect(
      log.lines.some(
        (l) =>
          l.level === 'error' &&
          l.msg === 'recorder batch failed; will retry' &&
          String((l.obj as { err?: { code?: string } }).err?.code).startsWith('SQLITE_BUSY'),
      ),
    ).toBe(true);
  });

  it('an event SQLite refuses for its content is rejected alone; the rest of its batch is recorded', async () => {
    store.sqlite.exec(`CREATE TRIGGER poison BEFORE INSERT ON artifacts WHEN NEW.uri = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned uri'); END`);
    const log = captureLog();
    const id = runIds[0] ?? '';
    await emitAll([
      ...metricEvents(10, 5),
      { kind: 'artifact', runId: id, step: 1, artifact: 'samples', uri: 'poison' },
      { kind: 'artifact', runId: id, step: 2, artifact: 'samples', uri: '/a/ok.png' },
    ]);
    const rec = recorder('r1', { log });
    expect(await rec.drain()).toBe(4);
    expectEveryRowOnce(10);
    expect(store.sqlite.prepare('SELECT step, uri FROM artifacts').all()).toEqual([{ step: 2, uri: '/a/ok.png' }]);
    expect(rec.stats).toMatchObject({ rejected: 1, eventsApplied: 3, errors: 0 });
    const line = log.lines.find((l) => l.level === 'error' && l.msg === 'event refused by SQLite; skipping it');
    expect(line?.obj).toMatchObject({ runId: id, kind: 'artifact' });
    expect(await pendingCount()).toBe(0);
  });

  it('trims what every group has acked', async () => {
    await emitAll(metricEvents(2000, 1));
    const rec = recorder('r1', { batchSize: 500 });
    await rec.drain();
    expectEveryRowOnce(2000);
    expect(await redis.xlen(key)).toBeLessThan(200); // MINID ~ drops whole stream nodes (100 entries each)
  });

  it('one recorder at a time: a second one stands by, then takes over when the lease is free', async () => {
    const reader2 = newRedis();
    cleanups.push(() => reader2.quit());
    const first = createRecorder({ redis: reader, store, prefix, consumer: 'one', blockMs: 100, leaseMs: 1500 });
    const second = createRecorder({ redis: reader2, store, prefix, consumer: 'two', blockMs: 100, leaseMs: 1500 });
    const r1 = first.run();
    await until(() => first.stats.leases === 1);
    const r2 = second.run();
    await emitAll(metricEvents(600, 10));
    await until(() => metricRows().length === 600);
    expect(second.stats).toMatchObject({ leases: 0, batches: 0, entries: 0 });

    await first.stop(); // releases the lease
    await r1;
    await emitAll(metricEvents(1200, 10).slice(60)); // rows 600..1199
    await until(() => second.stats.entries === 60); // counted after XACK, so after the commit
    expect(metricRows()).toHaveLength(1200);
    expect(second.stats).toMatchObject({ leases: 1, events: 60, rowsWritten: 600 });
    expect(first.stats).toMatchObject({ leases: 1, entries: 60, rowsWritten: 600 });
    await second.stop();
    await r2;
  });

  it('stop() ends a blocked loop promptly', async () => {
    const rec = recorder('r1', { blockMs: 200 });
    const loop = rec.run();
    await new Promise((r) => setTimeout(r, 50));
    const t = Date.now();
    await rec.stop();
    await loop;
    expect(Date.now() - t).toBeLessThan(1000);
  });
});
