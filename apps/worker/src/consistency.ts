import { classConsistency, DIGIT_TRAINING, loadOrTrainClassifier, predictClasses, type ClassifierLog, type ClassifierTraining, type Consistency, type LoadedClassifier } from '@ablate/classifier';
import type { RunConfig } from '@ablate/config';
import { loadDataset, resolveCacheDir } from '@ablate/data';
import path from 'node:path';
import { toDataConfig, type GeneratedSamples } from '@ablate/train';

/**
 * Where `pnpm train` caches digit classifiers: $CLASSIFIER_DIR, else `classifiers` in the machine's data cache (next to
 * the MNIST cache). Sweep runs use `<ARTIFACT_DIR>/classifiers` instead (set by the scheduler in each job), so that
 * every worker machine finds the one the first run trained.
 */
export function defaultClassifierDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CLASSIFIER_DIR ? path.resolve(env.CLASSIFIER_DIR) : path.join(resolveCacheDir(env), 'classifiers');
}

/**
 * The classifier's training recipe: the standard one, or with CLASSIFIER_EPOCHS epochs (for tests and quick checks; the
 * recipe is part of the cache key, so this trains and caches a separate classifier).
 */
export function classifierTraining(env: NodeJS.ProcessEnv = process.env): ClassifierTraining {
  const raw = env.CLASSIFIER_EPOCHS;
  if (raw === undefined || raw === '') return DIGIT_TRAINING;
  const epochs = Number(raw);
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`CLASSIFIER_EPOCHS: expected a positive integer, got ${JSON.stringify(raw)}`);
  return { ...DIGIT_TRAINING, epochs };
}

/**
 * The mode-mixing metric of a run: labels its generated samples with the digit classifier of its dataset (trained
 * once per dataset on first use, ~1 minute on one wasm thread, then read from `cacheRoot`).
 */
export function createConsistencyJudge(cfg: RunConfig, cacheRoot: string, log?: ClassifierLog): (samples: GeneratedSamples) => Promise<Consistency> {
  let classifier: Promise<LoadedClassifier> | null = null;
  return async (samples) => {
    classifier ??= loadOrTrainClassifier(cacheRoot, loadDataset(toDataConfig(cfg.data)), { training: classifierTraining(), ...(log ? { log } : {}) });
    const { params, manifest } = await classifier;
    if (samples.height !== manifest.config.imageSize || samples.channels !== manifest.config.channels) {
      throw new Error(`digit classifier expects ${manifest.config.imageSize}×${manifest.config.imageSize}×${manifest.config.channels} images, samples are ${samples.height}×${samples.width}×${samples.channels}`);
    }
    const n = samples.classes.length;
    const inputs = new Float32Array(samples.images.length);
    for (let i = 0; i < inputs.length; i++) inputs[i] = Math.min(1, Math.max(-1, samples.images[i] ?? 0)); // as displayed: clipped to [-1, 1]
    return classConsistency(samples.classes, await predictClasses(params, inputs, n), manifest.config.numClasses);
  };
}
