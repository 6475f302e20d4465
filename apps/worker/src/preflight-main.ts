/**
 * Can this machine's workers train these runs? Run by `pnpm sweep` before it starts local workers: reads
 * { backend?, runs: [{ label, config }] } as JSON on stdin, picks the tfjs backend exactly as a worker here would, and
 * prints { backend, device, problems } as JSON (backend null when every run fits any backend, without loading one): the runs whose training step does not fit that backend's memory
 * (an estimate, packages/train/src/memory-estimate.ts), grouped by model and batch size.
 */
import { selectBackend } from '@ablate/backend';
import { resolveRunConfig } from '@ablate/config';
import { fitsBackend } from '@ablate/train';
import { readFileSync } from 'node:fs';

export interface PreflightProblem {
  labels: string[];
  preset: string;
  batchSize: number;
  forwardMiB: number;
  limitMiB: number | null;
  maxBatch: number | null;
}

async function main(): Promise<void> {
  const input = JSON.parse(readFileSync(0, 'utf8')) as { backend?: string; runs: { label: string; config: unknown }[] };
  // Only wasm has a known ceiling: when every run fits it, any backend will do, and none needs loading (~0.5 s).
  if (input.runs.every((r) => fitsBackend(resolveRunConfig(r.config), 'wasm').ok)) {
    process.stdout.write(`${JSON.stringify({ backend: null, device: null, problems: [] })}\n`);
    return;
  }
  const backend = await selectBackend(input.backend === undefined ? {} : { requested: input.backend });
  const groups = new Map<string, PreflightProblem>();
  for (const r of input.runs) {
    const cfg = resolveRunConfig(r.config);
    const fit = fitsBackend(cfg, backend.name);
    if (fit.ok) continue;
    const key = JSON.stringify([cfg.model, cfg.train.batch_size]);
    const g = groups.get(key) ?? {
      labels: [],
      preset: cfg.model.preset,
      batchSize: cfg.train.batch_size,
      forwardMiB: Math.round(fit.forwardMiB),
      limitMiB: fit.limitMiB,
      maxBatch: fit.maxBatch,
    };
    g.labels.push(r.label);
    groups.set(key, g);
  }
  process.stdout.write(`${JSON.stringify({ backend: backend.name, device: backend.device, problems: [...groups.values()] })}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
