import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { createLogger, runLogger } from './logger';

function capture() {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { stream, lines };
}

describe('createLogger', () => {
  it('writes JSON lines with name, level and fields when not pretty', async () => {
    const { stream, lines } = capture();
    const log = createLogger({ name: 'worker', pretty: false, destination: stream, level: 'debug' });
    log.debug({ step: 3, loss: 1.5 }, 'train step');
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ name: 'worker', level: 20, step: 3, loss: 1.5, msg: 'train step' });
  });

  it('child loggers carry the run fields on every line', async () => {
    const { stream, lines } = capture();
    const log = runLogger(createLogger({ name: 'worker', pretty: false, destination: stream }), { runId: 'r-abc', jobId: 'r-abc', attempt: 2 });
    log.info('run started');
    log.child({ phase: 'eval' }).info({ nll: 1.2 }, 'eval');
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => l.runId)).toEqual(['r-abc', 'r-abc']);
    expect(lines[1]).toMatchObject({ phase: 'eval', attempt: 2, nll: 1.2 });
  });

  it('serialises errors under err with message and stack', async () => {
    const { stream, lines } = capture();
    createLogger({ name: 'x', pretty: false, destination: stream }).error({ err: new Error('boom') }, 'run failed');
    await new Promise((r) => setImmediate(r));
    const err = lines[0]?.err as { message: string; stack: string };
    expect(err.message).toBe('boom');
    expect(err.stack).toContain('Error: boom');
  });

  it('respects the level', async () => {
    const { stream, lines } = capture();
    const log = createLogger({ name: 'x', pretty: false, destination: stream, level: 'warn' });
    log.info('hidden');
    log.warn('shown');
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => l.msg)).toEqual(['shown']);
  });
});
