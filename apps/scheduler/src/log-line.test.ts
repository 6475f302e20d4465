import { describe, expect, it } from '@jest/globals';
import { readableLogLine } from './log-line';

describe('readableLogLine', () => {
  it('turns a worker error record into one line: message, first line of the error, retry, run', () => {
    const line = JSON.stringify({
      level: 50,
      time: 1,
      pid: 7,
      name: 'worker',
      runId: 'r-abc',
      retry: true,
      err: { type: 'OutOfMemoryError', message: 'out of memory in the wasm backend\n    at x', stack: 'OutOfMemoryError: …' },
      msg: 'run failed',
    });
    expect(readableLogLine(line)).toBe('run failed: out of memory in the wasm backend (will retry) [run r-abc]');
  });

  it('leaves anything that is not a pino record as it is', () => {
    expect(readableLogLine('Segmentation fault')).toBe('Segmentation fault');
    expect(readableLogLine('{"no":"msg"}')).toBe('{"no":"msg"}');
  });
});
