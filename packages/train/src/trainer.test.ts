import { describe, expect, it } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findNewestValidCheckpoint } from './checkpoint';
import { decodePng } from './png';
import { tempDir, tinyRun } from './test-utils/tiny-run';
import type { GeneratedSamples } from './render-images';
import { train, type MetricRow } from './trainer';

const lossesOf = (rows: MetricRow[]) => rows.filter((r) => r.name === 'loss').map((r) => [r.step, r.value] as const);

describe('train', () => {
  it('trains, reports metrics, μ norms, eval and images, and checkpoints at the end', async () => {
    const cfg = tinyRun();
    const dir = tempDir('train-');
    const rows: MetricRow[] = [];
    const mu: [number, number[]][] = [];
    const images: { kind: string; png: Buffer }[] = [];
    const result = await train(cfg, {
      checkpointDir: dir,
      onMetrics: (r) => void rows.push(...r),
      onMuNorms: (step, norms) => void mu.push([step, norms]),
      onImage: (img) => void images.push(img),
    });
    expect(result).toMatchObject({ status: 'succeeded', step: 6, resumedFrom: null });
    expect(lossesOf(rows).map(([s]) => s)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const name of ['bpd', 'prior_term', 'logdet_term', 'grad_norm', 'lr', 'images_per_sec', 'mean_log_sigma', 'eval/nll', 'eval/accuracy']) {
      expect(rows.some((r) => r.name === name && Number.isFinite(r.value))).toBe(true);
    }
    // ‖μ_c‖ at init (step 0) for randn×1 is about sqrt(784): one value per class.
    expect(mu[0]?.[0]).toBe(0);
    expect(mu[0]?.[1]).toHaveLength(10);
    for (const n of mu[0]?.[1] ?? []) expect(n).toBeGreaterThan(20);
    expect(images.map((i) => i.kind).sort()).toEqual(['mu', 'samples', 'samples-denoised']);
    const grid = decodePng(images.find((i) => i.kind === 'samples')?.png ?? Buffer.alloc(0));
    expect(grid.height).toBe((10 * 29 + 1) * 2); // 10 rows of 28 px + 1 px padding, scaled ×2
    expect(result.final?.examples).toBe(40);
    expect(findNewestValidCheckpoint(dir)?.manifest.step).toBe(6);
  });

  it('hands the judges denoised samples at eval.temperature and raw samples at each consistency temperature, class-major; the final eval draws final_consistency_samples_per_class', async () => {
    const cfg = tinyRun({
      eval: {
        consistency_samples_per_class: 2,
        final_consistency_samples_per_class: 3,
        consistency_temperatures: [1, 0.5],
        samples_per_class: 1,
        batch_size: 7,
      },
    });
    const got: GeneratedSamples[] = [];
    const images: { kind: string; png: Buffer }[] = [];
    await train(cfg, { checkpointDir: tempDir('samples-'), onSamples: (s) => void got.push(s), onImage: (img) => void images.push(img) });
    // eval.every_steps 0: only the final eval, with max(2, 3) = 3 per class
    expect(got.map((g) => [g.step, g.kind, g.temperature, g.classes.length])).toEqual([
      [6, 'denoised', 1, 30],
      [6, 'raw', 1, 30],
      [6, 'raw', 0.5, 30],
    ]);
    // at T = 1 the raw samples are the ones that were denoised; at T = 0.5 they are drawn closer to μ_c
    const [denoised, raw1, raw05] = got;
    expect(raw1?.images).not.toEqual(denoised?.images);
    expect(raw05?.images).not.toEqual(raw1?.images);
    const s = got[0];
    expect(s?.step).toBe(6);
    expect(Array.from(s?.classes ?? [])).toEqual(Array.from({ length: 30 }, (_, i) => Math.floor(i / 3)));
    expect(s?.images.length).toBe(30 * 28 * 28);
    expect(s?.images.every(Number.isFinite)).toBe(true);
    // sampled in chunks of eval.batch_size (7) with per-chunk seeds: no two samples identical
    const first = (i: number) => Array.from(s?.images.subarray(i * 784, i * 784 + 20) ?? []).join();
    expect(new Set(Array.from({ length: 30 }, (_, i) => first(i))).size).toBe(30);
    const grid = decodePng(images.find((i) => i.kind === 'samples')?.png ?? Buffer.alloc(0));
    expect(grid.width).toBe((1 * 29 + 1) * 2); // one column
  });

  it('without an onSamples hook it draws only the grid', async () => {
    const cfg = tinyRun({ eval: { consistency_samples_per_class: 50, samples_per_class: 1 } });
    const images: { kind: string }[] = [];
    await train(cfg, { checkpointDir: tempDir('nosamples-'), onImage: (img) => void images.push(img) });
    expect(images.map((i) => i.kind).sort()).toEqual(['mu', 'samples', 'samples-denoised']);
  });

  it('an interrupted run resumes from its checkpoint on exactly the same loss trajectory', async () => {
    const cfg = tinyRun();
    const straight: MetricRow[] = [];
    await train(cfg, { checkpointDir: tempDir('straight-'), onMetrics: (r) => void straight.push(...r) });

    const dir = tempDir('resumed-');
    const first: MetricRow[] = [];
    let steps = 0;
    const interrupted = await train(cfg, {
      checkpointDir: dir,
      onMetrics: (r) => void first.push(...r),
      onProgress: (p) => void (steps = p.step),
      shouldStop: () => (steps >= 3 ? 'interrupt' : 'continue'),
    });
    expect(interrupted).toMatchObject({ status: 'interrupted', step: 3 });
    const second: MetricRow[] = [];
    const resumed = await train(cfg, { checkpointDir: dir, onMetrics: (r) => void second.push(...r) });
    expect(resumed).toMatchObject({ status: 'succeeded', step: 6, resumedFrom: 3 });
    expect(lossesOf(first).map(([s]) => s)).toEqual([1, 2, 3]);
    expect(lossesOf(second).map(([s]) => s)).toEqual([4, 5, 6]);
    expect([...lossesOf(first), ...lossesOf(second)]).toEqual(lossesOf(straight));
  });

  it('a corrupt newest checkpoint falls back to the one before it', async () => {
    const cfg = tinyRun({ checkpoint: { every_steps: 2, keep: 5 } });
    const dir = tempDir('corrupt-');
    let steps = 0;
    await train(cfg, { checkpointDir: dir, onProgress: (p) => void (steps = p.step), shouldStop: () => (steps >= 5 ? 'interrupt' : 'continue') });
    const dirs = readdirSync(dir).sort();
    expect(dirs).toEqual(['step-00000002', 'step-00000004', 'step-00000005']);
    writeFileSync(path.join(dir, 'step-00000005', 'weights.bin'), 'garbage');
    const invalid: string[] = [];
    const loaded = findNewestValidCheckpoint(dir, (e) => void invalid.push(e.message));
    expect(loaded?.manifest.step).toBe(4);
    expect(invalid[0]).toMatch(/step-00000005: weights\.bin has 7 bytes, expected \d+/);
    const resumed = await train(cfg, { checkpointDir: dir });
    expect(resumed).toMatchObject({ status: 'succeeded', resumedFrom: 4 });
  });

  it('keeps the newest `keep` checkpoints, and deletes none when the checkpoint hook refuses (a copy that lost its job)', async () => {
    const cfg = tinyRun({ train: { steps: 8 }, checkpoint: { every_steps: 2, keep: 2 } });
    const kept = tempDir('keep-');
    await train(cfg, { checkpointDir: kept });
    expect(readdirSync(kept).sort()).toEqual(['step-00000006', 'step-00000008']);

    const lost = tempDir('lost-');
    class LostJob extends Error {}
    let n = 0;
    const result = train(cfg, {
      checkpointDir: lost,
      onCheckpoint: () => {
        n += 1;
        if (n === 3) throw new LostJob('lost the job lock'); // the worker's resume-point write was refused
      },
    });
    await expect(result).rejects.toThrow(LostJob);
    // steps 2 and 4 were resume points (4 pruned nothing beyond keep = 2); step 6 was written but never became one,
    // so step 2, which the job's new owner may be resuming from, is still there
    expect(readdirSync(lost).sort()).toEqual(['step-00000002', 'step-00000004', 'step-00000006']);
  });

  it('a run whose loss goes non-finite ends as diverged at step N', async () => {
    const cfg = tinyRun({ train: { lr: 1, warmup_steps: 0, weight_decay: 1e6, steps: 50 } });
    const result = await train(cfg, { checkpointDir: tempDir('nan-') });
    expect(result.status).toBe('diverged');
    expect(result.message).toMatch(new RegExp(`^diverged at step ${result.step + 1}: loss is (NaN|-?Infinity)`));
    expect(result.step).toBeLessThan(50);
  });

  it('cancel stops at the next step without a checkpoint', async () => {
    const dir = tempDir('cancel-');
    const result = await train(tinyRun(), { checkpointDir: dir, shouldStop: () => 'cancel' });
    expect(result).toMatchObject({ status: 'cancelled', step: 1 });
    expect(findNewestValidCheckpoint(dir)).toBeNull();
  });

  it('leaks no tensors: the count after step 2 equals the count after step 40', async () => {
    const counts = new Map<number, number>();
    await train(tinyRun({ train: { steps: 40, metrics_every_steps: 10 } }), {
      checkpointDir: tempDir('leak-'),
      onProgress: (p) => void counts.set(p.step, tf.memory().numTensors),
    });
    expect(counts.get(40)).toBe(counts.get(2));
  });

  it('the data init puts one training image of each class into μ', async () => {
    const mu: number[][] = [];
    await train(tinyRun({ prior: { mu_init: 'data' }, train: { steps: 1 } }), { checkpointDir: tempDir('data-'), onMuNorms: (_s, n) => void mu.push(n) });
    // An MNIST digit in [-1, 1] has most pixels at -1: its norm is between 20 and 28 (= sqrt(784)).
    for (const n of mu[0] ?? []) {
      expect(n).toBeGreaterThan(15);
      expect(n).toBeLessThanOrEqual(28.01);
    }
  });
});
