import { afterEach, describe, expect, it } from '@jest/globals';
import { openStore } from '@ablate/store';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createUiServer } from './server';
import { liveSweep, type UiFixture } from './test-utils/fixture';

let f: UiFixture;
let close: (() => Promise<void>) | null = null;
afterEach(async () => {
  await close?.();
  close = null;
  f.cleanup();
});

async function server(opts: { cancel?: boolean } = {}) {
  const calls: string[] = [];
  const { app } = await createUiServer({
    dbPath: f.db,
    artifactDir: f.artifactDir,
    pollMs: 50,
    ...(opts.cancel
      ? { cancel: async (id: string, runs: { id: string }[]) => (calls.push(`${id}:${runs.map((r) => r.id).join(',')}`), { removed: runs.length, running: 0 }) }
      : {}),
  });
  close = () => app.close();
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  /** A real HTTP request (fastify's inject needs an ESM-only module jest cannot load on Node 20). */
  const inject = async (req: string | { method: string; url: string }) => {
    const { method, url } = typeof req === 'string' ? { method: 'GET', url: req } : req;
    const res = await fetch(`${base}${url}`, { method });
    const rawPayload = Buffer.from(await res.arrayBuffer());
    const body = rawPayload.toString('utf8');
    return {
      statusCode: res.status,
      headers: { 'content-type': res.headers.get('content-type') ?? '' },
      rawPayload,
      body,
      json: () => JSON.parse(body) as unknown,
    };
  };
  return { app: { inject }, base, calls };
}

describe('pnpm ui server', () => {
  it('lists sweeps, and gives a sweep its runs, chart specs from the report, points and images', async () => {
    f = liveSweep();
    const { app } = await server();
    const sweeps = (await app.inject('/api/sweeps')).json() as unknown as { id: string; counts: { running: number; queued: number } }[];
    expect(sweeps.map((s) => [s.id, s.counts.running, s.counts.queued])).toEqual([['live', 1, 1]]);
    const snap = (await app.inject('/api/sweeps/live')).json() as unknown as {
      runs: { runId: string; step: number; status: string }[];
      charts: { key: string; spec: { title: string; data: unknown } }[];
      points: Record<string, unknown[]>;
      images: { url: string }[];
      allowCancel: boolean;
    };
    expect(snap.runs.map((r) => [r.runId, r.status, r.step])).toEqual([
      ['r-0', 'running', 10],
      ['r-1', 'queued', 0],
    ]);
    expect(snap.charts.map((c) => c.key)).toEqual(['muNorm', 'loss', 'nll', 'consistency']);
    expect(snap.charts[1]?.spec).toMatchObject({ title: 'Training loss (NLL, nats/dim)', data: { name: 'series' } });
    expect(snap.points.loss).toEqual([
      { variant: 'mu_init=zero', step: 5, value: 2 },
      { variant: 'mu_init=zero', step: 10, value: 1.5 },
    ]);
    expect(snap.allowCancel).toBe(false);
    const img = await app.inject(snap.images[0]?.url ?? '/nope');
    expect(img.statusCode).toBe(200);
    expect(img.headers['content-type']).toBe('image/png');
    expect(img.rawPayload.subarray(1, 4).toString()).toBe('PNG');
    expect((await app.inject('/api/sweeps/nope')).statusCode).toBe(404);
    const log = (await app.inject('/api/runs/r-0')).json() as unknown as { lines: { text: string }[] };
    expect(log.lines.map((l) => l.text)).toEqual(
      expect.arrayContaining([
        'queued',
        expect.stringMatching(/^attempt 1 started on w1 @ h \(wasm, CPU \(wasm\)\), from scratch$/),
        expect.stringMatching(/^image samples: /),
      ]),
    );
    expect((await app.inject('/vendor/vega-embed.min.js')).statusCode).toBe(200);
    expect((await app.inject('/vendor/../../package.json')).statusCode).toBe(404);
  });

  it('pushes diffs over server-sent events as the recorder writes: a changed run and only the new points', async () => {
    f = liveSweep();
    const { base } = await server();
    const res = await fetch(`${base}/api/sweeps/live/events`);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const nextEvent = async (name: string): Promise<Record<string, unknown>> => {
      for (;;) {
        const m = text.match(new RegExp(`event: ${name}\\ndata: (.*)\\n\\n`));
        if (m && m.index !== undefined) {
          text = text.slice(m.index + m[0].length);
          return JSON.parse(m[1] ?? '{}') as Record<string, unknown>;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        text += Buffer.from(value).toString('utf8');
      }
    };
    const snap = await nextEvent('snapshot');
    expect((snap.runs as unknown[]).length).toBe(2);
    f.record([{ kind: 'metrics', runId: 'r-0', rows: [{ step: 15, name: 'loss', value: 1.2 }] }]);
    const diff = await nextEvent('diff');
    expect((diff.runs as { runId: string; step: number }[]).map((r) => [r.runId, r.step])).toEqual([['r-0', 15]]);
    expect(diff.points).toEqual({ loss: [{ variant: 'mu_init=zero', step: 15, value: 1.2 }] });
    await reader.cancel();
  });

  it('never serves a file outside ARTIFACT_DIR, even when the database names one', async () => {
    f = liveSweep();
    const secret = path.join(f.dir, 'secret.png');
    writeFileSync(secret, 'SECRET-CONTENT');
    mkdirSync(path.join(f.artifactDir, 'runs', 'r-1'), { recursive: true });
    const link = path.join(f.artifactDir, 'runs', 'r-1', 'link.png');
    symlinkSync(secret, link);
    const linkedDir = path.join(f.artifactDir, 'outside');
    symlinkSync(f.dir, linkedDir);
    const store = openStore(f.db);
    const ins = store.sqlite.prepare('INSERT INTO artifacts (run_id, step, kind, uri) VALUES (?, ?, ?, ?)');
    const named = [
      secret,
      path.join(f.artifactDir, '..', 'secret.png'),
      '../secret.png',
      link,
      path.join(linkedDir, 'secret.png'),
      '/etc/passwd',
      f.artifactDir,
    ];
    named.forEach((uri, i) => ins.run('r-1', i, 'samples', uri));
    store.close();
    const { app } = await server();
    for (let i = 0; i < named.length; i++) {
      const r = await app.inject(`/artifacts/r-1/samples/${i}`);
      expect({ uri: named[i], status: r.statusCode }).toEqual({ uri: named[i], status: 404 });
      expect(r.body).not.toContain('SECRET');
      expect(r.body).not.toContain('root:');
    }
    // Nor a path in the URL: artifacts are looked up by (run, kind, step), the URL carries no path.
    for (const url of [
      '/artifacts/r-1/samples/..%2F..%2Fsecret.png',
      '/artifacts/..%2F..%2Fsecret.png',
      '/static/..%2F..%2Fpackage.json',
      '/static/%2Fetc%2Fpasswd',
    ]) {
      const r = await app.inject(url);
      expect({ url, status: r.statusCode }).toEqual({ url, status: 404 });
    }
  });

  it('cancels only with --allow-cancel', async () => {
    f = liveSweep();
    const off = await server();
    const denied = await off.app.inject({ method: 'POST', url: '/api/sweeps/live/cancel' });
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toEqual({ error: 'cancelling is off: start pnpm ui with --allow-cancel' });
    await close?.();
    const on = await server({ cancel: true });
    const ok = await on.app.inject({ method: 'POST', url: '/api/sweeps/live/cancel' });
    expect(ok.json()).toEqual({ removed: 2, running: 0 });
    expect(on.calls).toEqual(['live:r-0,r-1']);
    expect((await on.app.inject('/')).body).toContain('window.ABLATE_ALLOW_CANCEL = true;');
  });
});
