'use strict';
/**
 * ablate-client: report metrics, checkpoints and artifacts from your own training program to an ablate worker.
 * One CommonJS file, no dependencies (Node.js 18+).
 *
 *   const ablate = require('./ablate-client');
 *   const run = ablate.init();            // reads ABLATE_* from the environment
 *   run.log(step, { loss });              // {"step": .., "metrics": {..}}
 *   const p = run.checkpointPath(step, '.json'); fs.writeFileSync(p, ...); run.checkpoint(step, p);
 *   if (run.shouldStop) ...               // SIGTERM: checkpoint and exit
 *
 * The protocol is in the README ("Your own training program"). Outside a worker (no ABLATE_EVENTS_FD) events go to
 * <run dir>/events.jsonl and the run dir is ./ablate-run.
 */
const fs = require('node:fs');
const path = require('node:path');

function number(v) {
  const n = Number(v);
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  return n;
}

class Run {
  constructor(env = process.env, { handleSigterm = true } = {}) {
    this.runId = env.ABLATE_RUN_ID || 'local';
    this.runDir = path.resolve(env.ABLATE_RUN_DIR || 'ablate-run');
    fs.mkdirSync(this.runDir, { recursive: true });
    this.config = env.ABLATE_CONFIG ? JSON.parse(fs.readFileSync(env.ABLATE_CONFIG, 'utf8')) : {};
    this.resume = env.ABLATE_RESUME || null;
    this.fd = env.ABLATE_EVENTS_FD ? Number(env.ABLATE_EVENTS_FD) : fs.openSync(path.join(this.runDir, 'events.jsonl'), 'a');
    this.shouldStop = false;
    if (handleSigterm) process.on('SIGTERM', () => void (this.shouldStop = true));
  }

  write(event, totalSteps) {
    if (totalSteps !== undefined) event.total_steps = totalSteps;
    fs.writeSync(this.fd, `${JSON.stringify(event)}\n`); // synchronous: an event is out before the next line of code
  }

  /** Metrics at a step: { loss: 0.3, 'eval/nll': 1.2 }. NaN and infinities are allowed. */
  log(step, metrics, totalSteps) {
    const m = {};
    for (const [k, v] of Object.entries(metrics)) m[k] = number(v);
    this.write({ step, metrics: m }, totalSteps);
  }

  /** One norm per class (index = class): the mu_norms table and the report's ‖μ‖ panel. */
  muNorms(step, norms) {
    this.write({ step, mu_norms: norms.map(number) });
  }

  /** A fresh path for the checkpoint of `step` inside the run folder. */
  checkpointPath(step, suffix = '.ckpt') {
    const dir = path.join(this.runDir, 'checkpoints');
    fs.mkdirSync(dir, { recursive: true });
    return path.join(dir, `step-${String(step).padStart(8, '0')}${suffix}`);
  }

  /**
   * Reports a checkpoint you have written; the worker deletes older reported ones past the newest `keep` (at least 2),
   * once this one is safely recorded as the run's resume point.
   */
  checkpoint(step, file, keep = 2) {
    this.write({ step, checkpoint: path.resolve(file), keep: Math.max(2, keep) });
  }

  /** A file the run made (kind: a-z, 0-9, _ . -, e.g. "samples"), inside the run folder. */
  artifact(step, kind, file) {
    this.write({ step, artifact: kind, path: path.resolve(file) });
  }

  /**
   * Generated digits for the worker's two digit judges (class-consistency metrics and confusions, as for the built-in
   * trainer). `images`: (N, H, W, C) values in [-1, 1] as a Float32Array or array, class-major (N / 10 per class).
   */
  samples(step, images, shape, kind = 'raw', temperature = 1) {
    const f32 = images instanceof Float32Array ? images : Float32Array.from(images);
    const buf = Buffer.alloc(f32.length * 4);
    for (let i = 0; i < f32.length; i++) buf.writeFloatLE(f32[i], i * 4);
    const dir = path.join(this.runDir, 'samples');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `step-${String(step).padStart(8, '0')}-${kind}-t${temperature}.f32`);
    fs.writeFileSync(file, buf);
    this.write({ step, samples: file, shape, kind, temperature });
  }
}

function init(env = process.env, opts = {}) {
  return new Run(env, opts);
}

module.exports = { init, Run };
