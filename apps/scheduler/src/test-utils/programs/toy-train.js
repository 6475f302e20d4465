'use strict';
// The Node twin of toy_train.py (same config keys, same metrics): a resumable toy run for the protocol tests.
const fs = require('node:fs');
const path = require('node:path');
const ablate = require(process.env.ABLATE_CLIENT_JS);

const run = ablate.init();
const cfg = run.config;
const steps = Number(cfg.steps ?? 20);
const every = Number(cfg.checkpoint_every ?? 5);
const sleepMs = Number(cfg.sleep_s ?? 0.02) * 1000;
const seed = Number(cfg.seed ?? 0);
const fault = cfg.fault ?? {};
const start = run.resume ? JSON.parse(fs.readFileSync(run.resume, 'utf8')).step : 0;
console.log(run.resume ? `resuming from step ${start} (${run.resume})` : 'starting from step 0');
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

async function main() {
  for (let step = start + 1; step <= steps; step++) {
    sleep(sleepMs);
    await new Promise((r) => setImmediate(r)); // let a SIGTERM handler run
    run.log(step, { loss: 1 / (step + seed + 1), 'eval/acc': step / steps }, steps);
    if (step === 3) for (let i = 0; i < Number(fault.bad_lines ?? 0); i++) fs.writeSync(run.fd, 'this is not json\n');
    if (step === 2 && fault.outside) run.write({ step, checkpoint: path.join(run.runDir, '..', 'escape.json') });
    if (step % every === 0 || run.shouldStop) {
      const p = run.checkpointPath(step, '.json');
      fs.writeFileSync(p, JSON.stringify({ step }));
      run.checkpoint(step, p);
    }
    if (step === fault.hang_after) sleep(600_000); // silent and busy: only a signal ends it
    if (run.shouldStop) {
      console.log(`SIGTERM: checkpointed at step ${step}, exiting`);
      process.exit(0);
    }
  }
  // Generated-digit stand-ins for the judges: files the test wrote, sent through the client's samples().
  for (const s of cfg.samples ?? []) {
    const buf = fs.readFileSync(s.from);
    const images = new Float32Array(buf.length / 4);
    for (let i = 0; i < images.length; i++) images[i] = buf.readFloatLE(i * 4);
    run.samples(steps, images, s.shape, s.kind, s.temperature);
  }
  const f = path.join(run.runDir, 'final.txt');
  fs.writeFileSync(f, 'done\n');
  run.artifact(steps, 'summary', f);
  console.log('finished');
}
void main();
