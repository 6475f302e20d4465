import { afterEach, describe, expect, it } from '@jest/globals';
import { RUN_QUEUE, redisOptionsFromUrl } from '@ablate/queue';
import { QueueEvents } from 'bullmq';
import { createWorld, destroyWorld, REDIS_URL, sql, submitWithOneWorker, waitFor, writeSweep, type World } from './test-utils/harness';
import { progressInfo } from './watch-sweep';

/** One run of the smoke sweep's shape: 10 steps, an eval (with the digit classifier) and a checkpoint at 5 and at 10. */
const ONE_RUN = `name: phases
base:
  model: { preset: test }
  train: { steps: 10, batch_size: 16, warmup_steps: 2, metrics_every_steps: 5 }
  eval: { every_steps: 5, examples: 20, batch_size: 20, samples_per_class: 1 }
  checkpoint: { every_steps: 5, keep: 2 }
parameters:
  prior.mu_init:
    values: [zero]
`;
let world: World;
afterEach(async () => {
  if (world) await destroyWorld(world);
});

describe('progress says what a run is doing', () => {
  it('a bar names the phase, how long a non-training phase has lasted, and whether the ETA counts the evals', () => {
    const base = { step: 10, totalSteps: 20, loss: 1.25, imagesPerSec: 300, etaSec: 75, workerId: 'w1' };
    expect(progressInfo({ ...base, phase: 'training', phaseLabel: 'training', phaseSince: 0, etaIncludesEvals: false }, 60_000)).toBe(
      'training | loss 1.2500 | 300 img/s | ETA 1m15s + evals | w1',
    );
    expect(progressInfo({ ...base, phase: 'eval-sampling', phaseLabel: 'eval: sampling images', phaseSince: 0, etaIncludesEvals: true }, 12_000)).toBe(
      'eval: sampling images 12s | loss 1.2500 | 300 img/s | ETA 1m15s | w1',
    );
    expect(progressInfo({ ...base, loss: NaN, imagesPerSec: 0, phase: 'starting', phaseLabel: 'starting (backend, data, model)', phaseSince: 0 }, 500)).toBe(
      'starting (backend, data, model) | ETA 1m15s | w1',
    );
  });

  it('a real worker reports starting, training, each part of an eval, and checkpoints through job progress', async () => {
    world = createWorld();
    const events = new QueueEvents(RUN_QUEUE, { connection: redisOptionsFromUrl(REDIS_URL), prefix: world.prefix });
    const phases: string[] = [];
    events.on('progress', ({ data }) => {
      const phase = (data as { phase?: string }).phase;
      if (phase !== undefined && phases.at(-1) !== phase) phases.push(phase);
    });
    try {
      await events.waitUntilReady();
      await submitWithOneWorker(world, writeSweep(world, 'phases', ONE_RUN));
      const final = await waitFor(
        'the run to end',
        () => sql<{ status: string; error: string | null }>(world, "SELECT status, error FROM runs WHERE status NOT IN ('queued', 'running')")[0],
        240_000,
      );
      expect(final).toEqual({ status: 'succeeded', error: null });
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await events.close();
    }
    // At 5 an eval then a checkpoint, at 10 the final eval and checkpoint.
    for (const p of ['starting', 'training', 'eval-nll', 'eval-sampling', 'eval-classifier', 'checkpoint']) expect(phases).toContain(p);
    expect(phases.slice(0, 7)).toEqual(['starting', 'training', 'eval-nll', 'eval-sampling', 'eval-classifier', 'checkpoint', 'training']);
  }, 300_000);
});
