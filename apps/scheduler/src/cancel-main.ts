import { cancelSweep } from '@ablate/queue';
import { openStore, runsBySweep } from '@ablate/store';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runMain, UsageError } from '@ablate/cli';
import { connectRedis } from './connect';
import { schedulerEnv } from './env';

const USAGE = `usage: pnpm cancel <sweep>

Cancels a sweep on every machine: queued runs are taken off the queue, running runs stop at their next step (workers
check between steps). The recorder marks them cancelled. Submitting the sweep again resumes them.`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const sweepId = positionals[0];
  if (sweepId === undefined) throw new UsageError(`expected a sweep name\n${USAGE}`);
  const env = schedulerEnv();
  if (!existsSync(env.dbPath)) throw new UsageError(`no sweep database at ${env.dbPath} (set SWEEP_DB)`);
  const store = openStore(env.dbPath, { readonly: true });
  const runs = runsBySweep(store, sweepId);
  store.close();
  if (runs.length === 0) throw new UsageError(`no sweep "${sweepId}" with runs in ${env.dbPath}`);
  const redis = await connectRedis(env.redisUrl);
  try {
    const { removed, running } = await cancelSweep({ redis, prefix: env.prefix, sweepId, runs, by: 'pnpm cancel' });
    process.stdout.write(`sweep ${sweepId}: ${removed} queued run(s) removed from the queue, ${running} running run(s) will stop at their next step\n`);
    return 0;
  } finally {
    await redis.quit();
  }
}

runMain(main);
