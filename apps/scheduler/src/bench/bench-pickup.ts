/**
 * Job pickup latency: a live BullMQ Worker (concurrency 1, as `pnpm worker`) blocks on an empty queue; one job at a time
 * is added and the time from just before queue.add to the first line of the processor is recorded. Between jobs the
 * worker finishes the previous one and goes back to blocking (a short gap), so every sample starts from an idle worker.
 * Queue and Worker share this process (performance.now() is one clock); each has its own Redis connection(s).
 */
import { RUN_QUEUE, type RedisConnectionOptions } from '@ablate/queue';
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { deletePrefixKeys, sleep } from './bench-stats';

export interface PickupResult {
  jobs: number;
  warmup: number;
  gapMs: number;
  /** Per job: queue.add called → processor entered, ms. */
  latenciesMs: number[];
  /** Per job: queue.add round trip alone, ms. */
  addMs: number[];
}

/** A payload the size of a real run job (a resolved config is about 1 KB of JSON). */
export function samplePayload(i: number, config: unknown): { runId: string; sweepId: string; config: unknown; label: string; artifactDir: string } {
  return { runId: `r-pickup-${i}`, sweepId: 'bench-pickup', config, label: `i=${i}`, artifactDir: '/tmp/none' };
}

export async function benchPickup(opts: {
  connection: RedisConnectionOptions;
  redis: Redis;
  jobs: number;
  warmup: number;
  gapMs: number;
  config: unknown;
}): Promise<PickupResult> {
  const prefix = `bench-${randomUUID()}`;
  const queue = new Queue(RUN_QUEUE, { connection: opts.connection, prefix });
  let onStart: ((t: number) => void) | null = null;
  let onDone: (() => void) | null = null;
  const worker = new Worker(
    RUN_QUEUE,
    async (_job: Job) => {
      const t = performance.now();
      onStart?.(t);
      return 0;
    },
    { connection: opts.connection, prefix, concurrency: 1, removeOnComplete: { count: 0 }, removeOnFail: { count: 0 } },
  );
  worker.on('completed', () => onDone?.());
  const latenciesMs: number[] = [];
  const addMs: number[] = [];
  try {
    await worker.waitUntilReady();
    await queue.waitUntilReady();
    await sleep(200); // let the worker reach its blocking wait on the empty queue
    for (let i = 0; i < opts.warmup + opts.jobs; i++) {
      const started = new Promise<number>((resolve) => (onStart = resolve));
      const done = new Promise<void>((resolve) => (onDone = resolve));
      const t0 = performance.now();
      await queue.add('pickup', samplePayload(i, opts.config), { jobId: `r-pickup-${i}` });
      const t1 = performance.now();
      const ts = await started;
      await done;
      if (i >= opts.warmup) {
        latenciesMs.push(ts - t0);
        addMs.push(t1 - t0);
      }
      await sleep(opts.gapMs);
    }
    return { jobs: opts.jobs, warmup: opts.warmup, gapMs: opts.gapMs, latenciesMs, addMs };
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    await deletePrefixKeys(opts.redis, prefix);
  }
}
