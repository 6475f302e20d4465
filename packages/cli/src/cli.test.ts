import { describe, expect, it, jest } from '@jest/globals';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AblateError, errorMessage, isRetryable, isUserError, runMain, sweepDbPath, UsageError } from './index';

class ConfigishError extends AblateError {
  override readonly retryable = false;
}
class OutOfDiskishError extends AblateError {}

/** Runs runMain with process.exit and stderr captured (in-process: the test needs no build). */
async function run(main: () => Promise<number>): Promise<{ status: number; stderr: string }> {
  let stderr = '';
  const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  let exited!: (code: number) => void;
  const status = new Promise<number>((resolve) => (exited = resolve));
  const exit = jest.spyOn(process, 'exit').mockImplementation(((code?: number) => {
    exited(code ?? 0);
    return undefined as never;
  }) as typeof process.exit);
  try {
    runMain(main);
    return { status: await status, stderr };
  } finally {
    write.mockRestore();
    exit.mockRestore();
  }
}

describe('isUserError', () => {
  it("knows UsageError, parseArgs' errors and every AblateError (or an error marked userError); nothing else", () => {
    let parseErr: unknown;
    try {
      parseArgs({ args: ['--nope'], options: {} });
    } catch (err) {
      parseErr = err;
    }
    expect(isUserError(new UsageError('x'))).toBe(true);
    expect(isUserError(parseErr)).toBe(true);
    expect(isUserError(new ConfigishError('x'))).toBe(true);
    expect(isUserError(Object.assign(new Error('x'), { userError: true }))).toBe(true);
    expect(isUserError(new TypeError('x'))).toBe(false);
    expect(isUserError('a string')).toBe(false);
  });
});

describe('isRetryable and errorMessage', () => {
  it('retries anything not marked retryable: false; a user error reads as its message, anything else with its class', () => {
    expect(isRetryable(new ConfigishError('x'))).toBe(false);
    expect(isRetryable(new UsageError('x'))).toBe(false);
    expect(isRetryable(new OutOfDiskishError('x'))).toBe(true);
    expect(isRetryable(new TypeError('x'))).toBe(true);
    expect(isRetryable('a string')).toBe(true);
    expect(errorMessage(new ConfigishError('run.yaml:1:1 lr: expected a number'))).toBe('run.yaml:1:1 lr: expected a number');
    expect(errorMessage(new TypeError('x is not a function'))).toBe('TypeError: x is not a function');
    expect(errorMessage(42)).toBe('42');
  });
});

describe('runMain', () => {
  it('exit code of main; a user error prints its message alone and exits 2; a bug prints its stack and exits 1', async () => {
    expect(await run(async () => 3)).toEqual({ status: 3, stderr: '' });
    expect(await run(() => Promise.reject(new UsageError('--workers: expected an integer')))).toEqual({
      status: 2,
      stderr: '--workers: expected an integer\n',
    });
    expect(await run(() => Promise.reject(new ConfigishError('sweep.yaml:3:5 lr: expected a number')))).toEqual({
      status: 2,
      stderr: 'sweep.yaml:3:5 lr: expected a number\n',
    });
    const bug = await run(() => Promise.reject(new TypeError('undefined is not a function')));
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
