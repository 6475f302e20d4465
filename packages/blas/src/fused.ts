import type { NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import type { BlasAddon } from './addon';

/** What the fused kernels need of the wasm backend: its heap, where a tensor lives in it, and new outputs. */
export interface FusedBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: unknown): { memoryOffset: number; shape: number[] } };
  makeOutput(shape: number[], dtype: 'float32' | 'int32'): TensorInfo;
}

/**
 * The heap and the byte offsets of `tensors`: looking an offset up can move a tensor into the wasm heap and grow its
 * memory (a new ArrayBuffer), so the buffer is read after every offset. An absent tensor's offset is -1.
 */
export function heapAndOffsets(backend: FusedBackend, ...tensors: (TensorInfo | undefined)[]): [ArrayBuffer, ...number[]] {
  const offsets = tensors.map((t) => (t === undefined ? -1 : backend.dataIdMap.get(t.dataId).memoryOffset));
  return [backend.wasm.HEAPU8.buffer as ArrayBuffer, ...offsets];
}

type FusedKernel = (addon: BlasAddon, backend: FusedBackend, inputs: NamedTensorInfoMap, attrs: Record<string, number>) => TensorInfo | TensorInfo[];

/** Kernel names of the fused ops (registered for the wasm backend only, by installBlasKernels). */
export const FusedOp = {
  gelu: 'AblateGelu',
  geluGrad: 'AblateGeluGrad',
  layerNorm: 'AblateLayerNorm',
  layerNormGrad: 'AblateLayerNormGrad',
  softmax: 'AblateMaskedSoftmax',
  softmaxGrad: 'AblateSoftmaxGrad',
  adamw: 'AblateAdamW',
} as const;

function input(inputs: NamedTensorInfoMap, name: string, op: string): TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`${op}: input ${name} missing`);
  if (t.dtype !== 'float32') throw new Error(`${op}: ${name} must be float32, got ${t.dtype}`);
  return t;
}

const last = (t: TensorInfo): number => t.shape[t.shape.length - 1] ?? 1;

export const FUSED_KERNELS: Record<string, FusedKernel> = {
  [FusedOp.gelu](addon, backend, inputs) {
    const x = input(inputs, 'x', FusedOp.gelu);
    const y = backend.makeOutput(x.shape, 'float32');
    const [heap, ...o] = heapAndOffsets(backend, x, y);
    addon.gelu(heap, o[0]!, o[1]!, util.sizeFromShape(x.shape));
    return y;
  },
  [FusedOp.geluGrad](addon, backend, inputs) {
    const x = input(inputs, 'x', FusedOp.geluGrad),
      dy = input(inputs, 'dy', FusedOp.geluGrad);
    util.assertShapesMatch(x.shape, dy.shape, `${FusedOp.geluGrad}: x and dy`);
    const dx = backend.makeOutput(x.shape, 'float32');
    const [heap, ...o] = heapAndOffsets(backend, x, dy, dx);
    addon.geluGrad(heap, o[0]!, o[1]!, o[2]!, util.sizeFromShape(x.shape));
    return dx;
  },
  [FusedOp.layerNorm](addon, backend, inputs, attrs) {
    const x = input(inputs, 'x', FusedOp.layerNorm),
      gamma = input(inputs, 'gamma', FusedOp.layerNorm),
      beta = input(inputs, 'beta', FusedOp.layerNorm);
    const cols = last(x),
      rows = util.sizeFromShape(x.shape) / cols;
    util.assert(
      util.sizeFromShape(gamma.shape) === cols && util.sizeFromShape(beta.shape) === cols,
      () => `${FusedOp.layerNorm}: γ and β must have ${cols} elements`,
    );
    const y = backend.makeOutput(x.shape, 'float32'),
      xhat = backend.makeOutput(x.shape, 'float32'),
      rstd = backend.makeOutput([...x.shape.slice(0, -1), 1], 'float32');
    if (util.sizeFromShape(x.shape) === 0) return [y, xhat, rstd]; // nothing to normalise
    const [heap, ...o] = heapAndOffsets(backend, x, gamma, beta, y, xhat, rstd);
    addon.layerNorm(heap, o[0]!, o[1]!, o[2]!, o[3]!, o[4]!, o[5]!, rows, cols, attrs.eps ?? 1e-5);
    return [y, xhat, rstd];
  },
  [FusedOp.layerNormGrad](addon, backend, inputs) {
    const dy = input(inputs, 'dy', FusedOp.layerNormGrad),
      xhat = input(inputs, 'xhat', FusedOp.layerNormGrad),
      rstd = input(inputs, 'rstd', FusedOp.layerNormGrad),
      gamma = input(inputs, 'gamma', FusedOp.layerNormGrad);
    util.assertShapesMatch(dy.shape, xhat.shape, `${FusedOp.layerNormGrad}: dy and x̂`);
    const cols = last(dy),
      rows = cols === 0 ? util.sizeFromShape(rstd.shape) : util.sizeFromShape(dy.shape) / cols;
    util.assert(
      util.sizeFromShape(rstd.shape) === rows && util.sizeFromShape(gamma.shape) === cols,
      () => `${FusedOp.layerNormGrad}: rstd or γ has the wrong size`,
    );
    const dx = backend.makeOutput(dy.shape, 'float32'),
      dg = backend.makeOutput([cols], 'float32'),
      db = backend.makeOutput([cols], 'float32');
    if (cols === 0) return [dx, dg, db];
    const [heap, ...o] = heapAndOffsets(backend, dy, xhat, rstd, gamma, dx, dg, db);
    addon.layerNormGrad(heap, o[0]!, o[1]!, o[2]!, o[3]!, o[4]!, o[5]!, o[6]!, rows, cols); // no rows: dγ = dβ = 0
    return [dx, dg, db];
  },
  [FusedOp.softmax](addon, backend, inputs, attrs) {
    const s = input(inputs, 's', FusedOp.softmax);
    const mask = inputs.mask === undefined ? undefined : input(inputs, 'mask', FusedOp.softmax);
    const cols = last(s),
      rows = s.shape.length >= 2 ? (s.shape[s.shape.length - 2] ?? 1) : 1,
      batch = util.sizeFromShape(s.shape) / (rows * cols);
    if (mask !== undefined) util.assertShapesMatch(mask.shape, [rows, cols], `${FusedOp.softmax}: the mask must be (rows, cols) of the scores`);
    const p = backend.makeOutput(s.shape, 'float32');
    if (util.sizeFromShape(s.shape) === 0) return p;
    const [heap, ...o] = heapAndOffsets(backend, s, mask, p);
    addon.softmax(heap, o[0]!, o[1]!, o[2]!, batch, rows, cols, attrs.scale ?? 1);
    return p;
  },
  [FusedOp.softmaxGrad](addon, backend, inputs, attrs) {
    const p = input(inputs, 'p', FusedOp.softmaxGrad),
      dp = input(inputs, 'dp', FusedOp.softmaxGrad);
    util.assertShapesMatch(p.shape, dp.shape, `${FusedOp.softmaxGrad}: p and dp`);
    const cols = last(p);
    const ds = backend.makeOutput(p.shape, 'float32');
    if (util.sizeFromShape(p.shape) === 0) return ds;
    const [heap, ...o] = heapAndOffsets(backend, p, dp, ds);
    addon.softmaxGrad(heap, o[0]!, o[1]!, o[2]!, util.sizeFromShape(p.shape) / cols, cols, attrs.scale ?? 1);
    return ds;
  },
  [FusedOp.adamw](addon, backend, inputs, attrs) {
    const [p, m, v, g] = (['p', 'm', 'v', 'g'] as const).map((k) => input(inputs, k, FusedOp.adamw)) as [TensorInfo, TensorInfo, TensorInfo, TensorInfo];
    for (const t of [m, v, g]) util.assertShapesMatch(p.shape, t.shape, `${FusedOp.adamw}: parameter and state`);
    const outs = [p, m, v].map((t) => backend.makeOutput(t.shape, 'float32')) as [TensorInfo, TensorInfo, TensorInfo];
    const a = (k: string): number => {
      const x = attrs[k];
      if (typeof x !== 'number') throw new Error(`${FusedOp.adamw}: attribute ${k} missing`);
      return x;
    };
    const [heap, ...o] = heapAndOffsets(backend, p, m, v, g, ...outs);
    addon.adamw(
      heap,
      o[0]!,
      o[1]!,
      o[2]!,
      o[3]!,
      o[4]!,
      o[5]!,
      o[6]!,
      util.sizeFromShape(p.shape),
      a('lrOverBc1'),
      a('beta1'),
      a('beta2'),
      a('eps'),
      a('decay'),
      a('bc2Sqrt'),
    );
    return outs;
  },
};
