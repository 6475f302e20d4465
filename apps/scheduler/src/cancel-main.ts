import { cancelKey, cancelRunKey, createEventEmitter, RUN_QUEUE, type RunJobData } from '@ablate/queue';
import { openStore, runsBySweep } from '@ablate/store';
import { Queue } from 'bullmq';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runMain, UsageError } from './cli-util';
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
  const queue = new Queue<RunJobData>(RUN_QUEUE, { connection: redis, prefix: env.prefix });
  const events = createEventEmitter(redis, env.prefix);
  try {
    await redis.set(cancelKey(env.prefix, sweepId), String(Date.now()));
    let removed = 0;
    let running = 0;
    for (const r of runs) {
      if (r.status !== 'queued' && r.status !== 'running') continue;
      // The run's own key too: a run shared with another sweep may have been queued under that sweep's name.
      await redis.set(cancelRunKey(env.prefix, r.id), String(Date.now()));
      const state = await queue.getJobState(r.id);
      if (state === 'active') {
        running += 1;
        continue;
      }
      if (state === 'waiting' || state === 'delayed' || state === 'prioritized' || state === 'unknown') {
        // A worker may take the job between the two calls: then it is running, and stops at its first step.
        const gone = state === 'unknown' || (await queue.remove(r.id).then((n) => n > 0, () => false));
        if (!gone) {
          running += 1;
          continue;
        }
        removed += 1;
        events.emit({ kind: 'run-finished', runId: r.id, status: 'cancelled', finalStep: 0, error: 'cancelled before it started (pnpm cancel)', at: Date.now() });
      }
    }
    await events.flush();
    process.stdout.write(`sweep ${sweepId}: ${removed} queued run(s) removed from the queue, ${running} running run(s) will stop at their next step\n`);
    return 0;
  } finally {
    await events.close();
    await queue.close();
    await redis.quit();
  }
}

runMain(main);
