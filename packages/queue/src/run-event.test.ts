import { describe, expect, it } from '@jest/globals';
import { decodeEvent, encodeEvent, EVENT_FIELD, parseRunEvent, type RunEvent } from './run-event';
import { SpecError } from './spec-error';

const SHA = 'a'.repeat(64);
const EVENTS: RunEvent[] = [
  {
    kind: 'run-started',
    runId: 'r1',
    attempt: 2,
    host: 'gpu-3',
    workerId: 'gpu-3:41:0',
    backend: 'wasm',
    device: 'cpu (wasm simd)',
    resumeFrom: 500,
    at: 1_700_000_000_000,
  },
  { kind: 'run-started', runId: 'r1', attempt: 1, host: 'h', workerId: 'w', backend: 'cpu', device: 'cpu', resumeFrom: null, at: 1_700_000_000_000 },
  {
    kind: 'metrics',
    runId: 'r1',
    rows: [
      { step: 10, name: 'loss', value: 1.25 },
      { step: 10, name: 'grad_norm', value: NaN },
      { step: 10, name: 'x', value: -Infinity },
    ],
  },
  { kind: 'mu-norms', runId: 'r1', step: 0, norms: [0.5, 1, Infinity] },
  { kind: 'checkpoint', runId: 'r1', step: 500, uri: '/a/ckpt-500', bytes: 123456, sha256: SHA },
  { kind: 'artifact', runId: 'r1', step: 500, artifact: 'samples-denoised', uri: '/a/img.png' },
  { kind: 'run-finished', runId: 'r1', status: 'succeeded', finalStep: 3000, elapsedMs: 5000, at: 1_700_000_005_000 },
  { kind: 'run-finished', runId: 'r1', status: 'failed', finalStep: 12, error: 'boom', at: 1_700_000_005_000 },
];

function specError(fn: () => unknown): SpecError {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof SpecError) return err;
    throw err;
  }
  throw new Error('expected a SpecError');
}

describe('event encoding', () => {
  it('round-trips every kind, including NaN and ±Infinity', () => {
    for (const e of EVENTS) {
      expect(decodeEvent([EVENT_FIELD, encodeEvent(e)])).toEqual(e);
      expect(decodeEvent(encodeEvent(e))).toEqual(e);
    }
  });

  it('writes non-finite numbers as strings JSON can hold', () => {
    expect(encodeEvent({ kind: 'mu-norms', runId: 'r', step: 1, norms: [NaN, Infinity, 1] })).toBe(
      '{"kind":"mu-norms","runId":"r","step":1,"norms":["NaN","Infinity",1]}',
    );
  });

  it('drops unknown keys (a newer worker may send more)', () => {
    expect(parseRunEvent({ kind: 'artifact', runId: 'r', step: 1, artifact: 'mu', uri: 'u', extra: 1 })).toEqual({
      kind: 'artifact',
      runId: 'r',
      step: 1,
      artifact: 'mu',
      uri: 'u',
    });
  });
});

describe('garbage is rejected with a reason', () => {
  it.each<[string, readonly string[] | string, string]>([
    ['no e field', ['x', '1', 'y', '2'], 'event 1-0 e: expected a stream field "e" holding the event JSON, got fields "x", "y"'],
    ['not JSON', ['e', '{"kind":'], 'event 1-0 e: expected JSON, got "{\\"kind\\":"'],
    ['not an object', ['e', '[1,2]'], 'event 1-0 (top level): expected an event object, got a list'],
    [
      'unknown kind',
      ['e', '{"kind":"hello","runId":"r"}'],
      'event 1-0 kind: expected one of run-started, metrics, mu-norms, confusion, checkpoint, artifact, run-released, run-finished, got "hello"',
    ],
    [
      'no kind',
      ['e', '{"runId":"r"}'],
      'event 1-0 kind: expected one of run-started, metrics, mu-norms, confusion, checkpoint, artifact, run-released, run-finished, got nothing',
    ],
  ])('%s', (_what, entry, message) => {
    expect(specError(() => decodeEvent(entry, 'event 1-0')).message.startsWith(message)).toBe(true);
  });

  it('names the bad field inside a list and says what it got', () => {
    const json = JSON.stringify({
      kind: 'metrics',
      runId: 'r',
      rows: [
        { step: 1, name: 'loss', value: 1 },
        { step: -1, name: 'loss', value: 'high' },
      ],
    });
    const err = specError(() => decodeEvent(['e', json], 'event 7-0'));
    expect(err.message.split('\n')).toEqual([
      'event 7-0 rows[1].step: expected a step (an integer ≥ 0), got -1',
      'event 7-0 rows[1].value: expected a number (or "NaN", "Infinity", "-Infinity"), got "high"',
    ]);
    expect(err.issues.map((i) => i.field)).toEqual(['rows[1].step', 'rows[1].value']);
  });

  it('checks the fields of each kind', () => {
    expect(() => parseRunEvent({ kind: 'run-finished', runId: 'r', status: 'exploded', finalStep: 1, at: 1 })).toThrow(
      'event status: expected one of succeeded, failed, cancelled, diverged, got "exploded"',
    );
    expect(() => parseRunEvent({ kind: 'confusion', runId: 'r', step: 1, matrix: [[1, 2], [3]] })).toThrow(
      'event matrix: expected a square matrix of counts (one row and one column per class)',
    );
    expect(() =>
      parseRunEvent({
        kind: 'confusion',
        runId: 'r',
        step: 1,
        matrix: [
          [1, -2],
          [3, 4],
        ],
      }),
    ).toThrow('event matrix[0][1]: expected a count (an integer ≥ 0), got -2');
    expect(
      parseRunEvent({
        kind: 'confusion',
        runId: 'r',
        step: 1,
        matrix: [
          [1, 2],
          [3, 4],
        ],
      }),
    ).toEqual({
      kind: 'confusion',
      runId: 'r',
      step: 1,
      matrix: [
        [1, 2],
        [3, 4],
      ],
    });
    expect(() => parseRunEvent({ kind: 'checkpoint', runId: 'r', step: 1, uri: 'u', bytes: 1, sha256: 'xyz' })).toThrow(
      'event sha256: expected a sha256 hex digest (64 lowercase hex digits), got "xyz"',
    );
    expect(() =>
      parseRunEvent({ kind: 'run-started', runId: '', attempt: 0, host: 'h', workerId: 'w', backend: 'b', device: 'd', resumeFrom: null, at: 1 }),
    ).toThrow('event runId: expected a run id, got ""\nevent attempt: expected an attempt number ≥ 1, got 0');
  });
});
