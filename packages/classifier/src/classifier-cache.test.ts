import { describe, expect, it } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { loadDataset, subsetDataset, type Dataset } from '@ablate/data';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { classifierKey, loadOrTrainClassifier } from './classifier-cache';
import { DIGIT_CNN, disposeCnn } from './cnn';
import { classifierAccuracy, predictClasses, type ClassifierTraining } from './train-classifier';

const QUICK: ClassifierTraining = { epochs: 2, batchSize: 100, lr: 3e-3, noiseStd: 0.1, seed: 7 };

function firstN(ds: Dataset, n: number): Dataset {
  return subsetDataset(ds, Int32Array.from({ length: n }, (_, i) => i));
}

const all = loadDataset({ source: 'mnist-embedded' });
const data = { train: firstN(all.train, 2000), test: firstN(all.test, 500) };

function logSink() {
  const lines: { level: string; msg: string; obj: object }[] = [];
  return { lines, info: (obj: object, msg: string) => void lines.push({ level: 'info', msg, obj }), warn: (obj: object, msg: string) => void lines.push({ level: 'warn', msg, obj }) };
}

describe('loadOrTrainClassifier', () => {
  it('trains once per dataset, caches, and reads back the same classifier', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'classifier-'));
    const before = tf.memory().numTensors;
    const first = await loadOrTrainClassifier(root, data, { training: QUICK });
    expect(first.source).toBe('trained');
    expect(first.manifest.testAccuracy).toBeGreaterThan(0.7); // 2,000 digits, 2 epochs: well above chance (0.1)
    expect(first.manifest.testAccuracy).toBeCloseTo(await classifierAccuracy(first.params, data.test), 6);
    expect(readdirSync(root)).toEqual([classifierKey(data.train, DIGIT_CNN, QUICK)]); // no temporary left behind

    const second = await loadOrTrainClassifier(root, data, { training: QUICK });
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
    const first = await loadOrTrainClassifier(root, data, { training: quick1 });
    disposeCnn(first.params);
    const weights = path.join(first.dir, 'weights.bin');
    const bytes = readFileSync(weights);
    bytes[100] = (bytes[100] ?? 0) ^ 0xff;
    writeFileSync(weights, bytes);

    const log = logSink();
    const again = await loadOrTrainClassifier(root, data, { training: quick1, log });
    expect(again.source).toBe('trained');
    expect(log.lines.find((l) => l.level === 'warn')?.msg).toMatch(/unreadable; retraining/);
    expect(JSON.stringify(log.lines.find((l) => l.level === 'warn')?.obj)).toMatch(/sha256 does not match/);
    expect(readdirSync(root).filter((n) => n.includes('.corrupt-'))).toHaveLength(1);
    expect(existsSync(path.join(again.dir, 'manifest.json'))).toBe(true);
    disposeCnn(again.params);
  });
});
