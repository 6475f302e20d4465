export { BACKENDS, BackendError, describeBackend, isBackendName, selectBackend } from './select-backend';
export type { BackendAttempt, BackendChoice, BackendName } from './select-backend';
export { activateWebgpu, describeAdapter, deviceLayerDir, explainNoAdapter, probeWebgpu, webgpuErrors } from './webgpu';
export type { WebgpuAdapterInfo, WebgpuProbe } from './webgpu';
export { chooseAdapter, parseAdapterList } from './webgpu-adapter';
export type { AdapterChoice, AdapterRequest, DawnAdapter } from './webgpu-adapter';
