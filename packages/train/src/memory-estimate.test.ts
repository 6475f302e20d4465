import { describe, expect, it } from '@jest/globals';
import { resolveRunConfig } from '@ablate/config';
import { estimateTrainingMemory, fitsBackend } from './memory-estimate';

const cfg = (preset: string, batch: number) => resolveRunConfig({ model: { preset }, train: { batch_size: batch } });

describe('training memory estimate', () => {
  it('matches the measured forward activations of small at batch 64 (~461 MiB) within 10%', () => {
    const mib = estimateTrainingMemory(cfg('small', 64)).forwardBytes / 2 ** 20;
    expect(mib).toBeGreaterThan(461 * 0.9);
    expect(mib).toBeLessThan(461 * 1.1);
  });

  it('on wasm: tiny at 64 and small at 64 fit (2.4 GiB peak, measured), small at 128 and the paper preset at 256 do not, with the batch that would', () => {
    expect(fitsBackend(cfg('tiny', 64), 'wasm').ok).toBe(true);
    expect(fitsBackend(cfg('small', 64), 'wasm').ok).toBe(true);
    expect(fitsBackend(cfg('small', 128), 'wasm')).toMatchObject({ ok: false, maxBatch: 64 });
    const paper = fitsBackend(cfg('paper', 256), 'wasm');
    expect(paper.ok).toBe(false);
    expect(paper.forwardMiB).toBeGreaterThan(4096);
    expect(paper.maxBatch).toBe(8);
    expect(fitsBackend(cfg('paper', 256), 'wasm+blas').ok).toBe(false); // OpenBLAS matmuls, the same 4 GiB heap
    expect(fitsBackend(cfg('paper', 256), 'tensorflow').ok).toBe(true); // no known ceiling: a GPU worker decides
  });
});
