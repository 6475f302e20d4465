import { deviceLayerDir, explainNoAdapter, probeWebgpu, selectBackend, type BackendAttempt } from '@ablate/backend';
import { describeDataSource, type DataConfig } from '@ablate/data';
import { sweepDbPath } from '@ablate/cli';
import { connectProbe, queueEnv, redactRedisUrl, redisOptionsFromUrl } from '@ablate/queue';
import type { Redis } from 'ioredis';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';

export interface Check {
  name: string;
  ok: boolean;
  /** Required checks make `pnpm run doctor` exit non-zero when they fail. */
  required: boolean;
  detail: string;
  fix?: string;
  extra?: Record<string, unknown>;
}

export function checkNode(version = process.versions.node): Check {
  const major = Number(version.split('.')[0]);
  const ok = major >= 20;
  return { name: 'node', ok, required: true, detail: `Node.js ${version}`, ...(ok ? {} : { fix: 'install Node.js 20 or newer' }) };
}

export async function checkBackend(env: NodeJS.ProcessEnv, requested?: string): Promise<Check> {
  try {
    const choice = await selectBackend({ env, ...(requested === undefined ? {} : { requested }) });
    const skipped = choice.attempts.filter((a) => !a.ok);
    return {
      name: 'backend',
      ok: true,
      required: true,
      detail: `${choice.name} on ${choice.device} (${choice.source})`,
      extra: { backend: choice.name, device: choice.device, source: choice.source, notChosen: skipped.map(notChosen) },
    };
  } catch (err: unknown) {
    const message = err instanceof Error ? err.message : String(err);
    return { name: 'backend', ok: false, required: true, detail: message, fix: 'unset TFJS_BACKEND to pick automatically, or install the missing backend' };
  }
}

/**
 * The GPU adapters Dawn (the webgpu backend) would use, or exactly why there is none: no libvulkan.so.1, no Vulkan
 * driver, an adapter Dawn rejects (lavapipe), no GPU. Not required: CPU machines have none. Probed in a child process.
 */
export function checkWebgpu(env: NodeJS.ProcessEnv): Check {
  const probe = probeWebgpu(env);
  if (probe.adapters.length > 0) {
    const list = probe.adapters.map((a, i) => `${i}: ${a.name} (${a.backend})`).join(', ');
    const f = probe.first;
    const first = f ? `; adapter 0: vendor ${f.vendor || '?'}, architecture ${f.architecture || '?'}, driver ${f.description || '?'}` : '';
    const names = probe.adapters.map((a) => a.name);
    const twins = names.some((n, i) => names.findIndex((m) => m.includes(n)) !== i);
    const layer = deviceLayerDir(env);
    const note = !twins
      ? ''
      : layer
        ? `; identical names: --gpus uses the device-index layer (${layer})`
        : '; identical names: --gpus beyond the first needs the device-index layer';
    return {
      name: 'webgpu',
      ok: !twins || layer !== null,
      required: false,
      detail: `Dawn adapters ${list}${first}${note}`,
      ...(twins && layer === null ? { fix: 'bash packages/backend/vk-layer/build.sh' } : {}),
      extra: { adapters: probe.adapters, first: f, deviceLayer: layer },
    };
  }
  const why = explainNoAdapter(probe);
  return { name: 'webgpu', ok: false, required: false, detail: why.detail, fix: why.fix, extra: { warnings: probe.warnings } };
}

function notChosen(a: BackendAttempt): { name: string; why: string; fix?: string } {
  return { name: a.name, why: a.detail, ...(a.fix === undefined ? {} : { fix: a.fix }) };
}

export async function checkRedis(url: string, timeoutMs = 2000): Promise<Check> {
  let options: ReturnType<typeof redisOptionsFromUrl>;
  try {
    options = redisOptionsFromUrl(url);
  } catch (err: unknown) {
    return {
      name: 'redis',
      ok: false,
      required: true,
      detail: err instanceof Error ? err.message : String(err),
      fix: 'set REDIS_URL to redis://[user:password@]host[:port][/db] or rediss://…',
    };
  }
  let redis: Redis | undefined;
  try {
    redis = await connectProbe(options, timeoutMs); // connected, and answered PING
    const info = await redis.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    return { name: 'redis', ok: true, required: true, detail: `${redactRedisUrl(url)} answers (Redis ${version})` };
  } catch (err: unknown) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      name: 'redis',
      ok: false,
      required: true,
      detail: `${redactRedisUrl(url)} does not answer: ${message}`,
      fix: 'start Redis (apt-get install -y redis-server && redis-server --daemonize yes) or set REDIS_URL',
    };
  } finally {
    redis?.disconnect();
  }
}

export function checkSqlitePath(dbPath: string): Check {
  const abs = path.resolve(dbPath);
  const dir = path.dirname(abs);
  if (existsSync(abs)) {
    try {
      accessSync(abs, constants.R_OK | constants.W_OK);
      return { name: 'sqlite', ok: true, required: false, detail: `${abs} (exists)` };
    } catch {
      return {
        name: 'sqlite',
        ok: false,
        required: true,
        detail: `${abs} exists but is not readable and writable`,
        fix: `fix the permissions of ${abs} or set SWEEP_DB`,
      };
    }
  }
  let probe = dir;
  while (!existsSync(probe)) probe = path.dirname(probe);
  try {
    accessSync(probe, constants.W_OK);
    return { name: 'sqlite', ok: true, required: false, detail: `${abs} (will be created)` };
  } catch {
    return { name: 'sqlite', ok: false, required: true, detail: `${abs} cannot be created: ${probe} is not writable`, fix: 'set SWEEP_DB to a writable path' };
  }
}

export function checkDataset(cfg: DataConfig): Check {
  const d = describeDataSource(cfg);
  return { name: 'dataset', ok: d.available, required: true, detail: d.detail, ...(d.fix === undefined ? {} : { fix: d.fix }) };
}

export interface DoctorOptions {
  env: NodeJS.ProcessEnv;
  backend?: string;
  data?: DataConfig;
}

export async function runChecks(opts: DoctorOptions): Promise<Check[]> {
  const { env } = opts;
  const data: DataConfig = opts.data ?? (env.MNIST_IDX_DIR ? { source: 'idx', dir: env.MNIST_IDX_DIR } : { source: 'mnist-embedded' });
  return [
    checkNode(),
    await checkBackend(env, opts.backend),
    checkWebgpu(env),
    await checkRedis(queueEnv(env).redisUrl),
    checkSqlitePath(sweepDbPath(env)),
    checkDataset(data),
  ];
}

export function formatChecks(checks: Check[]): string {
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${c.ok ? 'ok  ' : c.required ? 'FAIL' : 'warn'} ${c.name.padEnd(8)} ${c.detail}`);
    const notChosen = c.extra?.notChosen;
    if (Array.isArray(notChosen)) {
      for (const n of notChosen as { name: string; why: string; fix?: string }[]) {
        lines.push(`              not ${n.name}: ${n.why}`);
        if (n.fix) lines.push(`                to enable: ${n.fix}`);
      }
    }
    if (!c.ok && c.fix) lines.push(`              fix: ${c.fix}`);
  }
  return lines.join('\n');
}
