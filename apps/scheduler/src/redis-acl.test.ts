import { afterEach, describe, expect, it } from '@jest/globals';
import { eventStreamKey } from '@ablate/queue';
import { Redis } from 'ioredis';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { createWorld, destroyWorld, run, SCRIPTS, sql, start, testSweep, waitFor, writeSweep, type World } from './test-utils/harness';

// The ACL users of docker/redis/users.acl, loaded by docker/redis/start.sh exactly as the compose file's redis service
// does, on a Redis of the test's own (the shared one must not get users).
const START_SH = path.resolve(__dirname, '..', '..', '..', 'docker', 'redis', 'start.sh');
const PASSWORDS = { admin: 'admin-pw', worker: 'worker-pw', recorder: 'recorder-pw' };

let world: World;
afterEach(async () => {
  await destroyWorld(world); // also stops the test's Redis (one of world.procs)
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function client(port: number, username: string | undefined, password: string | undefined): Redis {
  const c = new Redis({
    port,
    host: '127.0.0.1',
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableReadyCheck: false,
  });
  c.on('error', () => undefined);
  return c;
}

async function connectedWhenUp(port: number, password: string): Promise<Redis> {
  for (let tries = 0; ; tries++) {
    const c = client(port, undefined, password);
    try {
      await c.connect();
      return c;
    } catch (err: unknown) {
      c.disconnect();
      if (tries > 100) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('least privilege on Redis (docker/redis/users.acl on a real Redis)', () => {
  it('a worker with the worker credentials runs a job end to end, the recorder with its own records it; neither reaches beyond its keys', async () => {
    const port = await freePort();
    world = createWorld({ REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_PASSWORD: PASSWORDS.admin });
    const dir = path.join(world.dir, 'redis');
    mkdirSync(dir);
    const server = spawn('sh', [START_SH, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      env: {
        ...process.env,
        QUEUE_PREFIX: world.prefix,
        REDIS_PASSWORD: PASSWORDS.admin,
        REDIS_WORKER_PASSWORD: PASSWORDS.worker,
        REDIS_RECORDER_PASSWORD: PASSWORDS.recorder,
        ACL_FILE: path.join(dir, 'users.acl'),
      },
      stdio: 'ignore',
    });
    world.procs.push(server);
    const admin = await connectedWhenUp(port, PASSWORDS.admin);
    await admin.set('other-prefix:runs:secret', 'not yours');

    // The whole path with the restricted users: scheduler (default user) → worker → event stream → recorder → SQLite.
    const recorder = start(world, SCRIPTS.recorder, [], { REDIS_URL: `redis://recorder@127.0.0.1:${port}`, REDIS_PASSWORD: PASSWORDS.recorder });
    const worker = start(world, SCRIPTS.worker, [], { REDIS_URL: `redis://worker@127.0.0.1:${port}`, REDIS_PASSWORD: PASSWORDS.worker });
    await waitFor('worker ready', () => worker.output().includes('worker ready'));
    const file = writeSweep(world, 'acl', testSweep('acl', { steps: 60, values: ['zero'], checkpointEvery: 10 }));
    expect((await run(world, SCRIPTS.sweep, [file, '--detach'])).code).toBe(0);
    const lossSteps = () => sql<{ step: number }>(world, "SELECT step FROM metrics WHERE name = 'loss' ORDER BY step").map((r) => r.step);
    // Released mid-run (SIGTERM: checkpoint, job back on the queue) and resumed by a second worker: every queue
    // operation a run goes through, and the resume point read back.
    await waitFor('training under way', () => lossSteps().length >= 12, 60_000, 50);
    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
    const second = start(world, SCRIPTS.worker, [], { REDIS_URL: `redis://worker@127.0.0.1:${port}`, REDIS_PASSWORD: PASSWORDS.worker });
    await waitFor('the run to succeed', () => sql(world, "SELECT 1 FROM runs WHERE status = 'succeeded'").length === 1, 120_000);
    expect(lossSteps()).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(sql<{ resumed_from: number }>(world, 'SELECT resumed_from FROM runs')[0]?.resumed_from).toBeGreaterThanOrEqual(10);
    for (const p of [worker, second, recorder]) expect(p.output()).not.toMatch(/NOPERM|WRONGPASS|NOAUTH|cancel check failed|flush failed/);

    // What the worker credentials cannot do.
    const w = client(port, 'worker', PASSWORDS.worker);
    await w.connect();
    await expect(w.get('other-prefix:runs:secret')).rejects.toThrow(/NOPERM/); // another prefix
    await expect(w.set('other-prefix:runs:job', 'x')).rejects.toThrow(/NOPERM/);
    await expect(w.xrange(eventStreamKey(world.prefix), '-', '+')).rejects.toThrow(/NOPERM/); // the stream is write-only
    await expect(w.get(`${world.prefix}:recorder:lease`)).rejects.toThrow(/NOPERM/);
    await expect(w.set(`${world.prefix}:cancel:run:x`, '1')).rejects.toThrow(/NOPERM/); // cancel flags: read-only
    await expect(w.eval("return redis.call('GET', 'other-prefix:runs:secret')", 0)).rejects.toThrow(/can't access|NOPERM/); // nor from a script
    await expect(w.flushall()).rejects.toThrow(/NOPERM/);
    await expect(w.flushdb()).rejects.toThrow(/NOPERM/);
    await expect(w.keys('*')).rejects.toThrow(/NOPERM/);
    await expect(w.scan('0')).rejects.toThrow(/NOPERM/);
    await expect(w.config('GET', 'requirepass')).rejects.toThrow(/NOPERM/);
    await expect(w.call('ACL', 'LIST')).rejects.toThrow(/NOPERM/);
    w.disconnect();

    // What the recorder credentials cannot do.
    const r = client(port, 'recorder', PASSWORDS.recorder);
    await r.connect();
    expect((await r.xrange(eventStreamKey(world.prefix), '-', '+')).length).toBeGreaterThan(0);
    await expect(r.get(`${world.prefix}:runs:meta`)).rejects.toThrow(/NOPERM/); // not the queue
    await expect(r.get('other-prefix:runs:secret')).rejects.toThrow(/NOPERM/);
    await expect(r.flushall()).rejects.toThrow(/NOPERM/);
    r.disconnect();

    // A wrong password, or none, gets nothing.
    const anonymous = client(port, undefined, undefined);
    await anonymous.connect();
    await expect(anonymous.get('other-prefix:runs:secret')).rejects.toThrow(/NOAUTH/);
    await expect(anonymous.call('AUTH', 'worker', 'guess')).rejects.toThrow(/WRONGPASS/);
    await expect(anonymous.get(`${world.prefix}:runs:meta`)).rejects.toThrow(/NOAUTH/);
    anonymous.disconnect();
    expect(await admin.get('other-prefix:runs:secret')).toBe('not yours');
    admin.disconnect();
  });
});
