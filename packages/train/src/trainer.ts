import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '@ablate/config';
import { createBatchIterator, subStreamSeed, loadDataset, permutation, createRng, pickOneImagePerClass, subsetDataset, type Dataset } from '@ablate/data';
import { initModel, muNorms, namedVariables, nll, priorVariables, disposeModel, type TarflowModel } from '@ablate/tarflow';
import { canonicalJson } from '@ablate/sweep';
import { clipByGlobalNorm, createAdamW, type AdamW } from './adamw';
import {
  CheckpointError,
  findNewestValidCheckpoint,
  ForeignCheckpointError,
  pruneCheckpoints,
  saveCheckpoint,
  type CheckpointRecord,
  type LoadedCheckpoint,
} from './checkpoint';
import { evaluate, type EvalResult } from './evaluate';
import { toInputs } from './inputs';
import { lrAt } from './lr-schedule';
import { explainOutOfMemory } from './out-of-memory';
import { toDataConfig, toMuInit, toTarflowConfig } from './model-config';
import { drawRawSamples, renderImages, type GeneratedSamples, type RunImage } from './render-images';
import { bitsPerDim } from './units';

/** What the trainer logs through; a pino Logger fits. */
export interface TrainLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface MetricRow {
  step: number;
  name: string;
  value: number;
}

export interface TrainProgress {
  step: number;
  totalSteps: number;
  loss: number;
  imagesPerSec: number;
  etaSec: number;
}

/** 'interrupt': checkpoint now and stop (the job resumes elsewhere); 'cancel': stop now. */
export type StopRequest = 'continue' | 'interrupt' | 'cancel';

export interface TrainHooks {
  /** Where checkpoints go; a run resumes from the newest valid one found here. */
  checkpointDir: string;
  /** The run's id, written into each checkpoint; a checkpoint naming another run (or config) is refused, never resumed. */
  runId?: string;
  log?: TrainLog;
  onMetrics?(rows: MetricRow[]): void | Promise<void>;
  onMuNorms?(step: number, norms: number[]): void | Promise<void>;
  /**
   * Before a checkpoint is written. A run resumes from its newest checkpoint, so whatever was reported for the steps
   * before it must be durable first; if this throws, no checkpoint is written at this step.
   */
  beforeCheckpoint?(step: number): void | Promise<void>;
  onCheckpoint?(record: CheckpointRecord): void | Promise<void>;
  onEval?(result: EvalResult): void | Promise<void>;
  onImage?(image: RunImage): void | Promise<void>;
  /**
   * At each eval, for the judges (digit classifiers): raw samples at each of eval.consistency_temperatures, and the
   * denoised samples at eval.temperature; eval.consistency_samples_per_class per class, at the final eval
   * max(that, eval.final_consistency_samples_per_class).
   */
  onSamples?(samples: GeneratedSamples): void | Promise<void>;
  onProgress?(p: TrainProgress): void;
  /** Asked after every step. */
  shouldStop?(): StopRequest;
  /** The run leaves its training steps for an eval (NLL first, then onEval, images, samples) or a checkpoint; the next onProgress means training again. */
  onPhase?(phase: 'eval' | 'checkpoint', step: number): void;
  now?(): number;
}

export type TrainStatus = 'succeeded' | 'diverged' | 'interrupted' | 'cancelled';

export interface TrainResult {
  status: TrainStatus;
  /** The last completed step. */
  step: number;
  message: string;
  resumedFrom: number | null;
  elapsedMs: number;
  final: EvalResult | null;
}

const NOOP_LOG: TrainLog = { debug: () => undefined, info: () => undefined, warn: () => undefined };

function nextTick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A fixed, class-stratified-by-chance subset of the test split for evaluation. */
function evalSubset(test: Dataset, examples: number, seed: number): Dataset {
  if (examples === 0 || examples >= test.count) return test;
  return subsetDataset(test, permutation(test.count, createRng(subStreamSeed(seed, 0xe7a1))).subarray(0, examples));
}

/**
 * Trains one run to `cfg.train.steps`, resuming from the newest valid checkpoint in `hooks.checkpointDir`. Reports
 * everything through the hooks; never throws for a diverging run (status 'diverged').
 */
export async function train(cfg: RunConfig, hooks: TrainHooks): Promise<TrainResult> {
  try {
    return await trainRun(cfg, hooks);
  } catch (err: unknown) {
    throw explainOutOfMemory(err, cfg, tf.getBackend());
  }
}

/** The run's data, its model at init and the optimizer: AdamW over two groups, the flow and the class prior (its own lr scale, no weight decay). */
function setUp(cfg: RunConfig) {
  const { train: trainSet, test } = loadDataset(toDataConfig(cfg.data));
  const tcfg = toTarflowConfig(cfg.model, trainSet);
  const model = initModel(tcfg, { seed: cfg.seed, muInit: toMuInit(cfg, () => pickOneImagePerClass(trainSet, subStreamSeed(cfg.seed, 0xda7a))) });
  const named = namedVariables(model);
  const priorSet = new Set(priorVariables(model));
  const flowVars: Record<string, tf.Variable> = {};
  const priorVars: Record<string, tf.Variable> = {};
  for (const [k, v] of Object.entries(named)) (priorSet.has(v) ? priorVars : flowVars)[k] = v;
  const opt = createAdamW(
    [
      { name: 'flow', vars: flowVars, lrScale: 1, weightDecay: cfg.train.weight_decay },
      { name: 'prior', vars: priorVars, lrScale: cfg.prior.lr_scale, weightDecay: 0 },
    ],
    { beta1: cfg.train.beta1, beta2: cfg.train.beta2, eps: cfg.train.eps },
  );
  return { trainSet, test, tcfg, model, named, allVars: Object.values(named), opt };
}

interface StepValues {
  loss: number;
  gradNorm: number;
  priorTerm: number;
  logdetTerm: number;
}

/**
 * One optimizer step on `batch` towards step `step + 1`: the loss and its gradients, clipped, then AdamW. A loss or
 * gradient norm that is not finite leaves the weights as they were (`ok: false`): the run diverged.
 */
async function trainStep(
  cfg: RunConfig,
  run: ReturnType<typeof setUp>,
  batch: { images: Float32Array; labels: Int32Array },
  step: number,
  lr: number,
): Promise<StepValues & { ok: boolean }> {
  const { model, opt, tcfg } = run;
  const aux: tf.Scalar[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const { x, y } = toInputs(tcfg, batch.images, batch.labels, cfg.train.noise_std, subStreamSeed(cfg.seed, step + 1, 0x401e));
    const out = nll(model, x, y);
    aux.push(tf.keep(out.priorTerm), tf.keep(out.logdetTerm));
    return out.loss;
  }, run.allVars);
  const { grads: clipped, norm } = clipByGlobalNorm(grads, cfg.train.grad_clip);
  const read = tf.tidy(() => tf.stack([value, norm, ...aux]));
  const [loss = NaN, gradNorm = NaN, priorTerm = NaN, logdetTerm = NaN] = await read.data();
  const ok = Number.isFinite(loss) && Number.isFinite(gradNorm);
  if (ok) opt.apply(clipped, lr);
  tf.dispose([value, norm, read, ...aux, ...Object.values(grads), ...Object.values(clipped)]);
  return { ok, loss, gradNorm, priorTerm, logdetTerm };
}

async function trainRun(cfg: RunConfig, hooks: TrainHooks): Promise<TrainResult> {
  const log = hooks.log ?? NOOP_LOG;
  const now = hooks.now ?? (() => performance.now());
  const run = setUp(cfg);
  const { trainSet, test, model, named, opt } = run;
  try {
    const resume = findNewestValidCheckpoint(hooks.checkpointDir, (err) => log.warn({ err: { message: err.message } }, 'skipping invalid checkpoint'), {
      runId: hooks.runId,
      config: cfg,
    });
    let step = 0;
    let elapsedBefore = 0;
    let dataOrder = undefined;
    if (resume) {
      restore(resume, model, named, opt, cfg);
      step = resume.manifest.step;
      elapsedBefore = resume.manifest.elapsedMs;
      dataOrder = resume.manifest.dataOrder;
      log.info({ step, uri: resume.record.uri }, 'resumed from checkpoint');
    }
    const batches = createBatchIterator(trainSet, {
      batchSize: cfg.train.batch_size,
      seed: subStreamSeed(cfg.seed, 0xba7c),
      ...(dataOrder ? { state: dataOrder } : {}),
    });
    const evalSet = evalSubset(test, cfg.eval.examples, cfg.seed);
    const schedule = { lr: cfg.train.lr, warmupSteps: cfg.train.warmup_steps, totalSteps: cfg.train.steps, minLrRatio: cfg.train.min_lr_ratio };
    const resumedFrom = resume ? step : null;
    const t0 = now();
    const elapsed = () => elapsedBefore + (now() - t0);
    let windowStart = now();
    let windowImages = 0;
    let lastLoss = NaN;

    let lastCheckpointStep = -1;
    const checkpoint = async (): Promise<void> => {
      if (step === lastCheckpointStep) return;
      hooks.onPhase?.('checkpoint', step);
      await hooks.beforeCheckpoint?.(step); // e.g. get every report of steps ≤ step out before the resume point exists
      lastCheckpointStep = step;
      const tensors: tf.NamedTensorMap = {};
      for (const [k, v] of Object.entries(named)) tensors[`model/${k}`] = v;
      const optState = opt.state();
      Object.assign(tensors, optState.tensors);
      const record = await saveCheckpoint(hooks.checkpointDir, tensors, {
        step,
        config: cfg,
        runId: hooks.runId,
        dataOrder: batches.state(),
        optimizerStep: optState.step,
        elapsedMs: elapsed(),
      });
      log.info({ step, uri: record.uri, bytes: record.bytes }, 'checkpoint');
      // The worker's hook makes this checkpoint the run's resume point, and throws if this copy has lost its job: only
      // then are older checkpoints deleted, so a lost copy does not delete the ones the job's new owner may resume from.
      await hooks.onCheckpoint?.(record);
      pruneCheckpoints(hooks.checkpointDir, cfg.checkpoint.keep);
    };

    const evalAndImages = async (): Promise<EvalResult> => {
      hooks.onPhase?.('eval', step);
      const e = await evaluate(model, evalSet, {
        step,
        batchSize: cfg.eval.batch_size,
        noiseStd: cfg.train.noise_std,
        seed: subStreamSeed(cfg.seed, 0xe4a1),
        now,
      });
      log.info({ phase: 'eval', ...e }, 'eval');
      await hooks.onEval?.(e);
      await hooks.onMetrics?.([
        { step, name: 'eval/nll', value: e.nll },
        { step, name: 'eval/bpd', value: e.bpd },
        { step, name: 'eval/accuracy', value: e.accuracy },
        { step, name: 'eval/classify_images_per_sec', value: e.classifyImagesPerSec },
      ]);
      const atFinal = step === cfg.train.steps;
      const perClass =
        cfg.eval.consistency_samples_per_class === 0
          ? 0
          : atFinal
            ? Math.max(cfg.eval.consistency_samples_per_class, cfg.eval.final_consistency_samples_per_class)
            : cfg.eval.consistency_samples_per_class;
      const extraPerClass = hooks.onSamples ? perClass : 0;
      const { images, samples } = await renderImages(model, {
        step,
        samplesPerClass: cfg.eval.samples_per_class,
        extraPerClass,
        chunk: cfg.eval.batch_size,
        temperature: cfg.eval.temperature,
        noiseStd: cfg.train.noise_std,
        seed: subStreamSeed(cfg.seed, step, 0x5a),
      });
      for (const image of images) await hooks.onImage?.(image);
      if (samples) {
        await hooks.onSamples?.(samples.denoised);
        for (const [i, temperature] of cfg.eval.consistency_temperatures.entries()) {
          const raw =
            temperature === cfg.eval.temperature
              ? samples.raw
              : await drawRawSamples(model, { step, perClass, temperature, chunk: cfg.eval.batch_size, seed: subStreamSeed(cfg.seed, step, 0x7e, i) });
          await hooks.onSamples?.(raw);
        }
      }
      return e;
    };

    const reportMu = async (): Promise<void> => {
      const norms = Array.from(await muNorms(model));
      await hooks.onMuNorms?.(step, norms);
    };

    if (step === 0) await reportMu(); // ‖μ‖ at init

    while (step < cfg.train.steps) {
      const batch = batches.next();
      const lr = lrAt(schedule, step + 1);
      const { ok, loss, gradNorm, priorTerm, logdetTerm } = await trainStep(cfg, run, batch, step, lr);
      if (!ok) {
        const message = `diverged at step ${step + 1}: loss is ${loss}, gradient norm is ${gradNorm}`;
        log.warn({ step: step + 1, loss, gradNorm }, 'diverged');
        await hooks.onMetrics?.([{ step: step + 1, name: 'diverged', value: 1 }]);
        return { status: 'diverged', step, message, resumedFrom, elapsedMs: elapsed(), final: null };
      }
      step += 1;
      lastLoss = loss;
      windowImages += cfg.train.batch_size;

      const atMetrics = step % cfg.train.metrics_every_steps === 0 || step === cfg.train.steps;
      const tNow = now();
      const imagesPerSec = (windowImages * 1000) / Math.max(tNow - windowStart, 1e-6);
      if (atMetrics) {
        const meanLogSigmaT = tf.mean(model.prior.logSigma);
        const meanLogSigma = (await meanLogSigmaT.data())[0] ?? NaN; // async: webgpu has no dataSync in Node
        meanLogSigmaT.dispose();
        await hooks.onMetrics?.([
          { step, name: 'loss', value: loss },
          { step, name: 'nll', value: loss },
          { step, name: 'bpd', value: bitsPerDim(loss) },
          { step, name: 'prior_term', value: priorTerm },
          { step, name: 'logdet_term', value: logdetTerm },
          { step, name: 'grad_norm', value: gradNorm },
          { step, name: 'lr', value: lr },
          { step, name: 'images_per_sec', value: imagesPerSec },
          { step, name: 'mean_log_sigma', value: meanLogSigma },
        ]);
        await reportMu();
        log.debug({ step, loss, lr, gradNorm, imagesPerSec }, 'train step');
        windowStart = tNow;
        windowImages = 0;
      }
      hooks.onProgress?.({
        step,
        totalSteps: cfg.train.steps,
        loss,
        imagesPerSec,
        etaSec: ((cfg.train.steps - step) * cfg.train.batch_size) / Math.max(imagesPerSec, 1e-6),
      });

      const last = step === cfg.train.steps;
      if (!last && cfg.eval.every_steps > 0 && step % cfg.eval.every_steps === 0) await evalAndImages();
      if (!last && cfg.checkpoint.every_steps > 0 && step % cfg.checkpoint.every_steps === 0) await checkpoint();

      await nextTick(); // let signals, Redis and progress bars run between steps
      const stop = hooks.shouldStop?.() ?? 'continue';
      if (!last && stop === 'interrupt') {
        await checkpoint();
        return { status: 'interrupted', step, message: `interrupted at step ${step}; checkpointed`, resumedFrom, elapsedMs: elapsed(), final: null };
      }
      if (!last && stop === 'cancel') {
        return { status: 'cancelled', step, message: `cancelled at step ${step}`, resumedFrom, elapsedMs: elapsed(), final: null };
      }
    }
    const final = await evalAndImages();
    await checkpoint();
    return {
      status: 'succeeded',
      step,
      message: `finished ${step} steps; final loss ${lastLoss.toFixed(4)}, held-out ${final.bpd.toFixed(3)} bits/dim, accuracy ${(final.accuracy * 100).toFixed(1)}%`,
      resumedFrom,
      elapsedMs: elapsed(),
      final,
    };
  } finally {
    opt.dispose();
    disposeModel(model);
  }
}

function restore(ckpt: LoadedCheckpoint, model: TarflowModel, named: Record<string, tf.Variable>, opt: AdamW, cfg: RunConfig): void {
  try {
    if (canonicalJson(ckpt.manifest.config) !== canonicalJson(cfg)) {
      throw new ForeignCheckpointError('was written by a different run config; refusing to resume from it', ckpt.record.uri);
    }
    for (const [k, v] of Object.entries(named)) {
      const t = ckpt.tensors[`model/${k}`];
      if (t === undefined) throw new CheckpointError(`has no tensor model/${k}`, ckpt.record.uri);
      if (t.shape.join() !== v.shape.join())
        throw new CheckpointError(`model/${k} has shape [${t.shape.join()}], the model needs [${v.shape.join()}]`, ckpt.record.uri);
      v.assign(t);
    }
    opt.load({ step: ckpt.manifest.optimizerStep, tensors: ckpt.tensors });
  } finally {
    tf.dispose(Object.values(ckpt.tensors));
  }
  void model;
}
