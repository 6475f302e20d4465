import { selectBackend } from '@ablate/backend';
import { resolveRunConfig } from '@ablate/config';
import { createBatchIterator, deriveSeed, loadDataset } from '@ablate/data';
import { classLogits, disposeModel, initModel, namedVariables, nll, sample } from '@ablate/tarflow';
import { createAdamW, toDataConfig, toInputs, toTarflowConfig } from '@ablate/train';
import * as tf from '@tensorflow/tfjs-core';
import os from 'node:os';
import { parseArgs } from 'node:util';

const USAGE = `usage: pnpm bench:train [--presets tiny,small] [--backends wasm,cpu,webgpu] [--batch 64] [--steps 20] [--samples 20] [--json]

Per preset and backend: training images/s (full step: forward, backward, AdamW), sampling seconds per 100 images
with and without the KV cache (--samples images; 0 skips sampling), and one-pass classification images/s. Prints a table (or JSON) and the machine.`;

interface Row {
  preset: string;
  backend: string;
  batch: number;
  params: number;
  trainImagesPerSec: number;
  stepMs: number;
  sampleSecPer100Cached: number | null;
  sampleSecPer100Uncached: number | null;
  classifyImagesPerSec: number;
}

async function benchOne(preset: string, backend: string, batch: number, steps: number, sampleN: number): Promise<Row> {
  await selectBackend({ requested: backend });
  const cfg = resolveRunConfig({ model: { preset }, train: { batch_size: batch } });
  const { train } = loadDataset(toDataConfig(cfg.data));
  const tcfg = toTarflowConfig(cfg.model, train);
  const model = initModel(tcfg, { seed: 0, muInit: { kind: 'randn', std: 1 } });
  const named = namedVariables(model);
  const vars = Object.values(named);
  const params = vars.reduce((n, v) => n + v.size, 0);
  const opt = createAdamW([{ name: 'all', vars: named, lrScale: 1, weightDecay: 1e-4 }], { beta1: 0.9, beta2: 0.95, eps: 1e-8 });
  const it = createBatchIterator(train, { batchSize: batch, seed: 1 });
  const step = async (i: number) => {
    const b = it.next();
    const { value, grads } = tf.variableGrads(() => {
      const { x, y } = toInputs(tcfg, b.images, b.labels, 0.1, deriveSeed(0, i));
      return nll(model, x, y).loss;
    }, vars);
    opt.apply(grads, 1e-4);
    await value.data();
    tf.dispose([value, ...Object.values(grads)]);
  };
  for (let i = 0; i < 3; i++) await step(i); // warm-up: kernels, packing caches
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step(i + 3);
  const trainMs = performance.now() - t0;

  const timeSample = async (cache: boolean): Promise<number> => {
    const labels = Array.from({ length: sampleN }, (_, i) => i % tcfg.numClasses);
    const s0 = performance.now();
    const { raw, denoised } = sample(model, labels, { seed: 1, cache, noiseStd: 0.1 });
    await raw.data(); // async reads: webgpu has no dataSync in Node
    await denoised.data();
    tf.dispose([raw, denoised]);
    return ((performance.now() - s0) / 1000) * (100 / sampleN);
  };
  const heavy = preset === 'paper' || preset === 'small';
  const cached = sampleN > 0 ? await timeSample(true) : null; // --samples 0: skip sampling
  const uncached = sampleN === 0 || (heavy && backend !== 'tensorflow') ? null : await timeSample(false);

  const cx = tf.tidy(() => toInputs(tcfg, it.next().images, new Int32Array(batch), 0, 0).x);
  tf.tidy(() => classLogits(model, cx)).dispose();
  const c0 = performance.now();
  const reps = 5;
  for (let i = 0; i < reps; i++) {
    const l = classLogits(model, cx);
    await l.data();
    l.dispose();
  }
  const classifyImagesPerSec = (reps * batch * 1000) / (performance.now() - c0);
  cx.dispose();
  opt.dispose();
  disposeModel(model);
  return {
    preset,
    backend,
    batch,
    params,
    trainImagesPerSec: (steps * batch * 1000) / trainMs,
    stepMs: trainMs / steps,
    sampleSecPer100Cached: cached,
    sampleSecPer100Uncached: uncached,
    classifyImagesPerSec,
  };
}

function machine() {
  const cpus = os.cpus();
  return { node: process.version, cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memGiB: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()} ${os.release()}` };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      presets: { type: 'string', default: 'tiny' },
      backends: { type: 'string', default: 'wasm,cpu' },
      batch: { type: 'string', default: '64' },
      steps: { type: 'string', default: '20' },
      samples: { type: 'string', default: '20' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const rows: Row[] = [];
  for (const preset of values.presets.split(',')) {
    for (const backend of values.backends.split(',')) {
      const steps = backend === 'cpu' ? Math.max(3, Math.floor(Number(values.steps) / 4)) : Number(values.steps);
      process.stderr.write(`bench ${preset} on ${backend}...\n`);
      rows.push(await benchOne(preset, backend, Number(values.batch), steps, Number(values.samples)));
    }
  }
  const m = machine();
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ machine: m, command: `pnpm bench:train ${process.argv.slice(2).join(' ')}`.trim(), rows }, null, 2)}\n`);
    return 0;
  }
  const f = (x: number | null, d = 1) => (x === null ? 'skipped' : x.toFixed(d));
  process.stdout.write(`machine: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, Node ${m.node}, ${m.platform}\n\n`);
  process.stdout.write('| preset | backend | batch | params | train img/s | step ms | sample s/100 (cache) | sample s/100 (no cache) | classify img/s |\n|---|---|---|---|---|---|---|---|---|\n');
  for (const r of rows) {
    process.stdout.write(`| ${r.preset} | ${r.backend} | ${r.batch} | ${r.params} | ${f(r.trainImagesPerSec)} | ${f(r.stepMs, 0)} | ${f(r.sampleSecPer100Cached, 2)} | ${f(r.sampleSecPer100Uncached, 2)} | ${f(r.classifyImagesPerSec, 0)} |\n`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
