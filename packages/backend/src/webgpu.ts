import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { patchWebgpuKernels } from './webgpu-kernels';
import { adapterRequestFromEnv, chooseAdapter, layerEnv, parseAdapterList, type DawnAdapter } from './webgpu-adapter';

/**
 * The webgpu backend: @tensorflow/tfjs-backend-webgpu on Dawn (the npm package `webgpu`, a prebuilt dawn.node that drives
 * the GPU through the driver's Vulkan). Needs only npm and the GPU driver: no CUDA toolkit, no libtensorflow.
 */

export interface WebgpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** Dawn's backend: 'vulkan' on Linux GPUs, 'null' for Dawn's null adapter (no GPU; results are garbage). */
  backend: string;
  /** Where it is in Dawn's enumeration, and how it was selected. */
  index: number;
  via: 'first' | 'name' | 'layer';
}

export interface WebgpuProbe {
  /** The adapters Dawn accepts, in its order (rejected ones, e.g. lavapipe, are not listed). */
  adapters: DawnAdapter[];
  /** Dawn's and the Vulkan loader's warnings (why an adapter was rejected, why Vulkan did not load). */
  warnings: string[];
  /** What Dawn says about adapter 0 (vendor, architecture, device, driver description). */
  first?: { vendor: string; architecture: string; device: string; description: string };
  error?: string;
}

interface DawnModule {
  create(flags: string[]): { requestAdapter(opts?: { powerPreference?: string }): Promise<GpuAdapterLike | null> };
  globals: Record<string, unknown>;
}
interface GpuAdapterLike {
  info: { vendor: string; architecture: string; device: string; description: string };
  features: Set<string>;
  limits: Record<string, number>;
  requestDevice(desc: unknown): Promise<unknown>;
}

/** The dawn.node addon of the `webgpu` package (its index.js is an ES module: we load the addon itself). */
export function dawnNodePath(): string {
  const dir = path.dirname(require.resolve('webgpu/package.json'));
  return path.join(dir, 'dist', `${process.platform}-${process.arch}`, 'dawn.node');
}

/** Dawn's backend from $DAWNNODE_BACKEND (dawn.node's own variable): 'null' gives the null adapter, for CI. */
function baseFlags(env: NodeJS.ProcessEnv): string[] {
  const b = env.DAWNNODE_BACKEND;
  return b ? [`backend=${b}`] : [];
}

const PROBE = `
const [dawnPath, flagsJson] = process.argv.slice(1);
const { create } = require(dawnPath);
const flags = JSON.parse(flagsJson);
(async () => {
  const r = { message: '', first: null };
  try { await create([...flags, 'adapter=\\u0001']).requestAdapter({ powerPreference: 'high-performance' }); }
  catch (e) { r.message = String((e && e.message) || e); }
  if (r.message !== '') {
    const a = await create(flags).requestAdapter({ powerPreference: 'high-performance' });
    if (a) r.first = { vendor: a.info.vendor, architecture: a.info.architecture, device: a.info.device, description: a.info.description };
  }
  process.stdout.write(JSON.stringify(r));
  process.exit(0);
})();
`;

/**
 * Lists Dawn's adapters in a child process, which also catches what Dawn and the Vulkan loader print on stderr
 * (they say why Vulkan did not load, or why an adapter was rejected) without printing it in this process.
 */
export function probeWebgpu(env: NodeJS.ProcessEnv = process.env, timeoutMs = 30_000): WebgpuProbe {
  let addon: string;
  try {
    addon = dawnNodePath();
  } catch (err: unknown) {
    return { adapters: [], warnings: [], error: `the npm package webgpu is not installed (${err instanceof Error ? err.message : String(err)})` };
  }
  if (!existsSync(addon))
    return { adapters: [], warnings: [], error: `the npm package webgpu has no dawn.node for ${process.platform}-${process.arch} (${addon})` };
  const childEnv = { ...env };
  for (const k of ['VK_INSTANCE_LAYERS', 'ABLATE_VK_DEVICE_INDEX']) if (env[k] === undefined) delete childEnv[k];
  const r = spawnSync(process.execPath, ['-e', PROBE, addon, JSON.stringify(baseFlags(env))], { env: childEnv, encoding: 'utf8', timeout: timeoutMs });
  const warnings = (r.stderr ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^Warning: /.test(l))
    .map((l) => l.replace(/^Warning: /, ''));
  if (r.error) return { adapters: [], warnings, error: `the adapter probe failed: ${r.error.message}` };
  if (r.status !== 0)
    return {
      adapters: [],
      warnings,
      error: `the adapter probe exited with ${r.status ?? r.signal}: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`,
    };
  let out: { message: string; first: WebgpuProbe['first'] | null };
  try {
    out = JSON.parse(r.stdout) as typeof out;
  } catch {
    return { adapters: [], warnings, error: `the adapter probe printed no result: ${r.stdout.slice(0, 200)}` };
  }
  return { adapters: parseAdapterList(out.message), warnings, ...(out.first ? { first: out.first } : {}) };
}

/** Why there is no adapter, as a user can act on it. */
export function explainNoAdapter(probe: WebgpuProbe): { detail: string; fix: string } {
  const w = probe.warnings;
  const noLoader = w.find((l) => /Couldn't load Vulkan|libvulkan\.so/.test(l));
  if (noLoader) {
    return {
      detail: `no Vulkan loader: ${noLoader}`,
      fix: 'apt-get install libvulkan1 (or put libvulkan.so.1 on LD_LIBRARY_PATH); the GPU driver provides the rest',
    };
  }
  if (w.some((l) => /Found no drivers|VK_ERROR_INCOMPATIBLE_DRIVER/.test(l))) {
    return {
      detail: 'no Vulkan driver: the loader found no ICD (no GPU driver with Vulkan)',
      fix: "install the GPU driver's Vulkan part (NVIDIA: nvidia_icd.json, in /usr/share/vulkan/icd.d or VK_DRIVER_FILES); in a container set NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics",
    };
  }
  const rejected = w.filter((l) => !/^\s*at |While initializing/.test(l));
  if (rejected.length > 0) {
    return {
      detail: `Dawn rejected every Vulkan adapter: ${[...new Set(rejected)].join('; ')}`,
      fix: 'a software Vulkan such as lavapipe lacks features Dawn requires; use a machine with a GPU and its Vulkan driver',
    };
  }
  return { detail: `Dawn found no adapter${probe.error ? `: ${probe.error}` : ' (no GPU)'}`, fix: 'use a machine with a GPU and its Vulkan driver' };
}

/** The device-index Vulkan layer, when built (packages/backend/vk-layer/build.sh), else null. */
export function deviceLayerDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const dir = env.ABLATE_VK_LAYER_DIR || path.join(__dirname, '..', 'vk-layer', 'build');
  return existsSync(path.join(dir, 'VkLayer_ABLATE_device_index.json')) ? dir : null;
}

let active: { info: WebgpuAdapterInfo; key: string } | null = null;
const gpuErrors: string[] = [];

/**
 * The GPU errors Dawn reported since the backend was activated (WGSL that does not compile, invalid pipelines, a lost
 * device), first line of each. tfjs does not check for them: a kernel whose shader fails silently computes nothing.
 */
export function webgpuErrors(): string[] {
  return [...gpuErrors];
}

/**
 * Picks the adapter ($ABLATE_GPU, $WEBGPU_ADAPTER, $DAWNNODE_BACKEND), registers tfjs's WebGPUBackend on it and makes
 * it the active backend. Throws an Error whose message says why not (and `fix`).
 */
export async function activateWebgpu(env: NodeJS.ProcessEnv = process.env): Promise<WebgpuAdapterInfo> {
  const req = adapterRequestFromEnv(env);
  if ('error' in req) throw Object.assign(new Error(req.error), { fix: 'set ABLATE_GPU to an index, e.g. with pnpm worker --gpus 0,1' });
  const key = JSON.stringify([req, baseFlags(env)]);
  if (active !== null && tf.findBackend('webgpu')) {
    if (active.key !== key) throw new Error(`the webgpu backend is already bound to adapter ${active.info.index} (${active.info.device}) in this process`);
    if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") returned false');
    return active.info;
  }
  const probe = probeWebgpu(env);
  if (probe.error && probe.adapters.length === 0 && !probe.warnings.length)
    throw Object.assign(new Error(probe.error), { fix: 'pnpm install (webgpu is a dependency of @ablate/backend)' });
  if (probe.adapters.length === 0) {
    const why = explainNoAdapter(probe);
    throw Object.assign(new Error(why.detail), { fix: why.fix });
  }
  const layerDir = deviceLayerDir(env);
  const choice = chooseAdapter(probe.adapters, req, { layerAvailable: layerDir !== null });
  if (!choice.ok) throw Object.assign(new Error(choice.reason), { fix: 'see README, "The webgpu backend"' });
  if (choice.via === 'layer' && layerDir !== null) Object.assign(process.env, layerEnv(layerDir, choice.index));

  const dawn = require(dawnNodePath()) as DawnModule;
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([...baseFlags(env), ...choice.flags]);
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator === undefined) g.navigator = { gpu };
  else Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter === null) throw new Error(`Dawn listed ${choice.adapter.name} but returned no adapter for flags [${choice.flags.join(', ')}]`);
  const webgpu = require('@tensorflow/tfjs-backend-webgpu') as typeof import('@tensorflow/tfjs-backend-webgpu');
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    },
  });
  const dev = device as { onuncapturederror: ((e: { error?: { message?: string } }) => void) | null; lost?: Promise<{ message?: string; reason?: string }> };
  dev.onuncapturederror = (e) => {
    const message = e.error?.message ?? String(e.error);
    if (gpuErrors.length < 100) gpuErrors.push(message.trim().split('\n').slice(0, 3).join(' | '));
  };
  void dev.lost?.then((l) => {
    if (l.reason !== 'destroyed') gpuErrors.push(`device lost: ${l.reason ?? ''} ${l.message ?? ''}`.trim());
  });
  const ai = adapter.info;
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu'); // a registration from a failed earlier attempt
  tf.registerBackend('webgpu', () => new webgpu.WebGPUBackend(device as never, ai as never), 3);
  patchWebgpuKernels((device as { limits: { maxStorageBuffersPerShaderStage: number } }).limits.maxStorageBuffersPerShaderStage);
  if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") returned false');
  await tf.ready();
  const info: WebgpuAdapterInfo = {
    vendor: ai.vendor,
    architecture: ai.architecture,
    device: ai.device,
    description: ai.description,
    backend: choice.adapter.backend,
    index: choice.index,
    via: choice.via,
  };
  active = { info, key };
  return info;
}

/** e.g. 'GPU 1 (webgpu/Dawn on vulkan: NVIDIA H200; nvidia hopper; NVIDIA: 580.159.03)'. */
export function describeAdapter(i: WebgpuAdapterInfo): string {
  if (i.backend === 'null') return "Dawn's null adapter (no GPU: computes nothing; for kernel and shader checks only)";
  const parts = [i.vendor, i.architecture].filter((s) => s !== '').join(' ');
  const extra = [parts, i.description].filter((s) => s !== '').join('; ');
  return `GPU ${i.index} (webgpu/Dawn on ${i.backend}: ${i.device}${extra ? `; ${extra}` : ''})`;
}
