import { parseRunConfig } from '@ablate/config';
import { describeBackend, selectBackend } from '@ablate/backend';
import { runMain, UsageError } from '@ablate/cli';
import { createLogger } from '@ablate/log';
import { configHash, findNewestValidCheckpoint, train, type StopRequest } from '@ablate/train';
import { MultiBar, Presets } from 'cli-progress';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createRunOutput } from './run-output';
import { createConsistencyJudge, defaultClassifierDir } from './consistency';
import { resultHooks } from './result-hooks';

const USAGE = `usage: pnpm train --config <file.yaml> [--set key=value ...] [--out dir] [--backend auto|tensorflow|wasm|cpu]

Trains one run in this process. Writes metrics (JSONL), checkpoints and PNG images to --out
(default runs/<name>-<config hash>); running the same config again resumes from its newest checkpoint.
Ctrl-C checkpoints and stops; a second Ctrl-C exits at once.`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      set: { type: 'string', multiple: true },
      out: { type: 'string' },
      backend: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.config === undefined) throw new UsageError(`--config is required\n${USAGE}`);
  let src: string;
  try {
    src = readFileSync(values.config, 'utf8');
  } catch (err: unknown) {
    throw new UsageError(`cannot read config file ${values.config}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const cfg = parseRunConfig(src, values.config, values.set ?? []);
  const name = cfg.name ?? path.basename(values.config).replace(/\.ya?ml$/, '');
  // The checkpoints' config hash, shortened. Still sha256 of JSON.stringify (key order as parsed), not of canonicalJson:
  // that would rename every existing runs/<name>-<hash> folder, and pnpm train would no longer resume them.
  const out = createRunOutput(values.out ?? path.join('runs', `${name}-${configHash(cfg).slice(0, 10)}`));

  const tty = process.stderr.isTTY === true;
  const bars = tty
    ? new MultiBar(
        { format: ' {bar} {value}/{total} steps | loss {loss} | {ips} img/s | ETA {eta_formatted}', hideCursor: true, clearOnComplete: false },
        Presets.shades_classic,
      )
    : null;
  const barLog = bars
    ? new Writable({
        write: (chunk: Buffer, _enc, cb) => {
          bars.log(chunk.toString('utf8'));
          cb();
        },
      })
    : undefined;
  const root = createLogger({ name: 'train', ...(barLog ? { destination: barLog } : {}) });
  const log = root.child({ runId: name });

  const backend = await selectBackend(values.backend === undefined ? {} : { requested: values.backend });
  log.info({ backend: backend.name, device: backend.device, out: out.dir }, describeBackend(backend));

  out.writeConfig(cfg);
  const existing = findNewestValidCheckpoint(out.checkpointDir);
  if (existing) {
    out.truncateAfter(existing.manifest.step);
    for (const t of Object.values(existing.tensors)) t.dispose();
  }

  let stop: StopRequest = 'continue';
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) process.exit(130);
    stop = 'interrupt';
    log.warn({ signal: sig }, 'stopping: checkpointing at the end of this step (again to exit now)');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const bar = bars?.create(cfg.train.steps, existing?.manifest.step ?? 0, { loss: '-', ips: '-' });
  let lastLine = 0;
  const judge = createConsistencyJudge(cfg, defaultClassifierDir(), log);
  const result = await train(cfg, {
    checkpointDir: out.checkpointDir,
    log,
    ...resultHooks(
      {
        metrics: (rows) => out.metrics(rows),
        muNorms: (step, norms) => out.muNorms(step, norms),
        judged: (j) =>
          log.info(
            {
              step: j.step,
              kind: j.kind,
              temperature: j.temperature,
              classConsistency: j.consistency,
              agreement: j.agreement,
              judges: j.judges.map((r) => ({ judge: r.name, consistency: r.consistency })),
            },
            'class-consistency',
          ),
        image: (img) => {
          const p = out.image(img);
          log.debug({ step: img.step, kind: img.kind, path: p }, 'image');
        },
      },
      judge,
    ),
    onEval: (e) => out.evalResult(e),
    onProgress: (p) => {
      if (bar) {
        bar.update(p.step, { loss: p.loss.toFixed(4), ips: p.imagesPerSec.toFixed(0) });
      } else if (Date.now() - lastLine > 10_000 || p.step === p.totalSteps) {
        lastLine = Date.now();
        log.info({ step: p.step, totalSteps: p.totalSteps, loss: p.loss, imagesPerSec: Math.round(p.imagesPerSec), etaSec: Math.round(p.etaSec) }, 'progress');
      }
    },
    shouldStop: () => stop,
  });
  bars?.stop();
  out.result({ ...result, backend: backend.name, device: backend.device });
  const level = result.status === 'succeeded' ? 'info' : 'warn';
  log[level]({ status: result.status, step: result.step, elapsedMs: Math.round(result.elapsedMs), out: out.dir }, result.message);
  return result.status === 'succeeded' ? 0 : result.status === 'interrupted' ? 130 : 1;
}

runMain(() => main(process.argv.slice(2)));
