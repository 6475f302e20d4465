export { BACKENDS, BackendError, describeBackend, isBackendName, selectBackend } from './select-backend';
export type { BackendAttempt, BackendChoice, BackendName } from './select-backend';
