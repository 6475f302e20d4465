import { createLogger } from '@ablate/log';
import { redactRedisUrl } from '@ablate/queue';
import { createRecorder } from '@ablate/recorder';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { runMain } from '@ablate/cli';
import { connectRedisWaiting, openWritableStore } from './connect';
import { schedulerEnv } from './env';

const USAGE = `usage: pnpm recorder [--consumer name]

The single SQLite writer (SWEEP_DB): reads what workers report on the Redis stream (REDIS_URL, QUEUE_PREFIX) with a
consumer group, writes each batch in one transaction and acknowledges after commit. An attached \`pnpm sweep\` embeds one.`;

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { consumer: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const env = schedulerEnv();
  const log = createLogger({ name: 'recorder' });
  const waitMs = Number(process.env.RECORDER_REDIS_WAIT_MS ?? 60_000);
  const redis = await connectRedisWaiting(env.redisUrl, Number.isFinite(waitMs) && waitMs >= 0 ? waitMs : 60_000, (m) => log.warn(m));
  const store = openWritableStore(env.dbPath);
  const consumer = values.consumer ?? `recorder-${os.hostname()}`;
  const recorder = createRecorder({ redis, store, prefix: env.prefix, consumer, log, leaseMs: Number(process.env.RECORDER_LEASE_MS || 10_000) });
  log.info({ db: env.dbPath, redis: redactRedisUrl(env.redisUrl), prefix: env.prefix, consumer }, 'recorder started');
  const stats = setInterval(() => log.info({ ...recorder.stats }, 'recorder stats'), 60_000);
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(130);
    stopping = true;
    log.info('stopping after the current batch');
    void recorder.stop();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await recorder.run();
  clearInterval(stats);
  log.info({ ...recorder.stats }, 'recorder stopped');
  await redis.quit();
  store.close();
  return 0;
}

runMain(main);
