import { describe, expect, it, jest } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { loadDataset, subsetDataset, type Dataset } from '@ablate/data';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { classifierKey, loadOrTrainClassifier } from './classifier-cache';
import { disposeCnn, type CnnConfig } from './cnn';
import { classifierAccuracy, predictClasses, type ClassifierTraining } from './train-classifier';

const QUICK: ClassifierTraining = { epochs: 2, batchSize: 100, lr: 3e-3, noiseStd: 0.1, augment: null, seed: 7 };
const DIGIT_CNN: CnnConfig = { imageSize: 28, channels: 1, convs: [16, 32], hidden: 0, numClasses: 10 };

function firstN(ds: Dataset, n: number): Dataset {
  return subsetDataset(
    ds,
    Int32Array.from({ length: n }, (_, i) => i),
  );
}

const all = loadDataset({ source: 'mnist-embedded' });
const data = { train: firstN(all.train, 2000), test: firstN(all.test, 500) };

function logSink() {
  const lines: { level: string; msg: string; obj: object }[] = [];
  return {
    lines,
    info: (obj: object, msg: string) => void lines.push({ level: 'info', msg, obj }),
    warn: (obj: object, msg: string) => void lines.push({ level: 'warn', msg, obj }),
  };
}

// Each test trains a small CNN on one wasm thread: seconds alone, minutes on a loaded 2-core machine.
jest.setTimeout(180_000);

describe('loadOrTrainClassifier', () => {
  it('trains once per dataset, caches, and reads back the same classifier', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'classifier-'));
    const before = tf.memory().numTensors;
    const first = await loadOrTrainClassifier(root, data, { config: DIGIT_CNN, training: QUICK });
    expect(first.source).toBe('trained');
    expect(first.manifest.testAccuracy).toBeGreaterThan(0.7); // 2,000 digits, 2 epochs: well above chance (0.1)
    expect(first.manifest.testAccuracy).toBeCloseTo(await classifierAccuracy(first.params, data.test), 6);
    expect(readdirSync(root)).toEqual([classifierKey(data.train, DIGIT_CNN, QUICK)]); // no temporary left behind

    const second = await loadOrTrainClassifier(root, data, { config: DIGIT_CNN, training: QUICK });
    expect(second.source).toBe('cache');
    const inputs = Float32Array.from(data.test.images.subarray(0, 50 * 784), (v) => v * 2 - 1);
    expect(Array.from(await predictClasses(second.params, inputs, 50))).toEqual(Array.from(await predictClasses(first.params, inputs, 50)));

    disposeCnn(first.params);
    disposeCnn(second.params);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keys by data and recipe: another split or recipe gets its own classifier', () => {
    const other = firstN(all.train, 1999);
    expect(classifierKey(other, DIGIT_CNN, QUICK)).not.toBe(classifierKey(data.train, DIGIT_CNN, QUICK));
    expect(classifierKey(data.train, DIGIT_CNN, { ...QUICK, epochs: 3 })).not.toBe(classifierKey(data.train, DIGIT_CNN, QUICK));
    expect(classifierKey(firstN(all.train, 2000), DIGIT_CNN, QUICK)).toBe(classifierKey(data.train, DIGIT_CNN, QUICK));
  });

  it('never uses a corrupt cache entry: sets it aside, says so, and retrains', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'classifier-'));
    const quick1: ClassifierTraining = { ...QUICK, epochs: 1 };
    const first = await loadOrTrainClassifier(root, data, { config: DIGIT_CNN, training: quick1 });
    disposeCnn(first.params);
    const weights = path.join(first.dir, 'weights.bin');
    const bytes = readFileSync(weights);
    bytes[100] = (bytes[100] ?? 0) ^ 0xff;
    writeFileSync(weights, bytes);

    const log = logSink();
    const again = await loadOrTrainClassifier(root, data, { config: DIGIT_CNN, training: quick1, log });
    expect(again.source).toBe('trained');
    expect(log.lines.find((l) => l.level === 'warn')?.msg).toMatch(/unreadable; retraining/);
    expect(JSON.stringify(log.lines.find((l) => l.level === 'warn')?.obj)).toMatch(/sha256 does not match/);
    expect(readdirSync(root).filter((n) => n.includes('.corrupt-'))).toHaveLength(1);
    expect(existsSync(path.join(again.dir, 'manifest.json'))).toBe(true);
    disposeCnn(again.params);
  });

  it('waits while another process holds the training lock, then loads what it installed', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'classifier-'));
    const quick1: ClassifierTraining = { ...QUICK, epochs: 1 };
    const key = classifierKey(data.train, DIGIT_CNN, quick1);
    const trainer = await loadOrTrainClassifier(mkdtempSync(path.join(tmpdir(), 'classifier-src-')), data, { config: DIGIT_CNN, training: quick1 });
    // Another process holds the lock (fresh time stamp) and installs the classifier a moment later.
    const lock = path.join(root, `${key}.lock`);
    mkdirSync(lock);
    writeFileSync(path.join(lock, 'owner'), 'other-host pid 42\n');
    const waits: string[] = [];
    const pending = loadOrTrainClassifier(root, data, { config: DIGIT_CNN, training: quick1, onWait: (h) => void waits.push(h), lock: { pollMs: 50 } });
    setTimeout(() => {
      // "the other process" installs its result (whole, by a rename) and releases the lock
      cpSync(trainer.dir, path.join(root, 'incoming'), { recursive: true });
      renameSync(path.join(root, 'incoming'), path.join(root, key));
      rmSync(lock, { recursive: true });
    }, 400);
    const got = await pending;
    expect(got.source).toBe('cache');
    expect(waits).toEqual(['other-host pid 42']);
    disposeCnn(trainer.params);
    disposeCnn(got.params);
  });

  it('breaks a stale lock (its holder died) and trains', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'classifier-'));
    const quick1: ClassifierTraining = { ...QUICK, epochs: 1 };
    const lock = path.join(root, `${classifierKey(data.train, DIGIT_CNN, quick1)}.lock`);
    mkdirSync(lock);
    writeFileSync(path.join(lock, 'owner'), 'dead-host pid 1\n');
    const old = new Date(Date.now() - 120_000);
    utimesSync(lock, old, old);
    const waits: string[] = [];
    const got = await loadOrTrainClassifier(root, data, {
      config: DIGIT_CNN,
      training: quick1,
      onWait: (h) => void waits.push(h),
      lock: { pollMs: 50, staleMs: 60_000 },
    });
    expect(got.source).toBe('trained');
    expect(waits).toEqual(['dead-host pid 1 (stale lock broken)']);
    expect(existsSync(lock)).toBe(false);
    disposeCnn(got.params);
  });
});
