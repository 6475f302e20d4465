import type { Logger } from '@ablate/log';
import type { RunEventWriter } from '@ablate/queue';

/**
 * Every buffered event onto the stream, retrying while Redis is away (a restart, a partition) for up to `withinMs`.
 * Called before each checkpoint: a checkpoint is where the next attempt resumes, so the reports of the steps before
 * it must be on the stream first, or they would be lost with this process.
 */
export async function flushDurably(events: RunEventWriter, log: Logger, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (let wait = 250; ; wait = Math.min(wait * 2, 5000)) {
    try {
      await events.flush();
      return;
    } catch (err: unknown) {
      if (Date.now() + wait > deadline)
        throw new Error(
          `could not write ${events.pending} event(s) to Redis within ${Math.round(withinMs / 1000)} s: ${err instanceof Error ? err.message : String(err)}`,
        );
      log.warn(
        { pending: events.pending, retryInMs: wait, err: { message: err instanceof Error ? err.message : String(err) } },
        'Redis unreachable: holding the events (and the next checkpoint) until it is back',
      );
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
