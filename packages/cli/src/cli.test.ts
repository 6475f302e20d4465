import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isUserError, sweepDbPath, UsageError } from './index';

class ConfigishError extends Error {}

/** Runs runMain from the built package in a child, so that its process.exit is real. */
function runChild(body: string): { status: number | null; stderr: string } {
  const dist = path.resolve(__dirname, '..', 'dist', 'index.js');
  const script = `const { runMain, UsageError } = require(${JSON.stringify(dist)}); class ConfigishError extends Error {}\n${body}`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

describe('isUserError', () => {
  it("knows UsageError, parseArgs' errors and the classes a command names; nothing else", () => {
    let parseErr: unknown;
    try {
      parseArgs({ args: ['--nope'], options: {} });
    } catch (err) {
      parseErr = err;
    }
    expect(isUserError(new UsageError('x'))).toBe(true);
    expect(isUserError(parseErr)).toBe(true);
    expect(isUserError(new ConfigishError('x'))).toBe(false);
    expect(isUserError(new ConfigishError('x'), [ConfigishError])).toBe(true);
    expect(isUserError(new TypeError('x'), [ConfigishError])).toBe(false);
    expect(isUserError('a string')).toBe(false);
  });
});

describe('runMain', () => {
  it('exit code of main; a user error prints its message alone and exits 2; a bug prints its stack and exits 1', () => {
    expect(runChild('runMain(async () => 3);')).toEqual({ status: 3, stderr: '' });
    expect(runChild("runMain(async () => { throw new UsageError('--workers: expected an integer'); });")).toEqual({ status: 2, stderr: '--workers: expected an integer\n' });
    expect(runChild("runMain(async () => { throw new ConfigishError('sweep.yaml:3:5 lr: expected a number'); }, [ConfigishError]);")).toEqual({ status: 2, stderr: 'sweep.yaml:3:5 lr: expected a number\n' });
    const bug = runChild("runMain(async () => { throw new TypeError('undefined is not a function'); }, [ConfigishError]);");
    expect(bug.status).toBe(1);
    expect(bug.stderr).toMatch(/^TypeError: undefined is not a function\n\s+at /);
  });
});

describe('sweepDbPath', () => {
  it('SWEEP_DB, else ./data/ablate.db, always absolute', () => {
    expect(sweepDbPath({})).toBe(path.resolve('data', 'ablate.db'));
    expect(sweepDbPath({ SWEEP_DB: 'x/y.db' })).toBe(path.resolve('x/y.db'));
    expect(sweepDbPath({ SWEEP_DB: '' })).toBe(path.resolve('data', 'ablate.db'));
  });
});
