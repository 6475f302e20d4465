import * as tf from '@tensorflow/tfjs-core';
import { BatchMatMul, Identity, Transpose, _FusedMatMul, broadcast_util, util } from '@tensorflow/tfjs-core';
import type { BatchMatMulAttrs, KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo, TransposeAttrs, _FusedMatMulAttrs } from '@tensorflow/tfjs-core';
import type { BlasAddon } from './addon';
import { FUSED_KERNELS, heapAndOffsets, type FusedBackend } from './fused';
import fs from 'node:fs';
import path from 'node:path';

/** The name a process reports for the wasm backend with these kernels installed. */
export const BLAS_BACKEND_NAME = 'wasm+blas';

export type { BlasAddon } from './addon';

export type BlasStatus = { ok: true; name: typeof BLAS_BACKEND_NAME; threads: number; config: string } | { ok: false; reason: string };

const ADDON_DIR = path.join(__dirname, '..', 'build');
const ADDON_PATH = path.join(ADDON_DIR, 'Release', 'ablate_blas.node');

/** Loads the addon, or says in one sentence why it cannot. `file` is for tests (a missing or broken addon). */
export function loadAddon(file = ADDON_PATH): BlasAddon | { error: string } {
  if (!fs.existsSync(file)) {
    const marker = path.join(ADDON_DIR, 'unavailable.txt');
    const why = file === ADDON_PATH && fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8').trim() : `${file} does not exist; run pnpm build`;
    return { error: `the native addon is not built: ${why}` };
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file) as BlasAddon;
  } catch (err: unknown) {
    const msg = err instanceof Error ? err.message : String(err);
    return { error: `the native addon failed to load: ${msg.split('\n')[0] ?? msg}` };
  }
}

/** BLAS_THREADS (a positive integer), else 1: the worker runs one training process per core. */
export function blasThreadsFromEnv(env: NodeJS.ProcessEnv = process.env): number | { error: string } {
  const raw = env.BLAS_THREADS;
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) return { error: `BLAS_THREADS: expected a positive integer, got "${raw}"` };
  return n;
}

// ---- the kernels -------------------------------------------------------------------------------------------

type WasmBackendLike = FusedBackend & { incRef(dataId: unknown): void };

const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2, prelu: 3, leakyrelu: 4, sigmoid: 5, elu: 6 };

let addon: BlasAddon | null = null;
let originals: { batchMatMul: KernelConfig; fusedMatMul: KernelConfig; identity: KernelConfig; transpose: KernelConfig } | null = null;

/** For each output matrix, the index of the operand's matrix it reads; null when that index is i itself. */
function batchIndex(outer: number[], outOuter: number[]): Int32Array | null {
  const rank = outOuter.length;
  const padded = [...Array<number>(rank - outer.length).fill(1), ...outer];
  if (padded.every((d, i) => d === outOuter[i])) return null;
  const total = util.sizeFromShape(outOuter);
  const idx = new Int32Array(total);
  const strides = new Array<number>(rank);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    strides[d] = padded[d] === 1 ? 0 : s;
    s *= padded[d]!;
  }
  for (let i = 0; i < total; i++) {
    let rem = i;
    let j = 0;
    for (let d = rank - 1; d >= 0; d--) {
      const od = outOuter[d]!;
      j += (rem % od) * strides[d]!;
      rem = Math.floor(rem / od);
    }
    idx[i] = j;
  }
  return idx;
}

interface Epilogue {
  bias?: TensorInfo;
  act: number;
  alpha: number;
  prelu?: TensorInfo;
}

function blasMatMul(backend: WasmBackendLike, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean, ep: Epilogue): TensorInfo {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const outOuter = broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  util.assert(
    k === kb,
    () =>
      `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
  );
  const out = backend.makeOutput([...outOuter, m, n], 'float32');
  const batch = util.sizeFromShape(outOuter);
  if (batch * m * n === 0) return out;
  const aIdx = batchIndex(outerA, outOuter);
  const bIdx = batchIndex(outerB, outOuter);
  // Read the heap's buffer after makeOutput and after every offset: its malloc, or moving an input into the heap, may
  // have grown the memory (a new ArrayBuffer).
  const [heap, ...o] = heapAndOffsets(backend, a, b, out, ep.bias, ep.prelu);
  addon!.matmul(
    heap,
    o[0]!,
    o[1]!,
    o[2]!,
    batch,
    m,
    n,
    k,
    transposeA,
    transposeB,
    aIdx,
    bIdx,
    aIdx === null ? 1 : 0,
    bIdx === null ? 1 : 0,
    o[3]!,
    ep.bias ? util.sizeFromShape(ep.bias.shape) : 0,
    ep.act,
    ep.alpha,
    o[4]!,
    ep.prelu ? util.sizeFromShape(ep.prelu.shape) : 0,
  );
  return out;
}

function batchMatMulKernel(args: { inputs: NamedTensorInfoMap; backend: unknown; attrs: unknown }): TensorInfo {
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return (originals!.batchMatMul.kernelFunc as KernelFunc)(args as never) as TensorInfo;
  const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
  return blasMatMul(args.backend as WasmBackendLike, a, b, transposeA, transposeB, { act: 0, alpha: 0 });
}

function fusedMatMulKernel(args: { inputs: NamedTensorInfoMap; backend: unknown; attrs: unknown }): TensorInfo {
  const { a, b, bias, preluActivationWeights } = args.inputs as { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
  const { transposeA, transposeB, activation, leakyreluAlpha } = args.attrs as unknown as _FusedMatMulAttrs;
  const act = ACTIVATIONS[activation];
  const n = transposeB ? b.shape[b.shape.length - 2]! : b.shape[b.shape.length - 1]!;
  const fits = (t: TensorInfo | undefined) => t == null || (t.dtype === 'float32' && t.shape.length <= 1 && [1, n].includes(util.sizeFromShape(t.shape)));
  const supported =
    a.dtype === 'float32' &&
    b.dtype === 'float32' &&
    act !== undefined &&
    fits(bias) &&
    fits(preluActivationWeights) &&
    (act !== 3 || preluActivationWeights != null);
  if (!supported) return (originals!.fusedMatMul.kernelFunc as KernelFunc)(args as never) as TensorInfo;
  return blasMatMul(args.backend as WasmBackendLike, a, b, transposeA, transposeB, {
    act,
    alpha: leakyreluAlpha || 0,
    ...(bias ? { bias } : {}),
    ...(preluActivationWeights ? { prelu: preluActivationWeights } : {}),
  });
}

/**
 * Identity without a copy: the output shares the input's heap memory (a reference count, as wasm's Reshape and the
 * cpu backend's Identity do). wasm's own copies, and tfjs-core runs Identity for every tensor a custom gradient
 * saves (engine.clone), so the copy doubled the memory of the activations kept for backward and cost time.
 */
function identityKernel(args: { inputs: NamedTensorInfoMap; backend: unknown; attrs: unknown }): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string') return (originals!.identity.kernelFunc as KernelFunc)(args as never) as TensorInfo;
  (args.backend as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Axes of size 1 dropped, and runs of input axes that stay together in the output merged into one. */
export function mergeTranspose(shape: number[], perm: number[]): { shape: number[]; perm: number[] } {
  const keep = perm.filter((a) => shape[a] !== 1);
  const kept = [...keep].sort((a, b) => a - b);
  const renum = new Map(kept.map((a, i) => [a, i]));
  const sh = kept.map((a) => shape[a]!);
  const p = keep.map((a) => renum.get(a)!);
  const groups: number[][] = [];
  for (const a of p) {
    const last = groups[groups.length - 1];
    if (last !== undefined && last[last.length - 1] === a - 1) last.push(a);
    else groups.push([a]);
  }
  const byInput = [...groups].sort((a, b) => a[0]! - b[0]!);
  return { shape: byInput.map((g) => g.reduce((n, a) => n * sh[a]!, 1)), perm: groups.map((g) => byInput.indexOf(g)) };
}

/** Transpose of 4-byte elements on the addon (wasm's own is a scalar loop over the output: 280 ms for one of small's 5-D ones). */
function transposeKernel(args: { inputs: NamedTensorInfoMap; backend: unknown; attrs: unknown }): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  const { perm } = args.attrs as unknown as TransposeAttrs;
  const merged = mergeTranspose(x.shape, perm);
  if ((x.dtype !== 'float32' && x.dtype !== 'int32') || merged.shape.length > 6)
    return (originals!.transpose.kernelFunc as KernelFunc)(args as never) as TensorInfo;
  const backend = args.backend as WasmBackendLike;
  const out = backend.makeOutput(
    perm.map((a) => x.shape[a]!),
    x.dtype as 'float32' | 'int32',
  );
  const r = merged.shape.length;
  if (r === 0 || util.sizeFromShape(x.shape) === 0) {
    if (r === 0 && util.sizeFromShape(x.shape) === 1) {
      const [, xo, oo] = heapAndOffsets(backend, x, out);
      backend.wasm.HEAPU8.copyWithin(oo!, xo!, xo! + 4);
    }
    return out;
  }
  const pad = (a: number[]) => [...a, ...Array<number>(6 - a.length).fill(0)];
  const [heap, xo, oo] = heapAndOffsets(backend, x, out);
  addon!.transpose(heap, xo!, oo!, r, ...pad(merged.shape), ...pad(merged.perm));
  return out;
}

/**
 * Registers the OpenBLAS kernels over the wasm backend's BatchMatMul and _FusedMatMul, and a copy-free Identity
 * (the wasm backend must be registered: call after tf.setBackend('wasm')). Idempotent; sets OpenBLAS's thread count every call.
 * Anything the addon does not cover (non-float32, a bias or PReLU weights that are not a scalar or a row) goes to
 * the wasm kernels it replaced.
 */
export function installBlasKernels(opts: { threads?: number; addonFile?: string } = {}): BlasStatus {
  const threads = opts.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) return { ok: false, reason: `threads: expected a positive integer, got ${threads}` };
  if (addon === null || opts.addonFile !== undefined) {
    // OpenBLAS starts its thread pool when it loads: size it before it does. Its idle threads spin for 2^28 cycles by
    // default before they sleep, taking the core that the JS thread and the fused kernels' threads need between
    // matmuls: 2^12 measured 15% faster for small on two threads (BENCHMARKS.md).
    process.env.OPENBLAS_NUM_THREADS ??= String(threads);
    process.env.OPENBLAS_THREAD_TIMEOUT ??= '12';
    const loaded = loadAddon(opts.addonFile);
    if ('error' in loaded) return { ok: false, reason: loaded.error };
    const missing = (['matmul', 'transpose', 'gelu', 'layerNorm', 'softmax', 'adamw'] as const).filter((f) => typeof loaded[f] !== 'function');
    if (missing.length > 0) return { ok: false, reason: `the native addon is out of date (it has no ${missing.join(', ')}): run pnpm build` };
    addon = loaded;
  }
  addon.setThreads(threads);
  if (originals === null) {
    const batchMatMul = tf.getKernel(BatchMatMul, 'wasm');
    const fusedMatMul = tf.getKernel(_FusedMatMul, 'wasm');
    const identity = tf.getKernel(Identity, 'wasm');
    const transpose = tf.getKernel(Transpose, 'wasm');
    if (batchMatMul === undefined || fusedMatMul === undefined || identity === undefined || transpose === undefined)
      return { ok: false, reason: 'the wasm backend has no BatchMatMul/_FusedMatMul kernel to replace (is @tensorflow/tfjs-backend-wasm loaded?)' };
    originals = { batchMatMul, fusedMatMul, identity, transpose };
    swap({ ...batchMatMul, kernelFunc: batchMatMulKernel as unknown as KernelFunc });
    swap({ ...fusedMatMul, kernelFunc: fusedMatMulKernel as unknown as KernelFunc });
    swap({ ...identity, kernelFunc: identityKernel as unknown as KernelFunc });
    swap({ ...transpose, kernelFunc: transposeKernel as unknown as KernelFunc });
    for (const [kernelName, f] of Object.entries(FUSED_KERNELS))
      swap({
        kernelName,
        backendName: 'wasm',
        kernelFunc: ((a: { inputs: NamedTensorInfoMap; backend: unknown; attrs: unknown }) =>
          f(addon!, a.backend as FusedBackend, a.inputs, a.attrs as Record<string, number>)) as unknown as KernelFunc,
      });
  }
  return { ok: true, name: BLAS_BACKEND_NAME, threads: addon.getThreads(), config: addon.config() };
}

/** Puts the wasm backend's own kernels back (tests, and a process that switches to plain wasm). */
export function uninstallBlasKernels(): void {
  if (originals === null) return;
  swap(originals.batchMatMul);
  swap(originals.fusedMatMul);
  swap(originals.identity);
  swap(originals.transpose);
  for (const kernelName of Object.keys(FUSED_KERNELS)) tf.unregisterKernel(kernelName, 'wasm');
  originals = null;
}

export function isBlasInstalled(): boolean {
  return originals !== null;
}

function swap(config: KernelConfig): void {
  if (tf.getKernel(config.kernelName, config.backendName) !== undefined) tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
}
