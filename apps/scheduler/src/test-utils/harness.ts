import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createWorld as createTestWorld, run, SCRIPTS, start, waitFor, type Proc, type World } from '@ablate/test-utils';

/** The scheduler's end-to-end harness: @ablate/test-utils' worlds and processes, and what these tests add (SQLite reads, sweeps). */

export { destroyWorld, REDIS_URL, run, SCRIPTS, start, waitFor } from '@ablate/test-utils';
export type { Proc, World } from '@ablate/test-utils';

/** One isolated world per test (@ablate/test-utils'), with the scheduler's tests' short lock and lease times. */
export function createWorld(extraEnv: NodeJS.ProcessEnv = {}): World {
  return createTestWorld('sweep-e2e-', {
    LOG_LEVEL: 'info',
    WORKER_LOCK_MS: '3000',
    RECORDER_LEASE_MS: '2000', // a killed recorder's lease frees up in 2 s
    ...extraEnv,
  });
}

/**
 * A recorder and one worker started, and the sweep submitted detached; resolves once SQLite has its (first) run.
 * The start of every test that then does something to that one run.
 */
export async function submitWithOneWorker(world: World, file: string): Promise<{ recorder: Proc; worker: Proc; runId: string }> {
  const recorder = start(world, SCRIPTS.recorder);
  const worker = start(world, SCRIPTS.worker);
  const submitted = await run(world, SCRIPTS.sweep, [file, '--detach']);
  if (submitted.code !== 0) throw new Error(`pnpm sweep --detach exited ${submitted.code}:\n${submitted.output}`);
  const runId = await waitFor('a run row', () => sql<{ id: string }>(world, 'SELECT id FROM runs')[0]?.id);
  return { recorder, worker, runId };
}

/** Resolves once SQLite records at least `count` checkpoints of the run. */
export async function waitForCheckpoints(world: World, runId: string, count = 1): Promise<void> {
  await waitFor(
    count === 1 ? 'a checkpoint' : `${count} checkpoints`,
    () => sql(world, 'SELECT 1 FROM checkpoints WHERE run_id = ?', runId).length >= count,
    90_000,
    50,
  );
}

/** The pid of the training process the worker started last (the "childPid" field of its log). */
export function trainingPid(worker: Proc): number {
  const pids = [...worker.output().matchAll(/"childPid":(\d+)/g)].map((m) => Number(m[1]));
  const pid = pids.at(-1);
  if (pid === undefined || !(pid > 0)) throw new Error('the worker has not logged a training process yet');
  return pid;
}

/** Reads the world's SQLite file (read-only, a fresh connection per call so it sees the latest commit). */
export function sql<T = Record<string, unknown>>(world: World, query: string, ...params: unknown[]): T[] {
  const file = world.env.SWEEP_DB ?? '';
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch {
    return [];
  }
  try {
    return db.prepare(query).all(...params) as T[];
  } catch {
    return []; // not migrated yet
  } finally {
    db.close();
  }
}

export function writeSweep(world: World, name: string, yaml: string): string {
  const file = path.join(world.dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  return file;
}

/** A sweep of `test`-preset runs (16 tokens of 7×7, width 16): ~30–60 ms a step on wasm. */
export function testSweep(name: string, opts: { steps: number; values: string[]; checkpointEvery: number; metricsEvery?: number }): string {
  return `name: ${name}
base:
  model: { preset: test }
  train: { steps: ${opts.steps}, batch_size: 16, warmup_steps: 2, metrics_every_steps: ${opts.metricsEvery ?? 1} }
  eval: { every_steps: 0, examples: 20, batch_size: 20, samples_per_class: 1, consistency_samples_per_class: 0 }
  checkpoint: { every_steps: ${opts.checkpointEvery}, keep: 3 }
parameters:
  prior.mu_init:
    values: [${opts.values.join(', ')}]
`;
}
