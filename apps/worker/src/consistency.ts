import type { RunEvent } from '@ablate/queue';
import {
  classConsistency,
  JUDGES,
  judgeAgreement,
  loadOrTrainClassifier,
  predictClasses,
  withEpochs,
  type ClassifierLog,
  type JudgeSpec,
  type LoadedClassifier,
} from '@ablate/classifier';
import type { RunConfig } from '@ablate/config';
import { loadDataset, resolveCacheDir, type DataConfig } from '@ablate/data';
import type { MetricRow } from '@ablate/train';
import path from 'node:path';
import { toDataConfig, type GeneratedSamples } from '@ablate/train';

/**
 * Where `pnpm train` caches digit classifiers: $CLASSIFIER_DIR, else `classifiers` in the machine's data cache (next to
 * the MNIST cache). Sweep runs use `<ARTIFACT_DIR>/classifiers` instead (set by the scheduler in each job), so that
 * every worker machine finds the ones the first run trained.
 */
export function defaultClassifierDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CLASSIFIER_DIR ? path.resolve(env.CLASSIFIER_DIR) : path.join(resolveCacheDir(env), 'classifiers');
}

/**
 * The judges: the standard ones, or with CLASSIFIER_EPOCHS epochs each (for tests and quick checks; the recipe is part
 * of the cache key, so this trains and caches separate classifiers).
 */
export function judgeSpecs(env: NodeJS.ProcessEnv = process.env): JudgeSpec[] {
  const raw = env.CLASSIFIER_EPOCHS;
  if (raw === undefined || raw === '') return [...JUDGES];
  const epochs = Number(raw);
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`CLASSIFIER_EPOCHS: expected a positive integer, got ${JSON.stringify(raw)}`);
  return JUDGES.map((j) => withEpochs(j, epochs));
}

/** `t1.0`, `t0.7`, `t0.75`: a temperature as it appears in metric names. */
export function temperatureTag(t: number): string {
  return `t${Number.isInteger(t) ? t.toFixed(1) : String(t)}`;
}

/** How the judges labelled one sample set (one kind and temperature at one eval step). */
export interface Judgement {
  step: number;
  kind: GeneratedSamples['kind'];
  temperature: number;
  count: number;
  judges: { name: string; testAccuracy: number; consistency: number; perClass: number[]; confusion: number[][] }[];
  /** Mean of the judges' consistency: the figure the report leads with. */
  consistency: number;
  /** Share of samples the two judges label alike. */
  agreement: number;
  /** The first sample set judged at this step: it carries the judges' held-out accuracy (once per step). */
  firstOfStep: boolean;
}

/**
 * The metric rows of a judgement: the judges' mean `eval/consistency/<kind>/<tT>`, their agreement
 * `eval/judge_agreement/<kind>/<tT>`, each judge's `eval/consistency/<kind>/<tT>/<judge>`, and once per eval step each
 * judge's held-out accuracy `eval/judge_accuracy/<judge>`, so it sits beside every consistency figure.
 */
export function judgementMetrics(j: Judgement): MetricRow[] {
  const tag = `${j.kind}/${temperatureTag(j.temperature)}`;
  const rows: MetricRow[] = [
    { step: j.step, name: `eval/consistency/${tag}`, value: j.consistency },
    { step: j.step, name: `eval/judge_agreement/${tag}`, value: j.agreement },
  ];
  for (const judge of j.judges) rows.push({ step: j.step, name: `eval/consistency/${tag}/${judge.name}`, value: judge.consistency });
  if (j.firstOfStep) for (const judge of j.judges) rows.push({ step: j.step, name: `eval/judge_accuracy/${judge.name}`, value: judge.testAccuracy });
  return rows;
}

/**
 * The mode-mixing metric of a run: labels its generated samples with both judges of its dataset (each trained once per
 * dataset on first use, coordinated across processes by a lock in the cache folder, then read from `cacheRoot`).
 */
export function createConsistencyJudge(
  cfg: RunConfig,
  cacheRoot: string,
  log?: ClassifierLog,
  onWait?: (holder: string) => void,
): (samples: GeneratedSamples) => Promise<Judgement> {
  return createJudge(toDataConfig(cfg.data), cacheRoot, log, onWait);
}

/**
 * The same judges for a training program's samples (the `samples` event): the digit judges of the embedded MNIST split
 * with its default test fraction and split seed, which the built-in runs use too, so both kinds of run share one cache.
 */
export function createDigitJudge(cacheRoot: string, log?: ClassifierLog, onWait?: (holder: string) => void): (samples: GeneratedSamples) => Promise<Judgement> {
  return createJudge({ source: 'mnist-embedded', testFraction: 1 / 6, splitSeed: 0 }, cacheRoot, log, onWait);
}

function createJudge(
  dataConfig: DataConfig,
  cacheRoot: string,
  log?: ClassifierLog,
  onWait?: (holder: string) => void,
): (samples: GeneratedSamples) => Promise<Judgement> {
  let loaded: Promise<{ spec: JudgeSpec; c: LoadedClassifier }[]> | null = null;
  const load = async () => {
    const data = loadDataset(dataConfig);
    const out: { spec: JudgeSpec; c: LoadedClassifier }[] = [];
    for (const spec of judgeSpecs()) {
      const c = await loadOrTrainClassifier(cacheRoot, data, {
        config: spec.config,
        training: spec.training,
        ...(log ? { log } : {}),
        ...(onWait ? { onWait } : {}),
      });
      out.push({ spec, c });
    }
    return out;
  };
  let lastStep = -1;
  return async (samples) => {
    loaded ??= load();
    const judges = await loaded;
    const n = samples.classes.length;
    const inputs = new Float32Array(samples.images.length);
    for (let i = 0; i < inputs.length; i++) inputs[i] = Math.min(1, Math.max(-1, samples.images[i] ?? 0)); // as displayed: clipped to [-1, 1]
    const labels: Int32Array[] = [];
    const results: Judgement['judges'] = [];
    for (const { spec, c } of judges) {
      const { imageSize, channels, numClasses } = c.manifest.config;
      if (samples.height !== imageSize || samples.channels !== channels) {
        throw new Error(
          `judge ${spec.name} expects ${imageSize}×${imageSize}×${channels} images, samples are ${samples.height}×${samples.width}×${samples.channels}`,
        );
      }
      const pred = await predictClasses(c.params, inputs, n);
      labels.push(pred);
      const r = classConsistency(samples.classes, pred, numClasses);
      results.push({ name: spec.name, testAccuracy: c.manifest.testAccuracy, consistency: r.consistency, perClass: r.perClass, confusion: r.confusion });
    }
    const [a, b] = labels;
    const firstOfStep = samples.step !== lastStep;
    lastStep = samples.step;
    return {
      firstOfStep,
      step: samples.step,
      kind: samples.kind,
      temperature: samples.temperature,
      count: n,
      judges: results,
      consistency: results.reduce((s, r) => s + r.consistency, 0) / Math.max(results.length, 1),
      agreement: a && b ? judgeAgreement(a, b) : NaN,
    };
  };
}

/** The confusion counts of a judgement as stream events: one per judge (rows: class sampled from, columns: label). */
export function confusionEvents(runId: string, j: Judgement): RunEvent[] {
  return j.judges.map((r) => ({ kind: 'confusion', runId, step: j.step, sampleKind: j.kind, temperature: j.temperature, judge: r.name, matrix: r.confusion }));
}

/** A judgement's log line fields (logged as 'class-consistency'). */
export function judgementLog(j: Judgement): Record<string, unknown> {
  return { step: j.step, kind: j.kind, temperature: j.temperature, classConsistency: j.consistency, agreement: j.agreement, samples: j.count };
}
