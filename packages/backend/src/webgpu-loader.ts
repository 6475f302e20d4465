import { activateWebgpu, describeAdapter } from './webgpu';

/** select-backend's hook for the webgpu backend (kept here so that select-backend.ts only names it). */
export async function loadWebgpu(
  auto: boolean,
  env: NodeJS.ProcessEnv,
): Promise<{ name: 'webgpu'; ok: boolean; detail: string; fix?: string; device?: string }> {
  if (auto && env.DAWNNODE_BACKEND?.toLowerCase() === 'null') {
    return {
      name: 'webgpu',
      ok: false,
      detail: "DAWNNODE_BACKEND=null gives Dawn's null adapter, which computes nothing; auto never picks it",
      fix: 'ask for it explicitly: --backend webgpu (kernel and shader checks only)',
    };
  }
  try {
    const info = await activateWebgpu(env);
    return { name: 'webgpu', ok: true, detail: `Dawn adapter ${info.index}: ${info.device || info.backend}`, device: describeAdapter(info) };
  } catch (err: unknown) {
    const fix = (err as { fix?: unknown }).fix;
    return { name: 'webgpu', ok: false, detail: err instanceof Error ? err.message : String(err), ...(typeof fix === 'string' ? { fix } : {}) };
  }
}
