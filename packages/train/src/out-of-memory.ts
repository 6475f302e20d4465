import type { RunConfig } from '@ablate/config';
import { AblateError } from '@ablate/cli';

/**
 * The backend ran out of memory for this model at this batch size. Not the run's fault in general (a GPU worker may run
 * it), so the worker retries it; `pnpm train` prints the message without a stack.
 */
export class OutOfMemoryError extends AblateError {
  override name = 'OutOfMemoryError';
}

// How each backend says it: wasm's malloc fails once its heap cannot grow past 4 GiB, and the kernel then writes out of
// bounds (seen: RuntimeError "memory access out of bounds" in transpose, paper preset at batch 256); emscripten may
// also abort. TensorFlow says "OOM when allocating tensor".
const OOM_TEXT: Record<string, RegExp> = {
  wasm: /memory access out of bounds|Aborted\(|out of memory|Cannot enlarge memory/i,
  tensorflow: /\bOOM when allocating\b|out of memory/i,
};

/** `err`, or an OutOfMemoryError that says what to change when `err` is `backend` running out of memory. */
export function explainOutOfMemory(err: unknown, cfg: Pick<RunConfig, 'model' | 'train'>, backend: string): unknown {
  const text =
    typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string' ? (err as { message: string }).message : '';
  const pattern = OOM_TEXT[backend];
  if (pattern === undefined || !pattern.test(text)) return err;
  const where = backend === 'wasm' ? 'the wasm backend (its heap cannot grow past 4 GiB)' : 'the tensorflow backend (device memory)';
  const half = Math.max(1, Math.floor(cfg.train.batch_size / 2));
  return new OutOfMemoryError(
    `out of memory in ${where} with model.preset ${cfg.model.preset} at train.batch_size ${cfg.train.batch_size} ("${text.split('\n')[0]}"): ` +
      `use a smaller train.batch_size (${half}, say) or a smaller preset${backend === 'wasm' ? ', or run it on a worker with the tensorflow backend (a GPU machine)' : ''}`,
    { cause: err },
  );
}
