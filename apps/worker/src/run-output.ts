import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { MetricRow, RunImage } from '@ablate/train';

/**
 * The output folder of a `pnpm train` run:
 *   config.json · metrics.jsonl · mu-norms.jsonl · eval.jsonl · images/step-00000500-samples.png · checkpoints/ · result.json
 */
export function createRunOutput(dir: string) {
  const images = path.join(dir, 'images');
  mkdirSync(images, { recursive: true });
  const file = (name: string) => path.join(dir, name);
  return {
    dir,
    checkpointDir: path.join(dir, 'checkpoints'),
    writeConfig(config: unknown) {
      writeFileSync(file('config.json'), `${JSON.stringify(config, null, 2)}\n`);
    },
    /** After resuming from `step`, drops the lines a crashed attempt wrote past it, so no step appears twice. */
    truncateAfter(step: number) {
      for (const name of ['metrics.jsonl', 'mu-norms.jsonl', 'eval.jsonl']) {
        if (!existsSync(file(name))) continue;
        const kept = readFileSync(file(name), 'utf8')
          .split('\n')
          .filter((l) => l !== '' && (JSON.parse(l) as { step: number }).step <= step);
        writeFileSync(file(name), kept.map((l) => `${l}\n`).join(''));
      }
    },
    metrics(rows: MetricRow[]) {
      appendFileSync(file('metrics.jsonl'), rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    },
    muNorms(step: number, norms: number[]) {
      appendFileSync(file('mu-norms.jsonl'), `${JSON.stringify({ step, norms })}\n`);
    },
    evalResult(e: object & { step: number }) {
      appendFileSync(file('eval.jsonl'), `${JSON.stringify(e)}\n`);
    },
    image(img: RunImage): string {
      const p = path.join(images, `step-${String(img.step).padStart(8, '0')}-${img.kind}.png`);
      writeFileSync(p, img.png);
      return p;
    },
    result(r: object) {
      writeFileSync(file('result.json'), `${JSON.stringify(r, null, 2)}\n`);
    },
  };
}
