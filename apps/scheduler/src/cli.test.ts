import { afterEach, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { RUN_QUEUE, redisOptionsFromUrl } from '@ablate/queue';
import { Queue } from 'bullmq';
import { spawn } from 'node:child_process';
import { createWorld, destroyWorld, REDIS_URL, run, SCRIPTS, sql, start, testSweep, waitFor, writeSweep, type World } from './test-utils/harness';

const SWEEPS = path.resolve(__dirname, '..', '..', '..', 'sweeps');
let world: World;
afterEach(async () => {
  await destroyWorld(world);
});

describe('scheduler commands', () => {
  it('sweep --dry-run prints the expanded runs and touches nothing', async () => {
    world = createWorld();
    const r = await run(world, SCRIPTS.sweep, [path.join(SWEEPS, 'prior-init-mini.yaml'), '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.output).toMatch(/4 runs\n$/);
    for (const init of ['zero', 'randn', 'data']) expect(r.output).toContain(init);
    expect(r.output).toContain('0.02');
    const json = await run(world, SCRIPTS.sweep, [path.join(SWEEPS, 'prior-init-lr.yaml'), '--dry-run', '--json']);
    const runs = JSON.parse(json.output) as { runId: string; config: { prior: { lr_scale: number } } }[];
    expect(runs).toHaveLength(8);
    expect(new Set(runs.map((x) => x.config.prior.lr_scale))).toEqual(new Set([1, 0.1]));
    expect(sql(world, 'SELECT 1 FROM runs')).toEqual([]); // no database was created
  });

  it('a bad sweep file is an exit-2 error naming file:line:col for every problem, with nothing recorded', async () => {
    world = createWorld();
    const file = writeSweep(world, 'bad', 'name: bad\nbase:\n  train: { steps: 0 }\nparameters:\n  model.num_blocks:\n    values: [2, four]\n');
    const r = await run(world, SCRIPTS.sweep, [file]);
    expect(r.code).toBe(2);
    expect(r.output).toContain(`${file}:3:19 base.train.steps: expected a positive integer, got 0`);
    expect(r.output).toContain(`${file}:6:17 parameters.model.num_blocks.values[1]: expected a positive integer, got "four"`);
    expect(r.output).not.toContain('    at ');
    expect(sql(world, 'SELECT 1 FROM runs')).toEqual([]);
  });

  it('a sweep whose runs the local workers cannot hold says so, and what to do instead, before submitting anything', async () => {
    world = createWorld(); // TFJS_BACKEND=wasm, no worker connected
    const r = await run(world, SCRIPTS.sweep, [path.join(SWEEPS, 'prior-init.yaml')]);
    expect(r.code).toBe(2);
    expect(r.output).toContain('the local workers would train on wasm');
    expect(r.output).toMatch(/4 run\(s\) \(model\.preset paper, train\.batch_size 256\): ~[\d,]+ MiB of forward activations per training step/);
    expect(r.output).toContain('pnpm sweep sweeps/prior-init-mini.yaml');
    expect(r.output).toContain('--detach');
    expect(r.output).not.toContain('    at ');
    expect(sql(world, 'SELECT 1 FROM runs')).toEqual([]);
  });

  it('an unreachable Redis is a clear error, not a hang', async () => {
    world = createWorld({ REDIS_URL: 'redis://127.0.0.1:1' });
    const r = await run(world, SCRIPTS.sweep, [path.join(SWEEPS, 'smoke.yaml')], 20_000);
    expect(r.code).toBe(2);
    expect(r.output).toMatch(/^Redis at redis:\/\/127\.0\.0\.1:1 does not answer/);
  });

  it('a recorder started while Redis is down waits for it (RECORDER_REDIS_WAIT_MS), then records; with no wait it exits 2 at once', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    world = createWorld({ REDIS_URL: `redis://127.0.0.1:${port}`, RECORDER_REDIS_WAIT_MS: '0' });
    const none = await run(world, SCRIPTS.recorder, [], 20_000);
    expect(none.code).toBe(2);
    expect(none.output).toContain(`Redis at redis://127.0.0.1:${port} does not answer`);

    world.env.RECORDER_REDIS_WAIT_MS = '60000';
    const recorder = start(world, SCRIPTS.recorder);
    await waitFor('the recorder to wait', () => recorder.output().includes('waiting up to 60 s for it'), 20_000);
    const redis = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    try {
      await waitFor('the recorder to start', () => recorder.output().includes('recorder started'), 20_000);
      recorder.child.kill('SIGTERM');
      expect((await recorder.exited).code).toBe(0);
    } finally {
      redis.kill('SIGKILL');
    }
  }, 60_000);

  it('resubmitting an edited sweep file: runs it no longer has leave the sweep; queued ones in no other sweep are cancelled and dequeued', async () => {
    world = createWorld();
    const file = writeSweep(world, 'edit', testSweep('edit', { steps: 5, values: ['zero', 'randn'], checkpointEvery: 0 }));
    expect((await run(world, SCRIPTS.sweep, [file, '--detach'])).code).toBe(0);
    const [dropped, kept] = sql<{ run_id: string }>(world, "SELECT run_id FROM sweep_runs WHERE sweep_id = 'edit' ORDER BY idx").map((r) => r.run_id);
    writeSweep(world, 'edit', testSweep('edit', { steps: 5, values: ['randn'], checkpointEvery: 0 }));
    const again = await run(world, SCRIPTS.sweep, [file, '--detach']);
    expect(again.code).toBe(0);
    expect(again.output).toContain(
      `1 run(s) no longer in ${file} left the sweep (their results stay in the runs table); 1 of them, queued or running and in no other sweep, were cancelled`,
    );
    expect(sql(world, "SELECT run_id, idx FROM sweep_runs WHERE sweep_id = 'edit'")).toEqual([{ run_id: kept, idx: 0 }]);
    expect(sql(world, 'SELECT id, status FROM runs ORDER BY id')).toEqual(
      [
        { id: dropped, status: 'cancelled' },
        { id: kept, status: 'queued' },
      ].sort((a, b) => (a.id ?? '').localeCompare(b.id ?? '')),
    );
    const queue = new Queue(RUN_QUEUE, { connection: redisOptionsFromUrl(REDIS_URL), prefix: world.prefix });
    expect((await queue.getJobs(['waiting'])).map((j) => j.id)).toEqual([kept]);
    await queue.close();
  });

  it('query is read-only, formats csv and json, and explains SQL errors', async () => {
    world = createWorld();
    expect((await run(world, SCRIPTS.sweep, [path.join(SWEEPS, 'smoke.yaml'), '--detach'])).code).toBe(0);
    const csv = await run(world, SCRIPTS.query, ['SELECT id, status FROM runs ORDER BY id', '--format', 'csv']);
    expect(csv.code).toBe(0);
    expect(csv.output.split('\n')[0]).toBe('id,status');
    expect(csv.output.trim().split('\n')).toHaveLength(3);
    const json = await run(world, SCRIPTS.query, ["SELECT count(*) AS n FROM runs WHERE status = 'queued'", '--format', 'json']);
    expect(JSON.parse(json.output)).toEqual([{ n: 2 }]);
    const write = await run(world, SCRIPTS.query, ['DELETE FROM runs']);
    expect(write.code).toBe(2);
    expect(write.output).toContain('read-only');
    const sneaky = await run(world, SCRIPTS.query, ['SELECT 1; DELETE FROM runs']);
    expect(sneaky.code).toBe(2);
    expect(sql<{ n: number }>(world, 'SELECT count(*) AS n FROM runs')[0]?.n).toBe(2);
    const bad = await run(world, SCRIPTS.query, ['SELECT nope FROM runs']);
    expect(bad.code).toBe(2);
    expect(bad.output).toBe('SQL error: no such column: nope\n');
    const runtime = await run(world, SCRIPTS.query, ["SELECT json_extract('not json', '$.x')"]); // fails while it runs, not when prepared
    expect(runtime.code).toBe(2);
    expect(runtime.output).toBe('SQL error: malformed JSON\n');
    // A runaway statement (a recursive CTE with no end) is stopped at --timeout, with a clear error, exit 2.
    const runaway = await run(world, SCRIPTS.query, [
      'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n',
      '--timeout',
      '1',
    ]);
    expect(runaway.code).toBe(2);
    expect(runaway.output).toBe(
      'query timed out: the statement ran longer than 1 s and was stopped (--timeout 1). Narrow it (a WHERE, a LIMIT; a recursive CTE needs a condition that ends it) or raise --timeout.\n',
    );
    const badTimeout = await run(world, SCRIPTS.query, ['SELECT 1', '--timeout', 'soon']);
    expect(badTimeout.code).toBe(2);
    expect(badTimeout.output).toBe('--timeout: expected a number of seconds ≥ 0 (0: no limit), got "soon"\n');
    // pnpm query needs no Redis at all: it answers with REDIS_URL pointing nowhere.
    const noRedis = start(world, SCRIPTS.query, ['SELECT count(*) AS n FROM runs', '--format', 'json'], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect((await noRedis.exited).code).toBe(0);
    expect(JSON.parse(noRedis.output())).toEqual([{ n: 2 }]);
    const summary = await run(world, SCRIPTS.status, ['smoke']);
    expect(summary.code).toBe(0);
    expect(summary.output).toContain('sweep smoke: 2 runs — queued 2');
    expect(summary.output).toContain('per variant (2;');
    expect(summary.output).toContain('nothing has started');
    const all = await run(world, SCRIPTS.status, ['smoke', '--all', '--json']);
    expect((JSON.parse(all.output) as { status: string; step: number }[]).map((r) => [r.status, r.step])).toEqual([
      ['queued', 0],
      ['queued', 0],
    ]);
    const allText = await run(world, SCRIPTS.status, ['smoke', '--all']);
    expect(allText.output.trim().split('\n')).toHaveLength(3); // header + one line per run
    const status = await run(world, SCRIPTS.status, ['nosuch']);
    expect(status.code).toBe(2);
    expect(status.output).toContain('no sweep "nosuch"');
  });
});
