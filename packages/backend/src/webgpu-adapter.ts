/**
 * Which GPU adapter Dawn (the npm package `webgpu`) gives us, and how to ask for a given one.
 *
 * How dawn.node picks (src/dawn/node/binding/GPU.cpp): `requestAdapter` enumerates the adapters of ONE backend (Vulkan on
 * Linux, or the `backend=` flag / $DAWNNODE_BACKEND), in the Vulkan loader's order (on Linux sorted by device type,
 * then PCI bus), drops the adapters Dawn rejects (e.g. lavapipe on Debian 12: "shaderUniform*ArrayDynamicIndexing
 * required"), and returns the FIRST one whose name contains the `adapter=` flag, or the first of all without it.
 * powerPreference does not change that order on Vulkan, and CUDA_VISIBLE_DEVICES is a CUDA setting that the Vulkan
 * driver ignores. So a GPU index can be honoured by name only when its name is not contained in the name of an earlier
 * adapter; identical GPUs (two H200s) need the device-index Vulkan layer (vk-layer/), which hides all but one physical
 * device from the process, or one container per GPU (NVIDIA_VISIBLE_DEVICES).
 */

export interface DawnAdapter {
  backend: string;
  name: string;
}

/** Parses the list dawn.node prints when no adapter matches the `adapter=` flag. */
export function parseAdapterList(message: string): DawnAdapter[] {
  const out: DawnAdapter[] = [];
  for (const m of message.matchAll(/^ \* backend: '([^']*)', name: '(.*)'$/gm)) out.push({ backend: m[1] ?? '', name: m[2] ?? '' });
  return out;
}

export interface AdapterRequest {
  /** A GPU index in Dawn's enumeration order (`pnpm worker --gpus 0,1` sets ABLATE_GPU per child). */
  index?: number;
  /** A substring of the adapter's name ($WEBGPU_ADAPTER). */
  name?: string;
}

export type AdapterChoice = { ok: true; flags: string[]; adapter: DawnAdapter; index: number; via: 'first' | 'name' | 'layer' } | { ok: false; reason: string };

/** Reads the adapter request from the environment: ABLATE_GPU (an index) and WEBGPU_ADAPTER (a name). */
export function adapterRequestFromEnv(env: NodeJS.ProcessEnv): AdapterRequest | { error: string } {
  const req: AdapterRequest = {};
  const gpu = env.ABLATE_GPU;
  if (gpu !== undefined && gpu !== '') {
    if (!/^\d+$/.test(gpu.trim())) return { error: `ABLATE_GPU=${gpu}: expected a GPU index (0, 1, …), as given to --gpus` };
    req.index = Number(gpu.trim());
  }
  if (env.WEBGPU_ADAPTER) req.name = env.WEBGPU_ADAPTER;
  return req;
}

function list(adapters: DawnAdapter[]): string {
  return adapters.length === 0 ? 'none' : adapters.map((a, i) => `${i}: ${a.name} (${a.backend})`).join(', ');
}

/**
 * Decides the dawn.node flags that select the requested adapter, given what Dawn enumerates.
 * `layerAvailable`: the device-index Vulkan layer can be enabled, so an index can be honoured even among identical GPUs.
 */
export function chooseAdapter(adapters: DawnAdapter[], req: AdapterRequest, opts: { layerAvailable?: boolean } = {}): AdapterChoice {
  if (adapters.length === 0) return { ok: false, reason: 'Dawn found no usable adapter' };
  let candidates = adapters.map((adapter, index) => ({ adapter, index }));
  if (req.name !== undefined) {
    candidates = candidates.filter((c) => c.adapter.name.includes(req.name as string));
    if (candidates.length === 0) return { ok: false, reason: `WEBGPU_ADAPTER=${req.name} matches no adapter; Dawn sees ${list(adapters)}` };
  }
  if (req.index === undefined) {
    const first = candidates[0] as { adapter: DawnAdapter; index: number };
    return {
      ok: true,
      flags: req.name === undefined ? [] : [`adapter=${req.name}`],
      adapter: first.adapter,
      index: first.index,
      via: req.name === undefined ? 'first' : 'name',
    };
  }
  const wanted = candidates.find((c) => c.index === req.index);
  if (wanted === undefined) {
    return {
      ok: false,
      reason: `GPU ${req.index} was asked for (ABLATE_GPU, set by --gpus) but Dawn sees ${list(adapters)}${req.name === undefined ? '' : ` and WEBGPU_ADAPTER=${req.name}`}`,
    };
  }
  // dawn.node returns the first adapter whose name contains the flag: the index is reachable by name only if no
  // earlier adapter's name contains this one's.
  const firstByName = adapters.findIndex((a) => a.name.includes(wanted.adapter.name));
  if (firstByName === wanted.index) return { ok: true, flags: [`adapter=${wanted.adapter.name}`], adapter: wanted.adapter, index: wanted.index, via: 'name' };
  if (opts.layerAvailable) return { ok: true, flags: [], adapter: wanted.adapter, index: wanted.index, via: 'layer' };
  return {
    ok: false,
    reason:
      `GPU ${req.index} cannot be selected: adapters ${firstByName} and ${wanted.index} are both named '${wanted.adapter.name}', and dawn.node picks adapters by name only. ` +
      'Build the device-index Vulkan layer (bash packages/backend/vk-layer/build.sh), or run one worker per GPU with NVIDIA_VISIBLE_DEVICES=<i> (docker)',
  };
}

/**
 * The environment that enables the device-index Vulkan layer for GPU `index`: the loader then shows Dawn only that
 * physical device. Must be in the environment before dawn.node creates its Vulkan instance.
 */
export function layerEnv(layerDir: string, index: number): Record<string, string> {
  return { VK_ADD_LAYER_PATH: layerDir, VK_INSTANCE_LAYERS: 'VK_LAYER_ABLATE_device_index', ABLATE_VK_DEVICE_INDEX: String(index) };
}
