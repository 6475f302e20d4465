import { BACKENDS, isBackendName } from '@ablate/backend';
import { createLogger } from '@ablate/log';
import { createEventWriter, queueEnv, redactRedisUrl, redisOptionsFromUrl, RUN_QUEUE, runFailedEvent } from '@ablate/queue';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createRunProcessor } from './run-processor';

const USAGE = `usage: pnpm worker [--concurrency N] [--gpus 0,1] [--backend auto|tensorflow|webgpu|wasm|cpu]

A long-lived worker for any machine that reaches Redis (REDIS_URL, QUEUE_PREFIX). Each job trains one run in a child
process. With --gpus, one child per GPU, each bound to it: CUDA_VISIBLE_DEVICES for tensorflow, ABLATE_GPU (Dawn's
adapter index) for webgpu. SIGTERM or Ctrl-C: running runs
checkpoint and go back on the queue; a second signal exits at once.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      concurrency: { type: 'string' },
      gpus: { type: 'string' },
      backend: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const gpus = values.gpus
    ?.split(',')
    .map((g) => g.trim())
    .filter((g) => g !== '');
  const concurrency = gpus?.length ?? Number(values.concurrency ?? 1);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    process.stderr.write(`--concurrency: expected a positive integer, got "${values.concurrency}"\n`);
    return 2;
  }
  if (values.backend !== undefined && values.backend !== 'auto' && !isBackendName(values.backend)) {
    process.stderr.write(`--backend: expected one of auto, ${BACKENDS.join(', ')}, got "${values.backend}"\n`);
    return 2;
  }
  const env = queueEnv();
  const connection = redisOptionsFromUrl(env.redisUrl);
  const host = os.hostname();
  const workerId = `${host}-${process.pid}`;
  const log = createLogger({ name: 'worker' }).child({ workerId });
  const redis = new Redis(connection);
  const events = createEventWriter(redis, env.prefix, { onError: (err) => log.warn({ err }, 'event flush failed; will retry') });
  const runs = createRunProcessor({
    childScript: path.join(__dirname, 'run-child.js'),
    events,
    log,
    workerId,
    host,
    ...(values.backend ? { backend: values.backend } : {}),
    ...(gpus ? { gpus } : {}),
    artifactRoot: path.resolve(process.env.ARTIFACT_DIR || 'artifacts'),
  });
  const lockDuration = Number(process.env.WORKER_LOCK_MS ?? 30_000);
  const worker = new Worker(RUN_QUEUE, runs.processor, {
    connection,
    prefix: env.prefix,
    concurrency,
    name: workerId,
    lockDuration,
    stalledInterval: lockDuration,
    maxStalledCount: Number(process.env.WORKER_MAX_STALLED ?? 2),
  });
  worker.on('failed', (job, err) => {
    log.warn({ jobId: job?.id, err: { message: err.message } }, 'job failed');
    // BullMQ fails a job that stalled too often (its worker died repeatedly) without calling our processor: say so.
    if (job && /stalled/i.test(err.message) && typeof (job.data as { runId?: unknown }).runId === 'string') {
      events.emit(runFailedEvent((job.data as { runId: string }).runId, `job ${job.id}: ${err.message}`));
    }
  });
  worker.on('lockRenewalFailed', (jobIds) => runs.abandon(jobIds));
  worker.on('error', (err) => log.error({ err }, 'worker error'));
  log.info({ redis: redactRedisUrl(env.redisUrl), prefix: env.prefix, concurrency, gpus }, 'worker ready');

  let stopping = false;
  const stop = (why: Record<string, string>) => {
    stopping = true;
    log.info({ ...why, active: runs.active }, 'stopping: running runs checkpoint and go back on the queue');
    runs.interruptAll();
    void worker
      .close()
      .then(() => events.close())
      .then(() => redis.quit())
      .then(() => process.exit(0));
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130); // a second signal: at once, without checkpointing
    stop({ signal });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // A local worker of an attached `pnpm sweep` has an IPC channel to it (apps/scheduler/src/local-workers.ts). It closes
  // when the sweep dies, however it dies (kill -9 too): stop as on SIGTERM, so no worker outlives its sweep.
  if (process.channel) {
    process.once('disconnect', () => {
      if (!stopping) stop({ reason: 'the pnpm sweep that started this worker exited' });
    });
  }
  return new Promise<number>(() => undefined); // runs until a signal
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
