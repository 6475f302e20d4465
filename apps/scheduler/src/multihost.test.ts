/**
 * Several hosts on one machine: Linux network namespaces joined by veth pairs. Redis, the scheduler and the recorder
 * live in one namespace; two workers live in two others and reach Redis only over their own veth link (the artifact
 * folder is the shared file system, as NFS would be). Needs root and iproute2's `ip`: skipped, with the reason, where
 * network namespaces cannot be made (not root, no `ip netns`, a container without CAP_SYS_ADMIN).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createWorld, destroyWorld, SCRIPTS, sql, waitFor, type World } from './test-utils/harness';

const id = randomBytes(3).toString('hex');
const NS = { redis: `abl-r-${id}`, w1: `abl-w1-${id}`, w2: `abl-w2-${id}` };
// Two point-to-point links out of the Redis namespace, one per worker host.
const LINKS = [
  { ns: NS.w1, here: `ar1${id}`, there: `aw1${id}`, redisIp: '10.213.1.1', workerIp: '10.213.1.2' },
  { ns: NS.w2, here: `ar2${id}`, there: `aw2${id}`, redisIp: '10.213.2.1', workerIp: '10.213.2.2' },
];
const PORT = 6390;

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr || r.error?.message} (this test needs root and iproute2)`);
}
/** Why network namespaces cannot be made here, or null when they can (one is made and deleted to find out). */
function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (list.error !== undefined || list.status !== 0) return `no \`ip netns\` (iproute2): ${list.error?.message ?? list.stderr.trim()}`;
  const probe = `abl-probe-${id}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.status !== 0) return `\`ip netns add\` failed: ${add.stderr.trim() || add.error?.message}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}
const UNAVAILABLE = netnsUnavailable();
if (UNAVAILABLE !== null) process.stderr.write(`multihost.test.ts: skipped: network namespaces are unavailable here (${UNAVAILABLE})\n`);

const inNs = (ns: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess =>
  spawn('ip', ['netns', 'exec', ns, cmd, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });

let world: World;
const procs: ChildProcess[] = [];
const outputs = new Map<ChildProcess, string>();
function track(p: ChildProcess): ChildProcess {
  procs.push(p);
  outputs.set(p, '');
  const add = (d: Buffer) => outputs.set(p, (outputs.get(p) ?? '') + d.toString('utf8'));
  p.stdout?.on('data', add);
  p.stderr?.on('data', add);
  return p;
}

beforeAll(() => {
  if (UNAVAILABLE !== null) return;
  for (const ns of Object.values(NS)) ip('netns', 'add', ns);
  for (const ns of Object.values(NS)) ip('-n', ns, 'link', 'set', 'lo', 'up');
  for (const l of LINKS) {
    ip('link', 'add', l.here, 'netns', NS.redis, 'type', 'veth', 'peer', 'name', l.there, 'netns', l.ns);
    ip('-n', NS.redis, 'addr', 'add', `${l.redisIp}/30`, 'dev', l.here);
    ip('-n', l.ns, 'addr', 'add', `${l.workerIp}/30`, 'dev', l.there);
    ip('-n', NS.redis, 'link', 'set', l.here, 'up');
    ip('-n', l.ns, 'link', 'set', l.there, 'up');
  }
});

afterAll(async () => {
  if (UNAVAILABLE !== null) return;
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 200));
  for (const ns of Object.values(NS)) spawnSync('ip', ['netns', 'del', ns]);
  if (world) await destroyWorld(world);
});

describe('across hosts (network namespaces)', () => {
  const maybe = UNAVAILABLE === null ? it : it.skip;
  maybe(
    `Redis in one namespace, two workers in two others over veth: the smoke sweep completes and every metric arrives${UNAVAILABLE === null ? '' : ` (skipped: ${UNAVAILABLE})`}`,
    async () => {
      world = createWorld({ REDIS_URL: `redis://127.0.0.1:${PORT}` });
      track(
        inNs(
          NS.redis,
          'redis-server',
          ['--port', String(PORT), '--bind', '127.0.0.1', ...LINKS.map((l) => l.redisIp), '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
          world.env,
        ),
      );
      await waitFor(
        'redis in its namespace',
        () => spawnSync('ip', ['netns', 'exec', NS.redis, 'redis-cli', '-p', String(PORT), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG',
        10_000,
        50,
      );
      // The worker namespaces have no route to anything but their link: the machine's own Redis is out of reach.
      const probe = spawnSync('ip', ['netns', 'exec', NS.w1, 'redis-cli', '-h', '127.0.0.1', '-p', '6379', 'ping'], { encoding: 'utf8', timeout: 5000 });
      expect(probe.stdout.trim()).not.toBe('PONG');

      const workers = LINKS.map((l) => track(inNs(l.ns, process.execPath, [SCRIPTS.worker], { ...world.env, REDIS_URL: `redis://${l.redisIp}:${PORT}` })));
      await waitFor('both workers ready', () => workers.every((w) => (outputs.get(w) ?? '').includes('worker ready')), 30_000, 100);
      const sweepFile = path.resolve(__dirname, '..', '..', '..', 'sweeps', 'smoke.yaml');
      const sweep = track(inNs(NS.redis, process.execPath, [SCRIPTS.sweep, sweepFile], { ...world.env, CLASSIFIER_EPOCHS: '1' }));
      const code = await new Promise<number | null>((resolve) => sweep.on('exit', (c) => resolve(c)));
      expect({ code, tail: code === 0 ? '' : (outputs.get(sweep) ?? '').slice(-2000) }).toEqual({ code: 0, tail: '' });

      const runs = sql<{ id: string; status: string; worker_id: string }>(world, 'SELECT id, status, worker_id FROM runs ORDER BY id');
      expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
      // Each worker host ran one of the two runs.
      const workerIds = workers.map((w) => /"workerId":"([^"]+)"/.exec(outputs.get(w) ?? '')?.[1]);
      expect(new Set(runs.map((r) => r.worker_id))).toEqual(new Set(workerIds));
      for (const r of runs) {
        expect(sql<{ step: number }>(world, "SELECT step FROM metrics WHERE run_id = ? AND name = 'loss' ORDER BY step", r.id).map((x) => x.step)).toEqual([
          5, 10, 15, 20,
        ]);
        expect(
          sql<{ step: number }>(world, "SELECT step FROM metrics WHERE run_id = ? AND name = 'eval/accuracy' ORDER BY step", r.id).map((x) => x.step),
        ).toEqual([10, 20]);
        expect(sql<{ n: number }>(world, 'SELECT count(*) AS n FROM mu_norms WHERE run_id = ?', r.id)[0]?.n).toBe(5 * 10);
        // Each judge labelled 50 samples per class at step 10 and 100 at the final eval, raw (T = 1, 0.7) and denoised.
        expect(
          sql<{ n: number }>(world, "SELECT sum(count) AS n FROM confusion WHERE run_id = ? AND judge = 'deep' AND kind = 'raw' AND temperature = 1", r.id)[0]
            ?.n,
        ).toBe(500 + 1000);
        expect(sql<{ n: number }>(world, 'SELECT sum(count) AS n FROM confusion WHERE run_id = ?', r.id)[0]?.n).toBe(2 * 3 * (500 + 1000));
      }
    },
  );
});
