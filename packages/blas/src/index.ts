export { BLAS_BACKEND_NAME, blasThreadsFromEnv, installBlasKernels, isBlasInstalled, loadAddon, mergeTranspose, uninstallBlasKernels } from './kernels';
export type { BlasAddon, BlasStatus } from './kernels';
export { fusedAdamW, fusedGelu, fusedGeluGrad, fusedKernels, fusedLayerNorm, fusedLayerNormGrad, fusedSoftmax, fusedSoftmaxGrad } from './ops';
export type { AdamWScalars } from './ops';
