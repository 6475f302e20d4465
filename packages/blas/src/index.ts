export { BLAS_BACKEND_NAME, blasThreadsFromEnv, installBlasKernels, isBlasInstalled, loadAddon, uninstallBlasKernels } from './kernels';
export type { BlasAddon, BlasStatus } from './kernels';
