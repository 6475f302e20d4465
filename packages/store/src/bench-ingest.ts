/**
 * Recorder ingest benchmark (not a test): pushes metric rows into a real Redis stream through the real emitter, then
 * times the recorder draining them into a fresh SQLite file (decode + validate + one transaction per batch + XACK).
 *
 *   pnpm --filter @ablate/store bench:ingest [--rows 200000] [--rows-per-event 10] [--batch 1000] [--synchronous FULL|NORMAL] [--json]
 *
 * Target: ≥ 100,000 rows/s. Uses REDIS_URL and a `bench-<uuid>` prefix, deleted afterwards.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createEventEmitter, eventStreamKey, queueEnv, redactRedisUrl, redisOptionsFromUrl, type MetricsEvent } from '@ablate/queue';
import { openStore } from './open-store';
import { createRecorder } from './recorder';
import { insertRuns, upsertSweep } from './runs';

const NAMES = ['loss', 'nll', 'bpd', 'prior_term', 'logdet_term', 'grad_norm', 'lr', 'images_per_sec', 'mean_log_sigma', 'eval/nll'];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '200000' },
      'rows-per-event': { type: 'string', default: '10' },
      batch: { type: 'string', default: '1000' },
      runs: { type: 'string', default: '8' },
      synchronous: { type: 'string', default: 'FULL' },
      json: { type: 'boolean', default: false },
    },
  });
  const rows = Number(values.rows);
  const perEvent = Number(values['rows-per-event']);
  const batchSize = Number(values.batch);
  const nRuns = Number(values.runs);
  const synchronous = values.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL';
  const { redisUrl } = queueEnv();
  const prefix = `bench-${randomUUID()}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'ablate-bench-'));
  const redis = new Redis(redisOptionsFromUrl(redisUrl));
  const reader = new Redis(redisOptionsFromUrl(redisUrl));
  const store = openStore(path.join(dir, 'bench.db'), { synchronous });
  try {
    upsertSweep(store, { id: 'bench', name: 'bench', file: 'bench.yaml', spec: {} });
    const runIds = Array.from({ length: nRuns }, (_, i) => `bench-run-${i}`);
    insertRuns(store, 'bench', runIds.map((id, i) => ({ id, idx: i, label: `seed=${i}`, variant: { seed: i }, config: {} })));

    // Rows like the trainer's: every event is one step of one run with `perEvent` metric names.
    const t0 = performance.now();
    const em = createEventEmitter(redis, prefix, { maxBatch: 1000 });
    let events = 0;
    for (let written = 0, step = 0; written < rows; step += 10) {
      for (const runId of runIds) {
        if (written >= rows) break;
        const n = Math.min(perEvent, rows - written);
        const ev: MetricsEvent = { kind: 'metrics', runId, rows: Array.from({ length: n }, (_, j) => ({ step, name: NAMES[j % NAMES.length] ?? `m${j}`, value: Math.random() })) };
        em.emit(ev);
        events += 1;
        written += n;
      }
      if (em.pending >= 5000) await em.flush();
    }
    await em.close();
    const pushMs = performance.now() - t0;

    const rec = createRecorder({ redis: reader, store, prefix, consumer: 'bench', batchSize, trimAcked: false });
    const t1 = performance.now();
    await rec.drain();
    const ingestMs = performance.now() - t1;
    const stored = (store.sqlite.prepare('SELECT count(*) AS n FROM metrics').get() as { n: number }).n;
    if (stored !== rows || rec.stats.rowsWritten !== rows) throw new Error(`expected ${rows} rows, the database has ${stored} (recorder wrote ${rec.stats.rowsWritten})`);

    const result = {
      redis: redactRedisUrl(redisUrl),
      rows,
      events,
      rowsPerEvent: perEvent,
      batchSize,
      synchronous,
      pushMs: Math.round(pushMs),
      ingestMs: Math.round(ingestMs),
      rowsPerSec: Math.round((rows * 1000) / ingestMs),
      eventsPerSec: Math.round((events * 1000) / ingestMs),
      transactions: rec.stats.batches,
    };
    if (values.json) console.log(JSON.stringify(result));
    else {
      console.log(`pushed ${rows} metric rows as ${events} events in ${(pushMs / 1000).toFixed(2)} s`);
      console.log(`recorder ingest: ${rows} rows in ${(ingestMs / 1000).toFixed(2)} s = ${result.rowsPerSec.toLocaleString('en-US')} rows/s (${result.eventsPerSec.toLocaleString('en-US')} events/s, batch ${batchSize}, ${rec.stats.batches} transactions, synchronous=${synchronous}) ${result.rowsPerSec >= 100_000 ? '≥' : '<'} target 100,000 rows/s`);
    }
  } finally {
    store.close();
    await redis.del(eventStreamKey(prefix));
    await redis.quit();
    await reader.quit();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  });
}
