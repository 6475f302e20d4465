import { UsageError } from '@ablate/cli';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

/** GPUs `nvidia-smi -L` lists, as CUDA device indices; none where there is no driver. */
export function detectGpus(): string[] {
  const r = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0 || typeof r.stdout !== 'string') return [];
  return r.stdout
    .split('\n')
    .filter((l) => /^GPU \d+:/.test(l))
    .map((l) => /^GPU (\d+):/.exec(l)?.[1] ?? '0');
}

/** One local worker per GPU, else one per CPU core. */
export function defaultWorkerCount(): number {
  return detectGpus().length || os.cpus().length;
}

export const WORKER_MAIN = path.resolve(__dirname, '..', '..', 'worker', 'dist', 'main.js');
export const PREFLIGHT_MAIN = path.resolve(__dirname, '..', '..', 'worker', 'dist', 'preflight-main.js');

export interface PreflightResult {
  /** null: every run fits any backend, none was loaded. */
  backend: string | null;
  device: string | null;
  problems: { labels: string[]; preset: string; batchSize: number; forwardMiB: number; limitMiB: number | null; maxBatch: number | null }[];
}

/**
 * Asks a worker process of this machine (the same backend choice, the same memory estimate) which runs it could not
 * train. Rejects with the worker's message when it cannot even pick a backend. Started early, it runs while the
 * sweep connects to Redis.
 */
export function preflightLocalWorkers(
  runs: { label: string; config: unknown }[],
  opts: { backend?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<PreflightResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PREFLIGHT_MAIN], { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => void (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => void (err += d.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new UsageError(`the local workers cannot start here: ${err.trim() || `exit ${code}`}`));
      else resolve(JSON.parse(out) as PreflightResult);
    });
    child.stdin.end(JSON.stringify({ ...(opts.backend ? { backend: opts.backend } : {}), runs }));
  });
}

/**
 * Starts N `pnpm worker` processes on this machine (same REDIS_URL and QUEUE_PREFIX), each training one run at a time;
 * on a GPU machine worker i gets GPU i. They get a session of their own, so a Ctrl-C or a hangup of the terminal reaches
 * only the sweep, which then sends each exactly one SIGTERM (a second signal would make a worker exit without
 * checkpointing).
 *
 * Each also gets an IPC channel to this process, and stops as on SIGTERM when it closes (see apps/worker/src/main.ts):
 * the kernel closes it when the sweep dies however it dies (a crash, kill -9, a closed terminal), so local workers never
 * outlive their sweep. Chosen over polling the parent pid (a delay, and pids are reused) and over Linux's
 * PR_SET_PDEATHSIG (native code, and it fires when the parent *thread* that forked exits, not the process).
 */
export function startLocalWorkers(
  n: number,
  opts: { backend?: string; env?: NodeJS.ProcessEnv; logFile?: (i: number) => NodeJS.WritableStream | undefined } = {},
): ChildProcess[] {
  const gpus = detectGpus();
  return Array.from({ length: n }, (_, i) => {
    const args = [
      WORKER_MAIN,
      ...(gpus[i] === undefined ? ['--concurrency', '1'] : ['--gpus', gpus[i] ?? '0']),
      ...(opts.backend ? ['--backend', opts.backend] : []),
    ];
    return spawn(process.execPath, args, {
      env: { LOG_FORMAT: 'json', ...(opts.env ?? process.env) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
    });
  });
}

/** SIGTERM, then wait for them to put their runs back on the queue and exit (SIGKILL after `graceMs`). */
export async function stopLocalWorkers(children: ChildProcess[], graceMs = 60_000): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
          c.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
}
