/**
 * Recorder ingest rate (the one place it is measured; `pnpm bench:orchestrator --only ingest`): metric rows pushed into a real Redis stream by the workers'
 * emitter (10 rows per event, as the trainer reports), then the recorder drains them into a fresh SQLite file
 * (XREADGROUP, decode + validate, one transaction per 1,000 entries, XACK) and only the drain is timed.
 */
import { createEventWriter, eventStreamKey, type MetricsEvent } from '@ablate/queue';
import { createRecorder } from '@ablate/recorder';
import { insertRuns, openStore, upsertSweep } from '@ablate/store';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deletePrefixKeys } from './bench-stats';

const NAMES = ['loss', 'nll', 'bpd', 'prior_term', 'logdet_term', 'grad_norm', 'lr', 'images_per_sec', 'mean_log_sigma', 'eval/nll'];

export interface IngestSample {
  rows: number;
  events: number;
  batchSize: number;
  pushMs: number;
  ingestMs: number;
  rowsPerSec: number;
  transactions: number;
}

export async function benchIngestOnce(opts: {
  redis: Redis;
  reader: Redis;
  rows: number;
  rowsPerEvent?: number;
  batchSize?: number;
  runs?: number;
}): Promise<IngestSample> {
  const perEvent = opts.rowsPerEvent ?? 10;
  const batchSize = opts.batchSize ?? 1000;
  const nRuns = opts.runs ?? 8;
  const prefix = `bench-${randomUUID()}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'ablate-bench-ingest-'));
  const store = openStore(path.join(dir, 'bench.db'));
  try {
    upsertSweep(store, { id: 'bench', name: 'bench', file: 'bench.yaml', spec: {} });
    const runIds = Array.from({ length: nRuns }, (_, i) => `bench-run-${i}`);
    insertRuns(
      store,
      'bench',
      runIds.map((id, i) => ({ id, idx: i, label: `seed=${i}`, variant: { seed: i }, config: {} })),
    );

    const p0 = performance.now();
    const em = createEventWriter(opts.redis, prefix, { maxBatch: 1000 });
    let events = 0;
    for (let written = 0, step = 0; written < opts.rows; step += 10) {
      for (const runId of runIds) {
        if (written >= opts.rows) break;
        const n = Math.min(perEvent, opts.rows - written);
        const ev: MetricsEvent = {
          kind: 'metrics',
          runId,
          rows: Array.from({ length: n }, (_, j) => ({ step, name: NAMES[j % NAMES.length] ?? `m${j}`, value: Math.random() })),
        };
        em.emit(ev);
        events += 1;
        written += n;
      }
      if (em.pending >= 5000) await em.flush();
    }
    await em.close();
    const pushMs = performance.now() - p0;

    const rec = createRecorder({ redis: opts.reader, store, prefix, consumer: 'bench', batchSize, trimAcked: false });
    const i0 = performance.now();
    await rec.drain();
    const ingestMs = performance.now() - i0;
    const stored = (store.sqlite.prepare('SELECT count(*) AS n FROM metrics').get() as { n: number }).n;
    if (stored !== opts.rows) throw new Error(`expected ${opts.rows} metric rows in SQLite, found ${stored} (recorder wrote ${rec.stats.rowsWritten})`);
    return { rows: opts.rows, events, batchSize, pushMs, ingestMs, rowsPerSec: (opts.rows * 1000) / ingestMs, transactions: rec.stats.batches };
  } finally {
    store.close();
    await opts.redis.del(eventStreamKey(prefix));
    await deletePrefixKeys(opts.redis, prefix);
    rmSync(dir, { recursive: true, force: true });
  }
}
