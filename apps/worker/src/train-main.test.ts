import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DIST, SMOKE_RUN_YAML, tempDir, writeFile } from './test-utils/fixtures';

const TRAIN = path.join(DIST, 'train-main.js');
// One classifier cache for the file, trained (one epoch) by the first run that needs it.
const CLASSIFIERS = tempDir('classifiers-');
const run = (args: string[]) =>
  spawnSync(process.execPath, [TRAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, LOG_FORMAT: 'json', TFJS_BACKEND: 'wasm', CLASSIFIER_DIR: CLASSIFIERS, CLASSIFIER_EPOCHS: '1' },
    timeout: 120_000,
  });

describe('pnpm train', () => {
  it('trains one run and writes metrics, μ norms, eval, images, checkpoints and the result', () => {
    const dir = tempDir('train-cli-');
    const cfg = writeFile(dir, 'run.yaml', SMOKE_RUN_YAML);
    const out = path.join(dir, 'out');
    const r = run(['--config', cfg, '--out', out, '--set', 'train.steps=4']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const metrics = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: number; name: string });
    expect(metrics.filter((m) => m.name === 'loss').map((m) => m.step)).toEqual([2, 4]);
    expect(metrics.some((m) => m.name === 'eval/accuracy' && m.step === 4)).toBe(true);
    const consistency = metrics.find((m) => m.name === 'eval/consistency/raw/t1.0') as { step: number; value: number } | undefined;
    expect(consistency?.step).toBe(4);
    expect(consistency?.value).toBeGreaterThanOrEqual(0);
    expect(consistency?.value).toBeLessThanOrEqual(1);
    expect(readdirSync(CLASSIFIERS).filter((n) => n.startsWith('digit-cnn-'))).toHaveLength(2); // the two judges
    expect(
      metrics
        .filter((m) => m.name.startsWith('eval/judge_accuracy/'))
        .map((m) => m.name)
        .sort(),
    ).toEqual(['eval/judge_accuracy/deep', 'eval/judge_accuracy/shallow']);
    expect(readFileSync(path.join(out, 'mu-norms.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3); // steps 0, 2, 4
    expect(readdirSync(path.join(out, 'images')).sort()).toEqual(['step-00000004-mu.png', 'step-00000004-samples-denoised.png', 'step-00000004-samples.png']);
    expect(readdirSync(path.join(out, 'checkpoints'))).toContain('step-00000004');
    expect(JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8'))).toMatchObject({
      status: 'succeeded',
      step: 4,
      backend: expect.stringMatching(/^wasm(\+blas)?$/),
    });
    // JSON logs with the run id on every line, and the backend named
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { runId?: string; msg: string; backend?: string });
    expect(lines.every((l) => l.runId === 'smoke-run')).toBe(true);
    expect(lines.some((l) => l.backend === 'wasm' || l.backend === 'wasm+blas')).toBe(true);
  });

  it('running the same config again resumes and does not duplicate metric lines', () => {
    const dir = tempDir('train-cli-');
    const cfg = writeFile(dir, 'run.yaml', SMOKE_RUN_YAML);
    const out = path.join(dir, 'out');
    expect(run(['--config', cfg, '--out', out]).status).toBe(0);
    const again = run(['--config', cfg, '--out', out]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('resumed from checkpoint');
    const losses = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: number; name: string })
      .filter((m) => m.name === 'loss');
    expect(losses.map((m) => m.step)).toEqual([2, 4]);
  });

  it('a bad config is a clear error naming file:line:col, with no stack and nothing written', () => {
    const dir = tempDir('train-cli-');
    const cfg = writeFile(dir, 'bad.yaml', 'model:\n  preset: huge\ntrain:\n  steps: -5\n');
    const out = path.join(dir, 'out');
    const r = run(['--config', cfg, '--out', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `${cfg}:2:11 model.preset: expected one of paper, small, tiny, test, got "huge"\n${cfg}:4:10 train.steps: expected a positive integer, got -5\n`,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('a missing config file and a missing --config are usage errors', () => {
    const missing = run(['--config', '/nonexistent/run.yaml']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe('cannot read config file /nonexistent/run.yaml: ENOENT\n');
    const none = run([]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/^--config is required/);
  });
});
