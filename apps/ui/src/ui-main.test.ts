import { afterEach, describe, expect, it } from '@jest/globals';
import { liveSweep, type UiFixture } from './test-utils/fixture';
import { SCRIPTS, start, waitFor, type Proc } from '@ablate/test-utils';

let f: UiFixture;
let procs: Proc[] = [];
afterEach(async () => {
  for (const p of procs) p.child.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.exited));
  procs = [];
  f.cleanup();
});

function ui(args: string[]): Proc {
  const p = start(
    { dir: f.dir, prefix: 'unused', procs: [], env: { ...process.env, SWEEP_DB: f.db, ARTIFACT_DIR: f.artifactDir, LOG_FORMAT: 'json' } },
    SCRIPTS.ui,
    args,
  );
  procs.push(p);
  return p;
}

describe('pnpm ui', () => {
  it('binds to 127.0.0.1 by default, silently', async () => {
    f = liveSweep();
    const p = ui(['--port', '0']);
    const url = await waitFor('listening', () => p.output().match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1], 30_000);
    expect(((await (await fetch(`${url}/api/sweeps`)).json()) as { id: string }[]).map((s) => s.id)).toEqual(['live']);
    expect(p.output()).not.toContain('warning');
  });

  it('any other host needs the flag and prints a warning', async () => {
    f = liveSweep();
    const p = ui(['--port', '0', '--host', '0.0.0.0']);
    await waitFor('listening', () => /listening on http:\/\/0\.0\.0\.0:\d+/.test(p.output()), 30_000);
    expect(p.output()).toContain('warning: --host 0.0.0.0: the page is served to every machine that reaches this one, with no login');
  });

  it('a missing database or a bad port is a usage error, not a stack trace', async () => {
    f = liveSweep();
    const bad = start({ dir: f.dir, prefix: 'unused', procs: [], env: { ...process.env, SWEEP_DB: `${f.dir}/nope.db` } }, SCRIPTS.ui, []);
    expect((await bad.exited).code).toBe(2);
    expect(bad.output()).toContain('no sweep database at');
    const port = ui(['--port', 'x']);
    expect((await port.exited).code).toBe(2);
    expect(port.output()).toContain('--port: expected a port number');
    expect(port.output()).not.toContain('    at ');
  });
});
