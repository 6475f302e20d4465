import { selectBackend } from '@ablate/backend';
import { resolveRunConfig } from '@ablate/config';
import { createBatchIterator, subStreamSeed, loadDataset } from '@ablate/data';
import { classLogits, disposeModel, initModel, namedVariables, nll, sample } from '@ablate/tarflow';
import { createAdamW, toDataConfig, toInputs, toTarflowConfig } from '@ablate/train';
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const USAGE = `usage: pnpm bench:train [--presets tiny,small] [--backends wasm,wasm+blas,cpu,webgpu] [--threads 1,2] [--batch 64] [--steps 20] [--samples 20 (0: training only)] [--json]

Per preset and backend: training images/s (full step: forward, backward, AdamW), sampling seconds per 100 images
with and without the KV cache, and one-pass classification images/s. Prints a table (or JSON) and the machine.
Backends: wasm (plain: its own matmuls), wasm+blas (matmuls and fused kernels on OpenBLAS/native code), cpu, webgpu,
tensorflow, and pytorch (the same TARFlow and step in PyTorch: scripts/bench/tarflow-torch.py, training only, run with
BENCH_PYTHON or the first of /usr/bin/python3, python3 that imports torch). --threads: OpenBLAS threads for wasm+blas and
PyTorch's threads, one value for every preset or one per preset (default 1). Each preset and backend runs in a process
of its own, so one that runs out of memory (small at batch 64 on plain wasm) is reported and the rest go on. With
pytorch among the backends, each other row gets its training speed as a ratio to PyTorch's on the same preset.`;

interface Row {
  preset: string;
  backend: string;
  /** OpenBLAS threads (wasm+blas), else null. */
  blasThreads: number | null;
  batch: number;
  params: number;
  trainImagesPerSec: number;
  stepMs: number;
  /** CPU time of the whole process (all threads) per step, and images per CPU-second: the per-thread speed, which
   * other processes on a shared machine disturb far less than the wall clock. */
  cpuMsPerStep: number;
  trainImagesPerCpuSec: number;
  sampleSecPer100Cached: number | null;
  sampleSecPer100Uncached: number | null;
  classifyImagesPerSec: number | null;
  /** trainImagesPerSec / PyTorch's on the same preset and threads, when pytorch was benchmarked too. */
  vsPytorch?: number;
}

const TORCH_SCRIPT = path.resolve(__dirname, '..', '..', '..', '..', 'scripts', 'bench', 'tarflow-torch.py');

/** A python3 that imports torch: BENCH_PYTHON, else Debian's /usr/bin/python3 (python3-torch), else python3 on PATH. Looked for once. */
let torchPythonFound: string | { error: string } | undefined;
function torchPython(): string | { error: string } {
  return (torchPythonFound ??= findTorchPython());
}
function findTorchPython(): string | { error: string } {
  const candidates = process.env.BENCH_PYTHON ? [process.env.BENCH_PYTHON] : ['/usr/bin/python3', 'python3'];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return { error: `no python3 with torch (tried ${candidates.join(', ')}): apt-get install python3-torch, or set BENCH_PYTHON` };
}

/** The same preset in PyTorch with `threads` threads (its OpenBLAS bounded too), training only. */
function benchTorch(preset: string, batch: number, steps: number, threads: number): Row | { error: string } {
  const py = torchPython();
  if (typeof py !== 'string') return py;
  const t = String(threads);
  const r = spawnSync(py, [TORCH_SCRIPT, '--preset', preset, '--batch', String(batch), '--threads', t, '--steps', String(steps), '--json'], {
    encoding: 'utf8',
    env: { ...process.env, OPENBLAS_NUM_THREADS: t, OMP_NUM_THREADS: t, MKL_NUM_THREADS: t },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) return { error: `${r.stderr}`.trim().split('\n').pop()?.slice(0, 300) ?? `exit ${r.status}` };
  const o = JSON.parse(last) as { backend: string; params: number; trainImagesPerSec: number; stepMs: number; cpuMsPerStep: number };
  return {
    preset,
    backend: 'pytorch',
    blasThreads: threads,
    batch,
    params: o.params,
    trainImagesPerSec: o.trainImagesPerSec,
    stepMs: o.stepMs,
    cpuMsPerStep: o.cpuMsPerStep,
    trainImagesPerCpuSec: (batch * 1000) / o.cpuMsPerStep,
    sampleSecPer100Cached: null,
    sampleSecPer100Uncached: null,
    classifyImagesPerSec: null,
  };
}

async function benchOne(preset: string, backend: string, batch: number, steps: number, sampleN: number): Promise<Row> {
  // wasm+blas is wasm with @ablate/blas's kernels (selectBackend's default on wasm); plain wasm opts out of them.
  const requested = backend === 'wasm+blas' ? 'wasm' : backend;
  const chosen = await selectBackend({ requested, env: { ...process.env, WASM_BLAS: backend === 'wasm' ? '0' : '1' } });
  if (chosen.name !== backend) throw new Error(`asked for ${backend}, got ${chosen.name} (${chosen.device})`);
  const blasThreads = backend === 'wasm+blas' ? Number(process.env.BLAS_THREADS ?? 1) : null;
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
      const { x, y } = toInputs(tcfg, b.images, b.labels, 0.1, subStreamSeed(0, i));
      return nll(model, x, y).loss;
    }, vars);
    opt.apply(grads, 1e-4);
    await value.data();
    tf.dispose([value, ...Object.values(grads)]);
  };
  for (let i = 0; i < 3; i++) await step(i); // warm-up: kernels, packing caches
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < steps; i++) await step(i + 3);
  const cpu = process.cpuUsage(cpu0);
  const trainMs = performance.now() - t0;
  const cpuMs = (cpu.user + cpu.system) / 1000;

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
  // --samples 0: training only (no sampling, no classification)
  const cached = sampleN > 0 ? await timeSample(true) : null;
  const uncached = sampleN === 0 || (heavy && backend !== 'tensorflow') ? null : await timeSample(false);
  let classifyImagesPerSec: number | null = null;
  if (sampleN > 0) {
    const cx = tf.tidy(() => toInputs(tcfg, it.next().images, new Int32Array(batch), 0, 0).x);
    tf.tidy(() => classLogits(model, cx)).dispose();
    const c0 = performance.now();
    const reps = 5;
    for (let i = 0; i < reps; i++) {
      const l = classLogits(model, cx);
      await l.data();
      l.dispose();
    }
    classifyImagesPerSec = (reps * batch * 1000) / (performance.now() - c0);
    cx.dispose();
  }
  opt.dispose();
  disposeModel(model);
  return {
    preset,
    backend,
    blasThreads,
    batch,
    params,
    trainImagesPerSec: (steps * batch * 1000) / trainMs,
    stepMs: trainMs / steps,
    cpuMsPerStep: cpuMs / steps,
    trainImagesPerCpuSec: (steps * batch * 1000) / cpuMs,
    sampleSecPer100Cached: cached,
    sampleSecPer100Uncached: uncached,
    classifyImagesPerSec,
  };
}

function machine() {
  const cpus = os.cpus();
  return {
    node: process.version,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`,
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      presets: { type: 'string', default: 'tiny' },
      backends: { type: 'string', default: 'wasm,wasm+blas' },
      threads: { type: 'string', default: '1' },
      batch: { type: 'string', default: '64' },
      one: { type: 'boolean' }, // internal: run one preset/backend in this process and print its row as JSON
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
  const presets = values.presets.split(',');
  if (values.one) {
    const backend = values.backends;
    const steps = backend === 'cpu' ? Math.max(3, Math.floor(Number(values.steps) / 4)) : Number(values.steps);
    process.stdout.write(`${JSON.stringify(await benchOne(presets[0]!, backend, Number(values.batch), steps, Number(values.samples)))}\n`);
    return 0;
  }
  const threads = values.threads.split(',').map(Number);
  if (threads.some((t) => !Number.isInteger(t) || t < 1) || (threads.length !== 1 && threads.length !== presets.length)) {
    process.stderr.write(`--threads: expected one positive integer, or one per preset (${presets.length}), got "${values.threads}"\n`);
    return 2;
  }
  const rows: (Row | { preset: string; backend: string; blasThreads: number | null; batch: number; error: string })[] = [];
  for (const [i, preset] of presets.entries()) {
    for (const backend of values.backends.split(',')) {
      if (backend === 'pytorch') {
        const t = threads[i] ?? threads[0]!;
        process.stderr.write(`bench ${preset} on PyTorch (${t} thread${t === 1 ? '' : 's'})...\n`);
        const row = benchTorch(preset, Number(values.batch), Number(values.steps), t);
        if ('error' in row) process.stderr.write(`  failed: ${row.error}\n`);
        rows.push('error' in row ? { preset, backend, blasThreads: t, batch: Number(values.batch), error: row.error } : row);
        continue;
      }
      const blasThreads = backend === 'wasm+blas' ? (threads[i] ?? threads[0]!) : null;
      process.stderr.write(
        `bench ${preset} on ${backend}${blasThreads === null ? '' : ` (${blasThreads} OpenBLAS thread${blasThreads === 1 ? '' : 's'})`}...\n`,
      );
      const args = [
        __filename,
        '--one',
        '--presets',
        preset,
        '--backends',
        backend,
        '--batch',
        values.batch,
        '--steps',
        values.steps,
        '--samples',
        values.samples,
      ];
      const r = spawnSync(process.execPath, args, {
        encoding: 'utf8',
        env: { ...process.env, LOG_LEVEL: 'warn', ...(blasThreads === null ? {} : { BLAS_THREADS: String(blasThreads) }) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const last = r.stdout.trim().split('\n').pop() ?? '';
      if (r.status === 0 && last.startsWith('{')) rows.push(JSON.parse(last) as Row);
      else {
        const why =
          `${r.stderr}`
            .split('\n')
            .find((l) => /Aborted|out of memory|OutOfMemory|Error/.test(l))
            ?.trim() ?? `exit ${r.status ?? r.signal}`;
        process.stderr.write(`  failed: ${why}\n`);
        rows.push({ preset, backend, blasThreads, batch: Number(values.batch), error: why.slice(0, 300) });
      }
    }
  }
  for (const r of rows) {
    const torch = rows.find((t) => t.preset === r.preset && t.backend === 'pytorch');
    if (r.backend !== 'pytorch' && !('error' in r) && torch !== undefined && !('error' in torch)) r.vsPytorch = r.trainImagesPerSec / torch.trainImagesPerSec;
  }
  const m = machine();
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ machine: m, command: `pnpm bench:train ${process.argv.slice(2).join(' ')}`.trim(), rows }, null, 2)}\n`);
    return 0;
  }
  const f = (x: number | null, d = 1) => (x === null ? 'skipped' : x.toFixed(d));
  process.stdout.write(`machine: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, Node ${m.node}, ${m.platform}\n\n`);
  process.stdout.write(
    '| preset | backend | threads | batch | params | train img/s | × PyTorch | step ms | img/CPU-s | sample s/100 (cache) | sample s/100 (no cache) | classify img/s |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n',
  );
  for (const r of rows) {
    const t = r.blasThreads ?? '';
    if ('error' in r) process.stdout.write(`| ${r.preset} | ${r.backend} | ${t} | ${r.batch} | | failed: ${r.error} | | | | | | |\n`);
    else
      process.stdout.write(
        `| ${r.preset} | ${r.backend} | ${t} | ${r.batch} | ${r.params} | ${f(r.trainImagesPerSec)} | ${r.vsPytorch === undefined ? '' : f(r.vsPytorch, 2)} | ${f(r.stepMs, 0)} | ${f(r.trainImagesPerCpuSec)} | ${f(r.sampleSecPer100Cached, 2)} | ${f(r.sampleSecPer100Uncached, 2)} | ${f(r.classifyImagesPerSec ?? null, 0)} |\n`,
      );
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
