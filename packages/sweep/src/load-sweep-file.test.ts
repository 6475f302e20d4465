import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSweepFile, sweepIdOf } from './load-sweep-file';
import { builtinRuns, configErrorOf, errorLines } from './test-utils';

describe('loadSweepFile', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sweep-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads, parses and expands, naming the file in errors as given', () => {
    const file = join(dir, 'a.yaml');
    writeFileSync(file, 'name: a\nparameters:\n  prior.mu_init: { values: [zero, randn] }\n');
    const { spec, runs } = loadSweepFile(file);
    expect(spec.file).toBe(file);
    expect(sweepIdOf(spec)).toBe('a');
    expect(builtinRuns(runs).map((r) => r.config.prior.mu_init)).toEqual(['zero', 'randn']);
    expect(loadSweepFile(file).runs.map((r) => r.runId)).toEqual(runs.map((r) => r.runId));

    writeFileSync(file, 'name: a\nparameters:\n  prior.mu_init: { values: [zero, zero] }\n');
    expect(errorLines(() => loadSweepFile(file))[0]).toMatch(
      new RegExp(`^${file.replace(/[.\\/]/g, '\\$&')}:3:35 parameters\\.prior\\.mu_init\\.values\\[1\\]: duplicate run`),
    );
  });

  it('a missing or unreadable file is a ConfigError naming it', () => {
    const missing = join(dir, 'nope.yaml');
    const err = configErrorOf(() => loadSweepFile(missing));
    expect(err.message).toBe(`${missing}:1:1 (top level): cannot read the sweep file: no such file (ENOENT)`);
    expect(err.cause).toHaveProperty('code', 'ENOENT');
    expect(errorLines(() => loadSweepFile(dir))).toEqual([`${dir}:1:1 (top level): cannot read the sweep file: is a directory, not a file (EISDIR)`]);
  });
});
