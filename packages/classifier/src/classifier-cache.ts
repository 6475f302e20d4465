import * as tf from '@tensorflow/tfjs-core';
import type { Dataset } from '@ablate/data';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { cnnVariableNames, cnnVariables, disposeCnn, initCnn, type CnnConfig, type CnnParams } from './cnn';
import { classifierAccuracy, trainClassifier, type ClassifierProgress, type ClassifierTraining } from './train-classifier';

export const CLASSIFIER_FORMAT = 'ablate-digit-cnn/2';

/** What sits next to the weights: enough to check them and to say how good the classifier is. */
export interface ClassifierManifest {
  format: typeof CLASSIFIER_FORMAT;
  key: string;
  config: CnnConfig;
  training: ClassifierTraining;
  trainExamples: number;
  /** Top-1 accuracy on the dataset's test split. */
  testAccuracy: number;
  testExamples: number;
  trainSeconds: number;
  shapes: Record<string, number[]>;
  sha256: string; // of weights.bin
  createdAt: string;
}

export interface LoadedClassifier {
  params: CnnParams;
  manifest: ClassifierManifest;
  dir: string;
  /** 'cache' when read from disk, 'trained' when trained (and cached) by this call. */
  source: 'cache' | 'trained';
}

export interface ClassifierLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * The cache key: the classifier's architecture and recipe plus a digest of the training split's pixels and labels,
 * so a different dataset (or split) gets its own classifier and the same data on another machine finds this one.
 */
export function classifierKey(train: Dataset, config: CnnConfig, training: ClassifierTraining): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ format: CLASSIFIER_FORMAT, config, training, count: train.count, h: train.height, w: train.width }));
  h.update(Buffer.from(train.images.buffer, train.images.byteOffset, train.images.byteLength));
  h.update(Buffer.from(train.labels.buffer, train.labels.byteOffset, train.labels.byteLength));
  return `digit-cnn-${h.digest('hex').slice(0, 16)}`;
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Reads and checks a cached classifier; throws with the reason when it is missing, corrupt or of another format. */
export function readClassifier(dir: string): { params: CnnParams; manifest: ClassifierManifest } {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as ClassifierManifest;
  if (manifest.format !== CLASSIFIER_FORMAT) throw new Error(`${dir}: format ${String(manifest.format)}, expected ${CLASSIFIER_FORMAT}`);
  const bytes = readFileSync(path.join(dir, 'weights.bin'));
  if (sha256(bytes) !== manifest.sha256) throw new Error(`${dir}/weights.bin: sha256 does not match the manifest (corrupt)`);
  const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const params = initCnn(manifest.config, 0);
  const vars = cnnVariables(params);
  let offset = 0;
  try {
    for (const name of cnnVariableNames(manifest.config)) {
      const v = vars[name];
      const shape = manifest.shapes[name];
      if (v === undefined || shape === undefined || shape.join() !== v.shape.join())
        throw new Error(`${dir}: ${name} has shape ${String(shape)}, expected ${v?.shape.join()}`);
      const size = v.size;
      if (offset + size > floats.length) throw new Error(`${dir}/weights.bin: too short`);
      const t = tf.tensor(floats.subarray(offset, offset + size), v.shape);
      v.assign(t);
      t.dispose();
      offset += size;
    }
    if (offset !== floats.length) throw new Error(`${dir}/weights.bin: ${floats.length - offset} extra values`);
  } catch (err) {
    disposeCnn(params);
    throw err;
  }
  return { params, manifest };
}

async function writeClassifier(dir: string, params: CnnParams, manifest: Omit<ClassifierManifest, 'shapes' | 'sha256'>): Promise<ClassifierManifest> {
  const vars = cnnVariables(params);
  const names = cnnVariableNames(params.config);
  const parts: Buffer[] = [];
  for (const name of names) parts.push(Buffer.from(((await vars[name]?.data()) as Float32Array).slice().buffer));
  const bytes = Buffer.concat(parts);
  const full: ClassifierManifest = { ...manifest, shapes: Object.fromEntries(names.map((n) => [n, vars[n]?.shape ?? []])), sha256: sha256(bytes) };
  // Written whole under a temporary name, then renamed: a reader never sees half a classifier.
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  mkdirSync(tmp, { recursive: true });
  writeFileSync(path.join(tmp, 'weights.bin'), bytes);
  writeFileSync(path.join(tmp, 'manifest.json'), `${JSON.stringify(full, null, 2)}\n`);
  try {
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    // Another worker installed one first (same data, same seed: the same classifier): keep theirs.
    if (!existsSync(path.join(dir, 'manifest.json'))) throw err;
  }
  return full;
}

export interface TrainLock {
  /** How often the holder refreshes the lock's time stamp, and how old a time stamp must be to count as abandoned. */
  heartbeatMs: number;
  staleMs: number;
  pollMs: number;
}

const LOCK: TrainLock = { heartbeatMs: 2_000, staleMs: 30_000, pollMs: 500 };

/**
 * Takes `<dir>.lock` (a directory: mkdir is atomic, also on NFS), or returns who holds it. A lock whose time stamp has
 * not moved for `staleMs` belongs to a dead trainer and is broken.
 */
function tryLock(lockDir: string, lock: TrainLock): { release: () => void } | { holder: string } {
  try {
    mkdirSync(lockDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    let holder = 'another process';
    try {
      holder = readFileSync(path.join(lockDir, 'owner'), 'utf8').trim() || holder;
      if (Date.now() - statSync(lockDir).mtimeMs > lock.staleMs) {
        rmSync(lockDir, { recursive: true, force: true }); // its trainer died; the next try takes it
        return { holder: `${holder} (stale lock broken)` };
      }
    } catch {
      // the holder finished (or broke it) between our calls: try again at the next poll
    }
    return { holder };
  }
  writeFileSync(path.join(lockDir, 'owner'), `${hostname()} pid ${process.pid}\n`);
  const beat = setInterval(() => {
    const t = new Date();
    try {
      utimesSync(lockDir, t, t);
    } catch {
      // gone: broken by someone who thought us dead; the rename below still installs a valid classifier
    }
  }, lock.heartbeatMs);
  beat.unref();
  return {
    release: () => {
      clearInterval(beat);
      rmSync(lockDir, { recursive: true, force: true });
    },
  };
}

function readCached(dir: string, log: ClassifierLog | undefined): LoadedClassifier | null {
  if (!existsSync(dir)) return null;
  try {
    const { params, manifest } = readClassifier(dir);
    return { params, manifest, dir, source: 'cache' };
  } catch (err) {
    const aside = `${dir}.corrupt-${Date.now()}`;
    log?.warn({ err: { message: err instanceof Error ? err.message : String(err) }, dir, movedTo: aside }, 'cached classifier is unreadable; retraining');
    renameSync(dir, aside);
    return null;
  }
}

/**
 * The classifier for this dataset, architecture and recipe: read from `<cacheRoot>/<key>` when a valid one is there,
 * else trained on `train`, checked on `test`, and cached. Processes that need the same one at once (two workers on a
 * fresh artifact folder) coordinate through `<key>.lock` in the cache folder: one trains, the others wait (calling
 * `onWait` with the holder) and then load it. A corrupt cache entry is set aside (renamed `*.corrupt-<time>`) and
 * retrained, never used.
 */
export async function loadOrTrainClassifier(
  cacheRoot: string,
  data: { train: Dataset; test: Dataset },
  opts: {
    config: CnnConfig;
    training: ClassifierTraining;
    log?: ClassifierLog;
    onProgress?: (p: ClassifierProgress) => void;
    onWait?: (holder: string) => void;
    lock?: Partial<TrainLock>;
  },
): Promise<LoadedClassifier> {
  const { config, training } = opts;
  const lock = { ...LOCK, ...opts.lock };
  const key = classifierKey(data.train, config, training);
  const dir = path.join(cacheRoot, key);
  mkdirSync(cacheRoot, { recursive: true });
  let lastHolder = '';
  for (;;) {
    const cached = readCached(dir, opts.log);
    if (cached) return cached;
    const got = tryLock(`${dir}.lock`, lock);
    if ('holder' in got) {
      if (got.holder !== lastHolder) {
        lastHolder = got.holder;
        opts.log?.info({ key, holder: got.holder }, 'waiting for the digit classifier another process is training');
        opts.onWait?.(got.holder);
      }
      await new Promise((r) => setTimeout(r, lock.pollMs));
      continue;
    }
    try {
      const again = readCached(dir, opts.log); // installed between our look and our lock
      if (again) return again;
      opts.log?.info({ key, examples: data.train.count, epochs: training.epochs }, 'training the digit classifier (once per dataset)');
      const t0 = performance.now();
      const params = await trainClassifier(data.train, config, training, opts.onProgress);
      const trainSeconds = (performance.now() - t0) / 1000;
      const testAccuracy = await classifierAccuracy(params, data.test);
      const manifest = await writeClassifier(dir, params, {
        format: CLASSIFIER_FORMAT,
        key,
        config,
        training,
        trainExamples: data.train.count,
        testAccuracy,
        testExamples: data.test.count,
        trainSeconds,
        createdAt: new Date().toISOString(),
      });
      opts.log?.info({ key, testAccuracy, trainSeconds: Math.round(trainSeconds * 10) / 10, dir }, 'digit classifier trained and cached');
      return { params, manifest, dir, source: 'trained' };
    } finally {
      got.release();
    }
  }
}
