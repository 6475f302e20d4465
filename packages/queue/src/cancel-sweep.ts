import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createEventWriter } from './event-writer';
import { cancelKey, cancelRunKey, RUN_QUEUE } from './names';
import type { RunJobData } from './run-job';

export interface CancelSweepResult {
  /** Queued runs taken off the queue (recorded cancelled through the event stream). */
  removed: number;
  /** Running runs that stop at their next step (their workers check the cancel keys between steps). */
  running: number;
}

/**
 * Cancels a sweep on every machine: sets its cancel key and each unfinished run's own key, takes queued runs off the
 * queue and reports them cancelled to the recorder; running runs stop at their next step. `runs` are the sweep's runs
 * with their status as SQLite has them. Used by `pnpm cancel` and by `pnpm ui --allow-cancel`.
 */
export async function cancelSweep(opts: {
  redis: Redis;
  prefix: string;
  sweepId: string;
  runs: readonly { id: string; status: string }[];
  by: string;
}): Promise<CancelSweepResult> {
  const { redis, prefix, sweepId } = opts;
  const queue = new Queue<RunJobData>(RUN_QUEUE, { connection: redis, prefix });
  const events = createEventWriter(redis, prefix);
  try {
    await redis.set(cancelKey(prefix, sweepId), String(Date.now()));
    let removed = 0;
    let running = 0;
    for (const r of opts.runs) {
      if (r.status !== 'queued' && r.status !== 'running') continue;
      // The run's own key too: a run shared with another sweep may have been queued under that sweep's name.
      await redis.set(cancelRunKey(prefix, r.id), String(Date.now()));
      const state = await queue.getJobState(r.id);
      if (state === 'active') {
        running += 1;
        continue;
      }
      if (state === 'waiting' || state === 'delayed' || state === 'prioritized' || state === 'unknown') {
        // A worker may take the job between the two calls: then it is running, and stops at its first step.
        const gone =
          state === 'unknown' ||
          (await queue.remove(r.id).then(
            (n) => n > 0,
            () => false,
          ));
        if (!gone) {
          running += 1;
          continue;
        }
        removed += 1;
        events.emit({
          kind: 'run-finished',
          runId: r.id,
          status: 'cancelled',
          finalStep: 0,
          error: `cancelled before it started (${opts.by})`,
          at: Date.now(),
        });
      }
    }
    await events.flush();
    return { removed, running };
  } finally {
    await events.close();
    await queue.close();
  }
}
