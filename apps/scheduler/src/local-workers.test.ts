import { afterEach, describe, expect, it } from '@jest/globals';
import { decodeEvent, eventStreamKey, redisOptionsFromUrl, RUN_QUEUE } from '@ablate/queue';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createWorld, destroyWorld, REDIS_URL, SCRIPTS, sql, start, testSweep, waitFor, writeSweep, type World } from './test-utils/harness';

let world: World;
afterEach(async () => {
  await destroyWorld(world);
});

/** Every live process of this world, found by its QUEUE_PREFIX: the sweep, its workers and their training processes. */
function processesOf(w: World): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(`QUEUE_PREFIX=${w.prefix}`)) pids.push(Number(name));
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return pids;
}

const lossSteps = (w: World, runId: string) =>
  sql<{ step: number }>(w, "SELECT step FROM metrics WHERE run_id = ? AND name = 'loss' ORDER BY step", runId).map((r) => r.step);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Both runs of the world's sweep training on the sweep's two local workers, each past step 10 in SQLite. */
async function bothRunsTraining(w: World): Promise<string[]> {
  return waitFor(
    'both runs training on local workers',
    () => {
      const ids = sql<{ id: string }>(w, "SELECT id FROM runs WHERE status = 'running'").map((r) => r.id);
      return ids.length === 2 && ids.every((id) => lossSteps(w, id).length >= 10) && ids;
    },
    150_000,
    100,
  );
}

async function queueCounts(w: World): Promise<Record<string, number>> {
  const queue = new Queue(RUN_QUEUE, { connection: redisOptionsFromUrl(REDIS_URL), prefix: w.prefix });
  try {
    return await queue.getJobCounts('active', 'waiting', 'delayed', 'completed', 'failed');
  } finally {
    await queue.close();
  }
}

describe('local workers die with their sweep (real pty, real Redis, real processes)', () => {
  it('the terminal closes under an attached sweep (SIGHUP): it detaches, its local workers checkpoint, release their runs and exit; the runs resume', async () => {
    world = createWorld();
    const file = writeSweep(world, 'hup', testSweep('hup', { steps: 300, values: ['zero', 'randn'], checkpointEvery: 100 }));
    // `script` (util-linux) gives the sweep a real terminal, as a user's shell would: the sweep is its session's leader.
    // Killing `script` closes the terminal's master side: the kernel hangs the terminal up, as when a window closes or
    // an SSH session drops.
    const terminal = spawn('script', ['-qfec', `exec ${process.execPath} ${SCRIPTS.sweep} ${file} --workers 2`, '/dev/null'], {
      env: { ...world.env, SHELL: '/bin/sh', LOG_FORMAT: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    world.procs.push(terminal);
    let screen = '';
    terminal.stdout?.on('data', (d: Buffer) => void (screen += d.toString('utf8')));
    const runIds = await bothRunsTraining(world);
    expect(screen).toContain('started 2 local worker(s)'); // on the terminal, pretty-printed
    expect(processesOf(world).length).toBeGreaterThanOrEqual(5); // sweep + 2 workers + 2 training processes

    terminal.kill('SIGKILL');
    await waitFor('every process of the sweep to exit', () => processesOf(world).length === 0, 60_000, 200);
    // The sweep lived to detach: its recorder wrote down that both runs went back on the queue.
    expect(sql(world, 'SELECT status FROM runs ORDER BY id')).toEqual([{ status: 'queued' }, { status: 'queued' }]);
    const counts = await queueCounts(world);
    expect(counts.active).toBe(0);
    expect((counts.waiting ?? 0) + (counts.delayed ?? 0)).toBe(2);
    const stoppedAt = runIds.map((id) => Math.max(...lossSteps(world, id)));
    for (const s of stoppedAt) expect(s).toBeLessThan(300);

    // They resume from their checkpoints, and each (run, step) loss row is there once.
    start(world, SCRIPTS.recorder);
    start(world, SCRIPTS.worker);
    await waitFor('both runs to succeed', () => sql(world, "SELECT 1 FROM runs WHERE status = 'succeeded'").length === 2, 150_000);
    for (const id of runIds) {
      expect(lossSteps(world, id)).toEqual(range(1, 300));
      expect(sql<{ resumed_from: number }>(world, 'SELECT resumed_from FROM runs WHERE id = ?', id)[0]?.resumed_from).toBeGreaterThanOrEqual(10);
    }
  });

  it('kill -9 of an attached sweep: its local workers notice, checkpoint, release their runs and exit', async () => {
    world = createWorld();
    const file = writeSweep(world, 'kill', testSweep('kill', { steps: 400, values: ['zero', 'randn'], checkpointEvery: 100 }));
    const sweep = start(world, SCRIPTS.sweep, [file, '--workers', '2']);
    const runIds = await bothRunsTraining(world);
    const pids = (/"pids":\[([\d,]+)\]/.exec(sweep.output())?.[1] ?? '').split(',').map(Number);
    expect(pids).toHaveLength(2);

    sweep.child.kill('SIGKILL'); // nothing of the sweep runs any more: no SIGTERM reaches the workers
    await waitFor('every process of the sweep to exit', () => processesOf(world).length === 0, 60_000, 200);
    const counts = await queueCounts(world);
    expect(counts.active).toBe(0);
    expect((counts.waiting ?? 0) + (counts.delayed ?? 0)).toBe(2);
    // Each worker reported its run released at the step it checkpointed (no recorder runs now: read the stream).
    const redis = new Redis(REDIS_URL);
    const entries = await redis.xrange(eventStreamKey(world.prefix), '-', '+');
    redis.disconnect();
    const released = entries.map(([, fields]) => decodeEvent(fields)).filter((e) => e.kind === 'run-released');
    expect(released.map((e) => e.runId).sort()).toEqual([...runIds].sort());

    // The next recorder records them as queued again.
    start(world, SCRIPTS.recorder);
    await waitFor('both runs to read queued', () => sql(world, "SELECT 1 FROM runs WHERE status = 'queued'").length === 2, 30_000);
  });
});
