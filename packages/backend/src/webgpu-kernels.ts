import * as tf from '@tensorflow/tfjs-core';

/**
 * Fixes to tfjs-backend-webgpu 4.22's kernels, found by the null-adapter test (apps/worker/src/webgpu-kernels.test.ts).
 *
 * AddN: its shader binds every input as a storage buffer, so more inputs than the device's
 * maxStorageBuffersPerShaderStage − 1 (7 with WebGPU's default limits, which tfjs requests) make an invalid pipeline and
 * a silently wrong result. clipByGlobalNorm sums one square per variable (36 for the test preset). We wrap the kernel
 * to add in chunks, as tfjs's own Concat does.
 */
export function patchWebgpuKernels(maxStorageBuffers: number, backendName = 'webgpu'): void {
  const original = tf.getKernel('AddN', backendName);
  if (original === undefined || (original as { patched?: boolean }).patched) return;
  const maxInputs = Math.max(2, maxStorageBuffers - 1);
  const addN = (args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo => {
    const inputs = args.inputs as unknown as tf.TensorInfo[];
    if (inputs.length <= maxInputs) return original.kernelFunc(args) as tf.TensorInfo;
    const backend = args.backend as unknown as { disposeData(id: object): void };
    const partial: tf.TensorInfo[] = [];
    for (let i = 0; i < inputs.length; i += maxInputs) {
      const chunk = inputs.slice(i, i + maxInputs);
      partial.push(
        chunk.length === 1
          ? (chunk[0] as tf.TensorInfo)
          : (original.kernelFunc({ ...args, inputs: chunk as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo),
      );
    }
    const out = addN({ ...args, inputs: partial as unknown as tf.NamedTensorInfoMap });
    for (const p of partial) if (!inputs.includes(p)) backend.disposeData(p.dataId);
    return out;
  };
  tf.unregisterKernel('AddN', backendName);
  tf.registerKernel({ ...original, kernelFunc: addN as tf.KernelFunc, ...{ patched: true } } as tf.KernelConfig);
}
