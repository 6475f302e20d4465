import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseProgramEvent, ProgramEventError } from './program-events';

const root = mkdtempSync(path.join(tmpdir(), 'program-events-'));
const runDir = path.join(root, 'run');
mkdirSync(runDir);
symlinkSync(tmpdir(), path.join(runDir, 'link'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const parse = (line: string) => parseProgramEvent(line, 7, runDir);
const errorOf = (line: string): ProgramEventError => {
  try {
    parse(line);
  } catch (err: unknown) {
    if (err instanceof ProgramEventError) return err;
    throw err;
  }
  throw new Error('expected a ProgramEventError');
};

describe('parseProgramEvent', () => {
  it('reads metrics (NaN and infinities as null or strings), checkpoints and artifacts, resolving paths in the run folder', () => {
    expect(parse('{"step": 100, "metrics": {"loss": 0.31, "eval/nll": -0.61, "gn": null, "x": "Infinity"}, "total_steps": 1000}')).toEqual({
      type: 'metrics',
      step: 100,
      metrics: [
        { name: 'loss', value: 0.31 },
        { name: 'eval/nll', value: -0.61 },
        { name: 'gn', value: NaN },
        { name: 'x', value: Infinity },
      ],
      totalSteps: 1000,
    });
    expect(parse('{"step": 250, "checkpoint": "checkpoints/step-250.pt"}')).toEqual({
      type: 'checkpoint',
      step: 250,
      path: path.join(runDir, 'checkpoints', 'step-250.pt'),
    });
    expect(parse('{"step": 250, "checkpoint": "c.pt", "keep": 2}')).toEqual({ type: 'checkpoint', step: 250, path: path.join(runDir, 'c.pt'), keep: 2 });
    expect(errorOf('{"step": 250, "checkpoint": "c.pt", "keep": 0}').message).toBe(
      'event line 7: keep: expected an integer ≥ 1 (how many of the newest reported checkpoints to keep), got 0',
    );
    expect(parse(`{"step": 250, "artifact": "samples", "path": "${path.join(runDir, 'a.png')}"}`)).toEqual({
      type: 'artifact',
      step: 250,
      kind: 'samples',
      path: path.join(runDir, 'a.png'),
    });
  });

  it('reads samples for the judges: shape, kind (raw by default) and temperature (1 by default)', () => {
    expect(parse('{"step": 3000, "samples": "samples/a.f32", "shape": [1000, 28, 28, 1], "kind": "denoised", "temperature": 0.7}')).toEqual({
      type: 'samples',
      step: 3000,
      path: path.join(runDir, 'samples', 'a.f32'),
      shape: [1000, 28, 28, 1],
      kind: 'denoised',
      temperature: 0.7,
    });
    expect(parse('{"step": 3, "samples": "a.f32", "shape": [10, 28, 28, 1]}')).toMatchObject({ kind: 'raw', temperature: 1 });
    expect(errorOf('{"step": 3, "samples": "a.f32", "shape": [10, 28, 28]}').message).toBe(
      'event line 7: shape: expected [N, height, width, channels] of integers ≥ 1, got "[10,28,28]"',
    );
    expect(errorOf('{"step": 3, "samples": "a.f32", "shape": [10, 28, 28, 1], "kind": "noisy"}').message).toBe(
      'event line 7: kind: expected "raw" or "denoised", got "noisy"',
    );
    expect(errorOf('{"step": 3, "samples": "a.f32", "shape": [10, 28, 28, 1], "temperature": 0}').message).toBe(
      'event line 7: temperature: expected a number > 0, got 0',
    );
    expect(errorOf('{"step": 3, "samples": "../a.f32", "shape": [10, 28, 28, 1]}').outside).toBe(true);
  });

  it('names the line and what is wrong', () => {
    expect(errorOf('not json').message).toBe('event line 7: expected one JSON object per line, got "not json"');
    expect(errorOf('[1]').message).toBe('event line 7: expected a JSON object such as {"step": 1, "metrics": {"loss": 0.5}}, got "[1]"');
    expect(errorOf('{"metrics": {"loss": 1}}').message).toBe('event line 7: step: expected an integer ≥ 0, got nothing');
    expect(errorOf('{"step": -1, "metrics": {"loss": 1}}').message).toBe('event line 7: step: expected an integer ≥ 0, got -1');
    expect(errorOf('{"step": 1}').message).toBe(
      'event line 7: expected exactly one of "metrics", "checkpoint", "artifact", "mu_norms", "samples", got none in "{\\"step\\": 1}"',
    );
    expect(parse('{"step": 5, "mu_norms": [1, null, 2.5]}')).toEqual({ type: 'mu-norms', step: 5, norms: [1, NaN, 2.5] });
    expect(errorOf('{"step": 5, "mu_norms": []}').message).toBe('event line 7: mu_norms: expected a non-empty list of numbers (one per class), got "[]"');
    expect(errorOf('{"step": 1, "metrics": {"loss": "low"}}').message).toBe(
      'event line 7: metrics.loss: expected a number (or null, "NaN", "Infinity", "-Infinity"), got "low"',
    );
    expect(errorOf('{"step": 1, "metrics": {"a b": 1}}').message).toBe(
      'event line 7: metrics: expected names of letters, digits and _ . / : - (such as "eval/nll"), got "a b"',
    );
    expect(errorOf('{"step": 1, "artifact": "Samples!", "path": "a.png"}').message).toBe(
      'event line 7: artifact: expected a kind of a-z, 0-9, _ . - (such as "samples"), got "Samples!"',
    );
    expect(errorOf('{"step": 1, "checkpoint": "x", "metrics": {"a": 1}}').outside).toBe(false);
  });

  it('refuses paths that lead out of the run folder, through .. or a symlink', () => {
    for (const p of ['../escape.pt', '/etc/passwd', 'link/x.pt', 'a/../../b']) {
      const err = errorOf(`{"step": 1, "checkpoint": "${p}"}`);
      expect(err.outside).toBe(true);
      expect(err.message).toBe(
        `event line 7: checkpoint: refused "${p}": it is outside the run folder ${runDir} (ABLATE_RUN_DIR); write checkpoints and artifacts inside it`,
      );
    }
    expect(errorOf('{"step": 1, "artifact": "samples", "path": "../x.png"}').outside).toBe(true);
  });
});
