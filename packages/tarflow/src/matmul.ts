import { fusedKernels } from '@ablate/blas';
import * as tf from '@tensorflow/tfjs-core';
import { customOp, inputAt, savedAt } from './custom-op';

/**
 * Whether matmuls with transposed operands and batched matmuls are fast here: on wasm with @ablate/blas's OpenBLAS
 * kernels they are (cblas_sgemm takes the transposes as flags, ~50–100 GFLOP/s). wasm's own BatchMatMul is ~10× slower
 * on a transposed operand and runs batches as a naive loop, which the workarounds below (explicit transposes,
 * groupedMatmul) exist for.
 */
export function nativeMatMul(): boolean {
  return fusedKernels(); // the same condition: @ablate/blas installed and the wasm backend in use
}

/** a @ b with either operand transposed: as flags where that is fast, else with explicit transposes (swapLast). */
export function matMulT<T extends tf.Tensor>(a: T, b: T, transposeA: boolean, transposeB: boolean): T {
  if (nativeMatMul()) return tf.matMul(a, b, transposeA, transposeB) as T;
  return tf.matMul(transposeA ? swapLast(a) : a, transposeB ? swapLast(b) : b) as T;
}

/** Swaps the last two axes with an explicit copy (the wasm matmul is ~10× slower on transposed operands). */
export function swapLast<T extends tf.Tensor>(x: T): T {
  const r = x.rank;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf.transpose(x, perm);
}

const mmOp = customOp<tf.Tensor>((inputs) => {
  const a = inputAt(inputs, 0),
    b = inputAt(inputs, 1);
  return {
    value: tf.matMul(a, b),
    save: [a, b],
    grad: (dy, saved) => [
      matMulT(dy, savedAt(saved, 1), false, true), // da = dy @ bᵀ
      matMulT(savedAt(saved, 0), dy, true, false), // db = aᵀ @ dy
    ],
  };
});

/**
 * a @ b for (M,K)@(K,N), or batched (B,M,K)@(B,K,N) with equal batch sizes (no broadcasting).
 * Its gradient is da = dy @ bᵀ, db = aᵀ @ dy with the transposes made explicit copies on plain wasm (see matMulT),
 * unlike tf.matMul's own gradient, which calls matMul(…, transposeA/B = true): the slow path there.
 */
export function mm(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D;
export function mm(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D;
export function mm(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (a.rank !== b.rank || (a.rank !== 2 && a.rank !== 3)) throw new Error(`mm: ranks ${a.rank} and ${b.rank}; expected both 2 or both 3`);
  if (a.rank === 3 && a.shape[0] !== b.shape[0]) throw new Error(`mm: batch sizes ${a.shape[0]} and ${b.shape[0]} differ`);
  return mmOp(a, b);
}

/**
 * C independent matmuls in ONE kernel: y[n, c, m] = Σ_k x[n, k, c] · f[k, c, m], i.e. y[:, c, :] = x[:, :, c] @ f[:, c, :].
 * x (N, K, C), f (K, C, M) → y (N, C, M). Runs as a depthwise convolution (batch N, width K, C channels, channel
 * multiplier M, 'valid' padding): on wasm that is XNNPACK's grouped GEMM, 2–3× faster than BatchMatMul, which for
 * batch > 1 falls back to a naive loop (~1.5–2 GFLOP/s whatever the transposes). Not differentiable by itself: used
 * inside the attention op's forward and hand-written backward.
 */
export function groupedMatmul(x: tf.Tensor3D, f: tf.Tensor3D): tf.Tensor3D {
  const [N, K, C] = x.shape;
  const [K2, C2, M] = f.shape;
  if (K !== K2 || C !== C2) throw new Error(`groupedMatmul: x (${x.shape.join(', ')}) and f (${f.shape.join(', ')}) do not match`);
  const y = tf.depthwiseConv2d(tf.reshape<tf.Rank.R4>(x, [N, 1, K, C]), tf.reshape<tf.Rank.R4>(f, [1, K, C, M]), 1, 'valid'); // (N, 1, 1, C*M)
  return tf.reshape<tf.Rank.R3>(y, [N, C, M]);
}

/** Column sums of x (N, M) → (M), as ones(1, N) @ x: on wasm ~10× faster than tf.sum(x, 0), which transposes first. */
export function colSum(x: tf.Tensor): tf.Tensor1D {
  const [N, M] = [x.shape[0] ?? 0, x.shape[1] ?? 0];
  return tf.reshape<tf.Rank.R1>(tf.matMul(tf.ones([1, N]), tf.reshape<tf.Rank.R2>(x, [N, M])), [M]);
}
