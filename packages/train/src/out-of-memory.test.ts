import { describe, expect, it } from '@jest/globals';
import { explainOutOfMemory, OutOfMemoryError } from './out-of-memory';

// The error class wasm traps throw (not in this package's TypeScript libs).
const { RuntimeError } = (globalThis as unknown as { WebAssembly: { RuntimeError: new (message: string) => Error } }).WebAssembly;

const cfg = { model: { preset: 'paper' }, train: { batch_size: 256 } } as Parameters<typeof explainOutOfMemory>[1];

describe('explainOutOfMemory', () => {
  it("turns wasm's out-of-bounds write after a failed malloc into a message naming the preset, the batch and the fix", () => {
    const raw = new RuntimeError('memory access out of bounds');
    const err = explainOutOfMemory(raw, cfg, 'wasm');
    expect(err).toBeInstanceOf(OutOfMemoryError);
    expect((err as Error).message).toBe(
      'out of memory in the wasm backend (its heap cannot grow past 4 GiB) with model.preset paper at train.batch_size 256 ("memory access out of bounds"): ' +
        'use a smaller train.batch_size (128, say) or a smaller preset, or run it on a worker with the tensorflow backend (a GPU machine)',
    );
    expect((err as Error).cause).toBe(raw);
  });

  it("recognises TensorFlow's OOM on the tensorflow backend", () => {
    const err = explainOutOfMemory(new Error('OOM when allocating tensor with shape[256,196,768]'), cfg, 'tensorflow');
    expect((err as Error).message).toMatch(
      /^out of memory in the tensorflow backend \(device memory\) .* use a smaller train\.batch_size \(128, say\) or a smaller preset$/,
    );
  });

  it('leaves every other error, and other backends, alone', () => {
    const other = new TypeError('x is undefined');
    expect(explainOutOfMemory(other, cfg, 'wasm')).toBe(other);
    const oob = new Error('memory access out of bounds');
    expect(explainOutOfMemory(oob, cfg, 'cpu')).toBe(oob);
    expect(explainOutOfMemory('a string', cfg, 'wasm')).toBe('a string');
  });
});
