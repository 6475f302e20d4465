import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { afterEach } from '@jest/globals';
import path from 'node:path';
import { createWorld, destroyWorld, sql, submitWithOneWorker, waitFor, writeSweep, type World } from './test-utils/harness';

/**
 * examples/pytorch-tarflow at smoke size, through a real worker: needs torch for /usr/bin/python3 (Debian's
 * python3-torch; .ci/run installs it when it can). Without it these tests are skipped and say why.
 */
const EXAMPLE = path.resolve(__dirname, '..', '..', '..', 'examples', 'pytorch-tarflow');
const PYTHON = '/usr/bin/python3';
const torch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
const hasTorch = torch.status === 0;
const itTorch = hasTorch ? it : it.skip;
const why = hasTorch ? '' : ' [skipped: /usr/bin/python3 cannot import torch; apt-get install python3-torch]';

let world: World | undefined;
afterEach(async () => {
  if (world) await destroyWorld(world);
  world = undefined;
});

describe('examples/pytorch-tarflow', () => {
  itTorch(`its model checks pass (exact inverse, logdet = log|det J|, causal, identity at init)${why}`, () => {
    const r = spawnSync(PYTHON, ['-m', 'unittest', '-q', 'test_model'], { cwd: EXAMPLE, encoding: 'utf8' });
    expect(r.stderr).toMatch(/Ran 5 tests[\s\S]*OK/);
    expect(r.status).toBe(0);
  });

  itTorch(
    `trains at smoke size as a sweep's program: TARFlow metrics, ‖μ_c‖, images, checkpoints in SQLite${why}`,
    async () => {
      world = createWorld();
      const file = writeSweep(
        world,
        'torch-smoke',
        `name: torch-smoke
program: [${PYTHON}, ${path.join(EXAMPLE, 'train.py')}]
base:
  device: cpu
  model: { preset: test }
  train: { steps: 20, batch_size: 16, warmup_steps: 2, metrics_every_steps: 5 }
  eval: { every_steps: 10, examples: 50, batch_size: 50, samples_per_class: 1, consistency_samples_per_class: 2, final_consistency_samples_per_class: 5 }
  checkpoint: { every_steps: 10 }
parameters:
  prior.mu_init: { values: [data] }
`,
      );
      const w = world;
      const { runId } = await submitWithOneWorker(w, file);
      await waitFor(
        'the run to finish',
        () => sql<{ status: string }>(w, "SELECT status FROM runs WHERE id = ? AND status NOT IN ('queued', 'running')", runId)[0]?.status,
        120_000,
      );
      expect(sql(w, 'SELECT status, backend, error FROM runs WHERE id = ?', runId)).toEqual([{ status: 'succeeded', backend: 'program', error: null }]);
      const names = sql<{ name: string; n: number }>(w, 'SELECT name, count(*) AS n FROM metrics WHERE run_id = ? GROUP BY name ORDER BY name', runId);
      expect(Object.fromEntries(names.map((r) => [r.name, r.n]))).toMatchObject({
        loss: 4,
        bpd: 4,
        grad_norm: 4,
        'eval/nll': 2,
        'eval/bpd': 2,
        'eval/accuracy': 2,
        mu_norm: 5,
      });
      expect(sql(w, 'SELECT step, count(*) AS classes FROM mu_norms WHERE run_id = ? GROUP BY step ORDER BY step', runId)).toEqual(
        [0, 5, 10, 15, 20].map((step) => ({ step, classes: 10 })),
      );
      expect(sql(w, 'SELECT step FROM checkpoints WHERE run_id = ? ORDER BY step', runId)).toEqual([{ step: 10 }, { step: 20 }]);
      expect(sql(w, 'SELECT step, kind FROM artifacts WHERE run_id = ? AND kind <> ? ORDER BY step, kind', runId, 'log')).toEqual(
        [10, 20].flatMap((step) => ['mu', 'samples', 'samples-denoised'].map((kind) => ({ step, kind }))),
      );
      // its samples, labelled by the worker's two digit judges: 2 per class, 5 at the final eval
      expect(
        sql(
          w,
          "SELECT step, name FROM metrics WHERE run_id = ? AND name LIKE 'eval/consistency/%' AND name NOT LIKE '%/deep' AND name NOT LIKE '%/shallow' ORDER BY step, name",
          runId,
        ),
      ).toEqual([10, 20].flatMap((step) => ['denoised/t1.0', 'raw/t0.7', 'raw/t1.0'].map((tag) => ({ step, name: `eval/consistency/${tag}` }))));
      expect(
        sql(
          w,
          "SELECT step, sum(count) AS n FROM confusion WHERE run_id = ? AND judge = 'deep' AND kind = 'raw' AND temperature = 1 GROUP BY step ORDER BY step",
          runId,
        ),
      ).toEqual([
        { step: 10, n: 20 },
        { step: 20, n: 50 },
      ]);
    },
    240_000,
  );
});
