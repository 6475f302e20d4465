import { BLAS_BACKEND_NAME, blasThreadsFromEnv, installBlasKernels, uninstallBlasKernels } from '@ablate/blas';
import { createLogger } from '@ablate/log';
import * as tf from '@tensorflow/tfjs-core';
import { loadWebgpu } from './webgpu-loader';
import { AblateError } from '@ablate/cli';

/** The backends we offer, in the order we prefer them. */
export const BACKENDS = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  /** Why it was chosen, or why not: a sentence a user can act on. */
  detail: string;
  /** How to make it available, when it is not. */
  fix?: string;
}

export interface BackendChoice {
  /** The backend's reported name: a BackendName, or 'wasm+blas' (wasm with its matmuls on OpenBLAS). */
  name: BackendName | typeof BLAS_BACKEND_NAME;
  /** e.g. 'GPU (tfjs-node-gpu, CUDA_VISIBLE_DEVICES=0)', 'GPU 0 (webgpu/Dawn on vulkan: NVIDIA H200; …)', 'CPU (wasm, SIMD, 1 thread)'. */
  device: string;
  /** 'TFJS_BACKEND=wasm', '--backend cpu' or 'auto'. */
  source: string;
  attempts: BackendAttempt[];
}

export class BackendError extends AblateError {
  override name = 'BackendError';
  constructor(
    message: string,
    readonly attempts: BackendAttempt[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isBackendName(s: string): s is BackendName {
  return (BACKENDS as readonly string[]).includes(s);
}

const MIRROR_FIX =
  "libtensorflow is downloaded by the package's install script, which fails without a reachable mirror (Google's host answers 403 since 2026-08, tensorflow/tfjs#8742). " +
  'Point it at a mirror and install it: TFJS_NODE_CDN_STORAGE=https://<mirror>/ bash scripts/install-tfjs-node.sh gpu (or TFJS_NODE_BASE_URI=https://<mirror>/libtensorflow- , a prefix to which it appends gpu-linux-x86_64-2.9.1.tar.gz). See README, "TensorFlow.js backends".';

function errorText(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0] ?? msg;
}

type Loader = () => Promise<BackendAttempt & { device?: string }>;

async function loadTensorflow(): Promise<BackendAttempt & { device?: string }> {
  const reasons: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const) {
    try {
      require(pkg);
      const ok = await tf.setBackend('tensorflow');
      if (!ok) throw new Error('tf.setBackend("tensorflow") returned false');
      await tf.ready();
      const gpu = pkg.endsWith('-gpu');
      const visible = process.env.CUDA_VISIBLE_DEVICES;
      const device = gpu ? `GPU (${pkg}${visible === undefined ? '' : `, CUDA_VISIBLE_DEVICES=${visible}`})` : `CPU (${pkg}, native libtensorflow)`;
      return { name: 'tensorflow', ok: true, detail: `${pkg} loaded`, device };
    } catch (err: unknown) {
      const code = (err as { code?: unknown } | null)?.code;
      if (code === 'MODULE_NOT_FOUND' && errorText(err).includes(`'${pkg}'`)) reasons.push(`${pkg} is not installed`);
      else if (errorText(err).includes('tfjs_binding.node')) reasons.push(`${pkg} is installed but its native addon/libtensorflow is missing`);
      else reasons.push(`${pkg} failed to load: ${errorText(err)}`);
    }
  }
  return { name: 'tensorflow', ok: false, detail: reasons.join('; '), fix: MIRROR_FIX };
}

async function loadWasm(): Promise<BackendAttempt & { device?: string }> {
  try {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    // The threaded build does not start under Node: ask for the single-threaded SIMD build.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    const ok = await tf.setBackend('wasm');
    if (!ok) throw new Error('tf.setBackend("wasm") returned false');
    await tf.ready();
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    return {
      name: 'wasm',
      ok: true,
      detail: '@tensorflow/tfjs-backend-wasm loaded',
      device: `CPU (wasm${simd ? ', SIMD' : ''}, ${wasm.getThreadsCount()} thread)`,
    };
  } catch (err: unknown) {
    return {
      name: 'wasm',
      ok: false,
      detail: `@tensorflow/tfjs-backend-wasm failed to load: ${errorText(err)}`,
      fix: 'pnpm install (the wasm backend is a regular dependency of @ablate/backend)',
    };
  }
}

async function loadCpu(): Promise<BackendAttempt & { device?: string }> {
  require('@tensorflow/tfjs-backend-cpu');
  const ok = await tf.setBackend('cpu');
  await tf.ready();
  return ok
    ? { name: 'cpu', ok: true, detail: '@tensorflow/tfjs-backend-cpu loaded', device: 'CPU (pure JavaScript)' }
    : { name: 'cpu', ok: false, detail: 'tf.setBackend("cpu") returned false' };
}

const LOADERS: Record<BackendName, (auto: boolean, env: NodeJS.ProcessEnv) => ReturnType<Loader>> = {
  tensorflow: loadTensorflow,
  webgpu: loadWebgpu,
  wasm: loadWasm,
  cpu: loadCpu,
};

/**
 * Picks and activates the tfjs backend for this process: tensorflow (tfjs-node-gpu, else tfjs-node), then webgpu (Dawn,
 * see webgpu.ts), then wasm, then cpu.
 * `requested` (a CLI flag) wins over $TFJS_BACKEND, which wins over auto; an explicit choice that cannot load is an error.
 */
export async function selectBackend(opts: { requested?: string; env?: NodeJS.ProcessEnv } = {}): Promise<BackendChoice> {
  const choice = await selectTfBackend(opts);
  return choice.name === 'wasm' ? withBlas(choice, opts.env ?? process.env) : choice;
}

let blasWarned = false;

/**
 * On wasm, puts the matmuls on OpenBLAS and the model's Transpose, GELU, LayerNorm, softmax and AdamW on native fused
 * kernels (@ablate/blas) with BLAS_THREADS threads (default 1: one training process
 * per core), unless WASM_BLAS=0 (WASM_BLAS_ADDON: another build of the addon). If the addon cannot load, plain wasm, and one log line (once per process) says why.
 */
function withBlas(choice: BackendChoice, env: NodeJS.ProcessEnv): BackendChoice {
  if (env.WASM_BLAS === '0') {
    uninstallBlasKernels();
    return choice;
  }
  const threads = blasThreadsFromEnv(env);
  if (typeof threads !== 'number') throw new BackendError(threads.error, choice.attempts);
  const blas = installBlasKernels({ threads, ...(env.WASM_BLAS_ADDON ? { addonFile: env.WASM_BLAS_ADDON } : {}) });
  if (!blas.ok) {
    if (!blasWarned) createLogger({ name: 'backend' }).warn(`wasm without OpenBLAS (plain wasm matmuls): ${blas.reason}`);
    blasWarned = true;
    return choice;
  }
  const version = /^OpenBLAS [\d.]+/.exec(blas.config)?.[0] ?? 'OpenBLAS';
  return {
    ...choice,
    name: BLAS_BACKEND_NAME,
    device: choice.device.replace(/\)$/, `; matmuls on ${version} and fused native kernels, ${blas.threads} thread${blas.threads === 1 ? '' : 's'})`),
  };
}

async function selectTfBackend(opts: { requested?: string; env?: NodeJS.ProcessEnv }): Promise<BackendChoice> {
  const env = opts.env ?? process.env;
  const fromFlag = opts.requested;
  const fromEnv = env.TFJS_BACKEND !== undefined && env.TFJS_BACKEND !== '' ? env.TFJS_BACKEND : undefined;
  const wanted = fromFlag ?? fromEnv;
  const source = fromFlag !== undefined ? `--backend ${fromFlag}` : fromEnv !== undefined ? `TFJS_BACKEND=${fromEnv}` : 'auto';
  tf.enableProdMode(); // no per-op NaN checks, no "install tfjs-node" banner
  if (wanted !== undefined && wanted !== 'auto') {
    if (!isBackendName(wanted)) {
      throw new BackendError(`${source}: expected one of auto, ${BACKENDS.join(', ')}, got "${wanted}"`, []);
    }
    const attempt = await LOADERS[wanted](false, env);
    if (!attempt.ok || attempt.device === undefined) {
      throw new BackendError(`${source}: the ${wanted} backend is not available: ${attempt.detail}${attempt.fix ? `\nfix: ${attempt.fix}` : ''}`, [attempt]);
    }
    return { name: wanted, device: attempt.device, source, attempts: [stripDevice(attempt)] };
  }
  const attempts: BackendAttempt[] = [];
  for (const name of BACKENDS) {
    const attempt = await LOADERS[name](true, env);
    attempts.push(stripDevice(attempt));
    if (attempt.ok && attempt.device !== undefined) return { name, device: attempt.device, source, attempts };
  }
  throw new BackendError(`no tfjs backend could be loaded:\n${attempts.map((a) => `  ${a.name}: ${a.detail}`).join('\n')}`, attempts);
}

function stripDevice(a: BackendAttempt & { device?: string }): BackendAttempt {
  const { device: _device, ...rest } = a;
  return rest;
}

/** The line a process logs at start-up. */
export function describeBackend(c: BackendChoice): string {
  const skipped = c.attempts.filter((a) => !a.ok).map((a) => `${a.name}: ${a.detail}`);
  return `tfjs backend ${c.name} on ${c.device} (${c.source})${skipped.length ? `; skipped ${skipped.join('; ')}` : ''}`;
}
