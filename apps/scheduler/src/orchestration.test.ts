import { afterEach, describe, expect, it } from '@jest/globals';
import { RUN_QUEUE } from '@ablate/queue';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  createWorld,
  destroyWorld,
  REDIS_URL,
  run,
  SCRIPTS,
  sql,
  start,
  submitWithOneWorker,
  testSweep,
  trainingPid,
  waitFor,
  waitForCheckpoints,
  writeSweep,
  type World,
} from './test-utils/harness';
import { redisOptionsFromUrl } from '@ablate/queue';

let world: World;
afterEach(async () => {
  await destroyWorld(world);
});

const statusOf = (w: World, runId: string) => sql<{ status: string }>(w, 'SELECT status FROM runs WHERE id = ?', runId)[0]?.status;
const metricSteps = (w: World, runId: string, name = 'loss') =>
  sql<{ step: number }>(w, 'SELECT step FROM metrics WHERE run_id = ? AND name = ? ORDER BY step', runId, name).map((r) => r.step);
const range = (from: number, to: number, by = 1) => Array.from({ length: Math.floor((to - from) / by) + 1 }, (_, i) => from + i * by);

describe('orchestration end to end (real Redis, real SQLite, real worker processes)', () => {
  it('the smoke sweep runs on 2 workers; every metric arrives once; resubmitting creates nothing', async () => {
    world = createWorld();
    const w1 = start(world, SCRIPTS.worker);
    const w2 = start(world, SCRIPTS.worker);
    await waitFor('2 workers ready', () => w1.output().includes('worker ready') && w2.output().includes('worker ready'));
    const sweep = await run(world, SCRIPTS.sweep, [path.resolve(__dirname, '..', '..', '..', 'sweeps', 'smoke.yaml')]);
    expect(sweep.output).toContain('2 worker(s) connected');
    expect(sweep.code).toBe(0);
    const runs = sql<{ id: string; status: string; worker_id: string }>(world, 'SELECT id, status, worker_id FROM runs ORDER BY id');
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    for (const r of runs) {
      expect(metricSteps(world, r.id)).toEqual([5, 10, 15, 20]);
      expect(metricSteps(world, r.id, 'eval/accuracy')).toEqual([10, 20]);
      expect(sql(world, 'SELECT step FROM mu_norms WHERE run_id = ? AND class = 0 ORDER BY step', r.id)).toEqual([0, 5, 10, 15, 20].map((step) => ({ step })));
      expect(sql(world, 'SELECT step FROM checkpoints WHERE run_id = ? ORDER BY step', r.id)).toEqual([{ step: 10 }, { step: 20 }]);
      expect(sql<{ n: number }>(world, 'SELECT count(*) AS n FROM artifacts WHERE run_id = ?', r.id)[0]?.n).toBe(6); // 3 images × 2 evals
      // Two judges labelled the denoised samples (T = 1) and raw samples at T = 1 and 0.7: 50 per class at step 10, 100 at the final eval.
      expect(
        sql(
          world,
          'SELECT step, kind, temperature, judge, count(*) AS cells, sum(count) AS samples FROM confusion WHERE run_id = ? GROUP BY step, kind, temperature, judge ORDER BY step, kind, temperature, judge',
          r.id,
        ),
      ).toEqual(
        [10, 20].flatMap((step) =>
          [
            ['denoised', 1],
            ['raw', 0.7],
            ['raw', 1],
          ].flatMap(([kind, temperature]) =>
            ['deep', 'shallow'].map((judge) => ({ step, kind, temperature, judge, cells: 100, samples: step === 10 ? 500 : 1000 })),
          ),
        ),
      );
      // The lead figure is the judges' mean, stored beside each judge's own and their held-out accuracy.
      const [res] = sql<{ c: number; hits: number }>(
        world,
        "SELECT final_consistency_t1 AS c, (SELECT sum(count) FROM confusion WHERE run_id = ? AND step = 20 AND kind = 'raw' AND temperature = 1 AND true_class = predicted_class) AS hits FROM run_results WHERE run_id = ?",
        r.id,
        r.id,
      );
      expect(res?.c).toBeCloseTo((res?.hits ?? NaN) / 2000, 12);
      const names = sql<{ name: string }>(
        world,
        "SELECT DISTINCT name FROM metrics WHERE run_id = ? AND (name LIKE 'eval/consistency/%' OR name LIKE 'eval/judge_%') ORDER BY name",
        r.id,
      ).map((m) => m.name);
      expect(names).toEqual([
        'eval/consistency/denoised/t1.0',
        'eval/consistency/denoised/t1.0/deep',
        'eval/consistency/denoised/t1.0/shallow',
        'eval/consistency/raw/t0.7',
        'eval/consistency/raw/t0.7/deep',
        'eval/consistency/raw/t0.7/shallow',
        'eval/consistency/raw/t1.0',
        'eval/consistency/raw/t1.0/deep',
        'eval/consistency/raw/t1.0/shallow',
        'eval/judge_accuracy/deep',
        'eval/judge_accuracy/shallow',
        'eval/judge_agreement/denoised/t1.0',
        'eval/judge_agreement/raw/t0.7',
        'eval/judge_agreement/raw/t1.0',
      ]);
    }
    // One classifier per judge for the dataset, in the shared artifact store, trained once (the lock), no lock left.
    expect(
      readdirSync(path.join(world.dir, 'artifacts', 'classifiers'))
        .filter((n) => !n.includes('.tmp-'))
        .sort(),
    ).toEqual([expect.stringMatching(/^digit-cnn-[0-9a-f]{16}$/), expect.stringMatching(/^digit-cnn-[0-9a-f]{16}$/)]);
    // Two workers on a fresh artifact folder: each judge trained once in all (the other worker waited for it and loaded it).
    const trainings = (w1.output() + w2.output()).match(/training the digit classifier \(once per dataset\)/g) ?? [];
    expect(trainings).toHaveLength(2);
    // Both workers took part (each took one of the two runs).
    expect(new Set(runs.map((r) => r.worker_id)).size).toBe(2);

    // The report of what the workers really wrote: every image readable from the artifact store, a confusion matrix per run.
    const report = await run(world, SCRIPTS.report, ['smoke', '--out', path.join(world.dir, 'reports')]);
    expect(report.code).toBe(0);
    const html = readFileSync(path.join(world.dir, 'reports', 'smoke.html'), 'utf8');
    expect(html.match(/<img src="data:image\/png;base64,/g)).toHaveLength(2 * 2); // samples + μ per run
    expect(html).not.toContain('image not readable');
    expect(html).not.toContain('no confusion matrix recorded');

    const again = await run(world, SCRIPTS.sweep, [path.resolve(__dirname, '..', '..', '..', 'sweeps', 'smoke.yaml'), '--detach']);
    expect(again.code).toBe(0);
    expect(again.output).toContain('2 runs, 0 enqueued, 2 already finished');
    expect(sql<{ n: number }>(world, 'SELECT count(*) AS n FROM runs')[0]?.n).toBe(2);
    const queue = new Queue(RUN_QUEUE, { connection: redisOptionsFromUrl(REDIS_URL), prefix: world.prefix });
    expect(await queue.getJobCounts('waiting', 'active', 'delayed')).toEqual({ waiting: 0, active: 0, delayed: 0 });
    await queue.close();
  });

  it('kill -9 of a worker mid-run: the other worker resumes from the checkpoint; each (run, step, metric) row once', async () => {
    world = createWorld();
    const file = writeSweep(world, 'long', testSweep('long', { steps: 120, values: ['randn'], checkpointEvery: 20 }));
    const { recorder, worker: first, runId } = await submitWithOneWorker(world, file);
    await waitFor(
      'a checkpoint past step 20',
      () => sql(world, 'SELECT 1 FROM checkpoints WHERE run_id = ? AND step >= 20', runId).length > 0 && metricSteps(world, runId).length > 30,
      90_000,
      50,
    );
    first.child.kill('SIGKILL'); // the worker; its training child exits when the IPC channel closes
    const killedAt = Math.max(...metricSteps(world, runId));
    expect(killedAt).toBeLessThan(120);
    const second = start(world, SCRIPTS.worker);
    await waitFor('the run to succeed on the second worker', () => statusOf(world, runId) === 'succeeded', 120_000);
    const row = sql<{ resumed_from: number | null; worker_id: string }>(world, 'SELECT resumed_from, worker_id FROM runs WHERE id = ?', runId)[0];
    expect(row?.resumed_from).toBeGreaterThanOrEqual(20);
    expect(second.output()).toContain('resumed from checkpoint');
    expect(metricSteps(world, runId)).toEqual(range(1, 120));
    expect(metricSteps(world, runId, 'grad_norm')).toEqual(range(1, 120));
    recorder.child.kill('SIGTERM');
    await recorder.exited;
  });

  it('a crashed training process is retried with backoff and resumes from its checkpoint', async () => {
    world = createWorld();
    const file = writeSweep(world, 'crash', testSweep('crash', { steps: 80, values: ['zero'], checkpointEvery: 20 }));
    const { worker, runId } = await submitWithOneWorker(world, file);
    await waitForCheckpoints(world, runId);
    process.kill(trainingPid(worker), 'SIGKILL');
    await waitFor('the run to succeed after a retry', () => statusOf(world, runId) === 'succeeded', 120_000);
    const row = sql<{ attempts: number; resumed_from: number }>(world, 'SELECT attempts, resumed_from FROM runs WHERE id = ?', runId)[0];
    expect(row?.attempts).toBe(2);
    expect(row?.resumed_from).toBeGreaterThanOrEqual(20);
    expect(worker.output()).toContain('training process exited with signal SIGKILL before finishing');
    expect(metricSteps(world, runId)).toEqual(range(1, 80));
    expect(worker.child.exitCode).toBeNull();
  });

  it('a worker that cannot read the checkpoint its run must resume from fails the job and says so; it never restarts from step 0', async () => {
    world = createWorld();
    const file = writeSweep(world, 'lost', testSweep('lost', { steps: 400, values: ['zero'], checkpointEvery: 10 }));
    const { worker, runId } = await submitWithOneWorker(world, file);
    await waitForCheckpoints(world, runId);
    process.kill(trainingPid(worker), 'SIGKILL');
    // This machine loses its view of the shared artifact store: the checkpoints are gone when the retry starts.
    rmSync(path.join(world.dir, 'artifacts', 'runs', runId, 'checkpoints'), { recursive: true, force: true });
    const before = metricSteps(world, runId);
    await waitFor('the run to fail after its retries', () => statusOf(world, runId) === 'failed', 120_000);
    const row = sql<{ error: string; attempts: number }>(world, 'SELECT error, attempts FROM runs WHERE id = ?', runId)[0];
    expect(row?.error).toMatch(
      /^cannot read the checkpoint this run must resume from \(step \d+, .*\): no valid checkpoint in .*Refusing to restart from step 0\. \(attempt 3 of 3\)$/,
    );
    // No attempt started over: the metrics of the first attempt are untouched and nothing past them was written.
    expect(metricSteps(world, runId)).toEqual(before);
    expect(worker.output().match(/"msg":"run started"/g)).toHaveLength(1);
  });

  it('a worker that loses its job lock kills its copy of the run at once; the run resumes and no row is duplicated', async () => {
    world = createWorld();
    const file = writeSweep(world, 'lock', testSweep('lock', { steps: 150, values: ['zero'], checkpointEvery: 10 }));
    const { worker, runId } = await submitWithOneWorker(world, file);
    await waitForCheckpoints(world, runId);
    const redis = new Redis(REDIS_URL);
    expect(await redis.del(`${world.prefix}:${RUN_QUEUE}:${runId}:lock`)).toBe(1); // as if the lock had expired
    redis.disconnect();
    await waitFor('the worker to notice', () => worker.output().includes('lost the job lock'), 20_000, 50);
    await waitFor('the run to succeed', () => statusOf(world, runId) === 'succeeded', 120_000);
    expect(metricSteps(world, runId)).toEqual(range(1, 150));
    expect(worker.output().match(/"resumeFrom":\d+,"msg":"run started"/g)?.length).toBeGreaterThanOrEqual(1);
  });

  it('SIGTERM on a worker: the run checkpoints, is queued again (in SQLite too), and resumes on the next worker', async () => {
    world = createWorld();
    const file = writeSweep(world, 'term', testSweep('term', { steps: 150, values: ['zero'], checkpointEvery: 50 }));
    const { worker: first, runId } = await submitWithOneWorker(world, file);
    await waitFor('training under way', () => metricSteps(world, runId).length >= 10, 60_000, 50);
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    await waitFor('the run to read queued', () => statusOf(world, runId) === 'queued', 20_000, 50);
    const stoppedAt = sql<{ step: number }>(world, 'SELECT max(step) AS step FROM checkpoints WHERE run_id = ?', runId)[0]?.step ?? 0;
    expect(stoppedAt).toBeGreaterThanOrEqual(10); // checkpointed where it stopped, not only at every_steps
    start(world, SCRIPTS.worker);
    await waitFor('the run to succeed', () => statusOf(world, runId) === 'succeeded', 120_000);
    expect(sql<{ resumed_from: number }>(world, 'SELECT resumed_from FROM runs WHERE id = ?', runId)[0]?.resumed_from).toBe(stoppedAt);
    expect(metricSteps(world, runId)).toEqual(range(1, 150));
  });

  it('the recorder killed and restarted loses nothing', async () => {
    world = createWorld();
    const file = writeSweep(world, 'rec', testSweep('rec', { steps: 60, values: ['zero', 'randn'], checkpointEvery: 30 }));
    start(world, SCRIPTS.worker);
    expect((await run(world, SCRIPTS.sweep, [file, '--detach'])).code).toBe(0);
    const rec1 = start(world, SCRIPTS.recorder);
    await waitFor('some metrics recorded', () => sql(world, 'SELECT 1 FROM metrics LIMIT 1').length > 0, 60_000, 50);
    rec1.child.kill('SIGKILL');
    await rec1.exited;
    await new Promise((r) => setTimeout(r, 1500)); // the workers go on reporting while no recorder runs
    start(world, SCRIPTS.recorder); // restarted: same consumer name, so it first re-reads what the dead one had not acked
    await waitFor(
      'both runs recorded as succeeded',
      () => sql<{ n: number }>(world, "SELECT count(*) AS n FROM runs WHERE status = 'succeeded'")[0]?.n === 2,
      120_000,
    );
    for (const { id } of sql<{ id: string }>(world, 'SELECT id FROM runs')) expect(metricSteps(world, id)).toEqual(range(1, 60));
  });

  it('cancel stops the running run at its next step and takes the queued one off the queue; the worker keeps serving', async () => {
    world = createWorld();
    const file = writeSweep(world, 'cancel-me', testSweep('cancel-me', { steps: 2000, values: ['zero', 'randn'], checkpointEvery: 0, metricsEvery: 10 }));
    start(world, SCRIPTS.recorder);
    const worker = start(world, SCRIPTS.worker);
    expect((await run(world, SCRIPTS.sweep, [file, '--detach'])).code).toBe(0);
    await waitFor('one run running', () => sql(world, "SELECT 1 FROM runs WHERE status = 'running'").length === 1, 60_000);
    const cancel = await run(world, SCRIPTS.cancel, ['cancel-me']);
    expect(cancel.code).toBe(0);
    expect(cancel.output).toContain('1 queued run(s) removed from the queue, 1 running run(s) will stop at their next step');
    await waitFor('both cancelled', () => sql<{ n: number }>(world, "SELECT count(*) AS n FROM runs WHERE status = 'cancelled'")[0]?.n === 2, 30_000);
    const stoppedAt = Math.max(0, ...sql<{ id: string }>(world, 'SELECT id FROM runs').flatMap((r) => metricSteps(world, r.id)));
    expect(stoppedAt).toBeLessThan(2000);
    // The same worker still serves: a new sweep runs to the end.
    const next = writeSweep(world, 'after', testSweep('after', { steps: 5, values: ['zero'], checkpointEvery: 0 }));
    expect((await run(world, SCRIPTS.sweep, [next])).code).toBe(0);
    expect(worker.child.exitCode).toBeNull();
  });

  it('a bad job payload fails once with a clear reason, without retries, and the worker keeps serving', async () => {
    world = createWorld();
    start(world, SCRIPTS.recorder);
    const worker = start(world, SCRIPTS.worker);
    await waitFor('worker ready', () => worker.output().includes('worker ready'));
    const queue = new Queue(RUN_QUEUE, { connection: redisOptionsFromUrl(REDIS_URL), prefix: world.prefix });
    const job = await queue.add(
      'bad',
      { runId: 'r-bad', sweepId: 's', label: 'x', artifactDir: path.join(world.dir, 'a'), config: { train: { steps: 'many' } } },
      { jobId: 'r-bad', attempts: 3, backoff: { type: 'fixed', delay: 100 } },
    );
    const state = await waitForAsync(async () => ((await job.getState()) === 'failed' ? 'failed' : undefined), 30_000);
    expect(state).toBe('failed');
    const reloaded = await queue.getJob('r-bad');
    expect(reloaded?.attemptsMade).toBe(1);
    expect(reloaded?.failedReason).toBe('job r-bad config.train.steps: expected a positive integer, got "many"');

    // A payload from a newer scheduler, with a config key this worker does not know: refused, retried for another worker.
    const newer = await queue.add(
      'newer',
      {
        runId: 'r-newer',
        sweepId: 's',
        label: 'x',
        artifactDir: path.join(world.env.ARTIFACT_DIR ?? '', 'runs', 'r-newer'),
        config: { eval: { future_knob: 1 } },
      },
      { jobId: 'r-newer', attempts: 2, backoff: { type: 'fixed', delay: 100 } },
    );
    expect(await waitForAsync(async () => ((await newer.getState()) === 'failed' ? 'failed' : undefined), 30_000)).toBe('failed');
    const newerJob = await queue.getJob('r-newer');
    expect(newerJob?.attemptsMade).toBe(2); // retried: another (updated) worker could have taken it
    expect(newerJob?.failedReason).toBe(
      'job r-newer: this worker does not know the config key(s) config.eval.future_knob; it is older than the scheduler that submitted the run. Update it (git pull && pnpm build) and restart it.',
    );

    // A crafted payload (a prototype-pollution key in its config) is invalid, not version skew: it fails once.
    const hostileData = JSON.parse(
      JSON.stringify({
        runId: 'r-proto',
        sweepId: 's',
        label: 'x',
        artifactDir: path.join(world.env.ARTIFACT_DIR ?? '', 'runs', 'r-proto'),
        config: { train: { PROTO: { steps: 1 } } },
      }).replace('"PROTO"', '"__proto__"'),
    ) as Record<string, unknown>;
    const hostile = await queue.add('proto', hostileData, { jobId: 'r-proto', attempts: 3, backoff: { type: 'fixed', delay: 100 } });
    expect(await waitForAsync(async () => ((await hostile.getState()) === 'failed' ? 'failed' : undefined), 30_000)).toBe('failed');
    const hostileJob = await queue.getJob('r-proto');
    expect(hostileJob?.attemptsMade).toBe(1);
    expect(hostileJob?.failedReason).toBe(
      'job r-proto config.train.__proto__: forbidden key "__proto__": no valid payload has it (a prototype-pollution attempt?); the payload is invalid',
    );
    expect(sql(world, "SELECT status, error FROM runs WHERE id = 'r-proto'")).toEqual([]); // never a run of ours: nothing recorded

    // A payload that would write outside this worker's ARTIFACT_DIR, or read data outside DATA_ROOTS, never runs.
    const escape = path.join(world.env.ARTIFACT_DIR ?? '', '..', 'elsewhere');
    const out = await queue.add(
      'out',
      { runId: 'r-out', sweepId: 's', label: 'x', artifactDir: escape, config: {} },
      { jobId: 'r-out', attempts: 2, backoff: { type: 'fixed', delay: 100 } },
    );
    expect(await waitForAsync(async () => ((await out.getState()) === 'failed' ? 'failed' : undefined), 30_000)).toBe('failed');
    expect((await queue.getJob('r-out'))?.failedReason).toBe(
      `job r-out artifactDir: expected a folder inside this worker's ARTIFACT_DIR (${world.env.ARTIFACT_DIR}), got "${escape}". Set ARTIFACT_DIR on this worker to the shared artifact folder the scheduler uses.`,
    );
    const data = await queue.add(
      'data',
      {
        runId: 'r-data',
        sweepId: 's',
        label: 'x',
        artifactDir: path.join(world.env.ARTIFACT_DIR ?? '', 'runs', 'r-data'),
        config: { data: { source: 'idx', dir: '/etc' } },
      },
      { jobId: 'r-data', attempts: 3 },
    );
    expect(await waitForAsync(async () => ((await data.getState()) === 'failed' ? 'failed' : undefined), 30_000)).toBe('failed');
    expect((await queue.getJob('r-data'))?.failedReason).toMatch(
      /^job r-data config\.data\.dir: expected a folder inside the allowed data folders \(.*\), got "\/etc"$/,
    );
    expect(existsSync(escape)).toBe(false);
    await queue.close();
    const good = writeSweep(world, 'good', testSweep('good', { steps: 3, values: ['zero'], checkpointEvery: 0 }));
    expect((await run(world, SCRIPTS.sweep, [good])).code).toBe(0);
    expect(existsSync(world.env.ARTIFACT_DIR ?? '')).toBe(true);
    expect(readdirSync(path.join(world.env.ARTIFACT_DIR ?? '', 'runs'))).toHaveLength(1);
  });
});

describe('checkpoints belong to one run', () => {
  it("two jobs pointed at one checkpoint folder never resume each other's weights", async () => {
    world = createWorld();
    const file = writeSweep(world, 'own', testSweep('own', { steps: 20, values: ['zero'], checkpointEvery: 10 }));
    const { runId } = await submitWithOneWorker(world, file);
    await waitFor('the run to succeed', () => statusOf(world, runId) === 'succeeded', 120_000);
    const folder = path.join(world.env.ARTIFACT_DIR ?? '', 'runs', runId);
    const checkpoints = () =>
      readdirSync(path.join(folder, 'checkpoints')).map((d) => readFileSync(path.join(folder, 'checkpoints', d, 'manifest.json'), 'utf8'));
    const before = checkpoints();
    expect(before.map((m) => (JSON.parse(m) as { runId: string }).runId)).toEqual([runId, runId]);
    const config = JSON.parse(sql<{ config_json: string }>(world, 'SELECT config_json FROM runs WHERE id = ?', runId)[0]?.config_json ?? '{}') as Record<
      string,
      unknown
    >;

    // Another run id (same config, as a crafted or mistaken payload would have) pointed at that run's folder.
    const queue = new Queue(RUN_QUEUE, { connection: redisOptionsFromUrl(REDIS_URL), prefix: world.prefix });
    const intruder = await queue.add(
      'intruder',
      { runId: 'r-intruder', sweepId: 'own', label: 'x', artifactDir: folder, config },
      { jobId: 'r-intruder', attempts: 3, backoff: { type: 'fixed', delay: 100 } },
    );
    expect(await waitForAsync(async () => ((await intruder.getState()) === 'failed' ? 'failed' : undefined), 60_000)).toBe('failed');
    const failed = await queue.getJob('r-intruder');
    expect(failed?.attemptsMade).toBe(1); // retrying cannot help
    expect(failed?.failedReason).toBe(
      `${path.join(folder, 'checkpoints', 'step-00000020')}: was written by run ${runId}, not by r-intruder (two jobs point at one checkpoint folder); refusing to resume from it`,
    );
    // And another config in the same folder.
    const reconfigured = await queue.add(
      'reconfigured',
      { runId: 'r-other', sweepId: 'own', label: 'x', artifactDir: folder, config: { ...config, seed: 99 } },
      { jobId: 'r-other', attempts: 3 },
    );
    expect(await waitForAsync(async () => ((await reconfigured.getState()) === 'failed' ? 'failed' : undefined), 60_000)).toBe('failed');
    expect((await queue.getJob('r-other'))?.failedReason).toMatch(/^.*step-00000020: was written by run .*, not by r-other/);
    await queue.close();
    expect(checkpoints()).toEqual(before); // untouched
  });
});

async function waitForAsync<T>(fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
