import type { Logger } from '@ablate/log';
import { dataVersion, findArtifact, findSweepId, openStore, runProgressBySweep, type Store } from '@ablate/store';
import Fastify, { type FastifyInstance } from 'fastify';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { confinedFile } from './confine';
import { runLog, SweepFeed, sweepsList } from './sweep-feed';

export interface UiServerOptions {
  /** The sweep database (opened read-only). */
  dbPath: string;
  /** Images are served only from inside this folder. */
  artifactDir: string;
  /** Present only with --allow-cancel: cancels a sweep the way `pnpm cancel` does. */
  cancel?: (sweepId: string, runs: { id: string; status: string }[]) => Promise<{ removed: number; running: number }>;
  /** How often the database is checked for new commits (data_version: one pragma, no read when nothing changed). */
  pollMs?: number;
  log?: Logger;
}

const PUBLIC = path.resolve(__dirname, '..', 'public');

/** A browser build of a package (vega, vega-lite, vega-embed ship UMD files under build/): served from node_modules, never a CDN. */
function vendorFile(pkg: string, file: string): string {
  for (const dir of require.resolve.paths(pkg) ?? []) {
    const p = path.join(dir, pkg, 'build', file);
    if (existsSync(p)) return p;
  }
  throw new Error(`cannot find ${pkg}/build/${file} in node_modules (run pnpm install)`);
}

const VENDOR: Record<string, string> = {
  'vega.min.js': vendorFile('vega', 'vega.min.js'),
  'vega-lite.min.js': vendorFile('vega-lite', 'vega-lite.min.js'),
  'vega-embed.min.js': vendorFile('vega-embed', 'vega-embed.min.js'),
};

const STATIC: Record<string, string> = { 'app.js': 'text/javascript; charset=utf-8', 'style.css': 'text/css; charset=utf-8' };

/**
 * The read-only web server of `pnpm ui`. Every route reads SQLite through @ablate/store; the only writes anywhere are
 * the optional cancel (Redis, like `pnpm cancel`). Live updates: one timer polls the database's data_version and, when
 * another connection committed, each open event stream (one per page) sends what changed for its sweep.
 */
export async function createUiServer(opts: UiServerOptions): Promise<{ app: FastifyInstance; store: Store }> {
  const store = openStore(opts.dbPath, { readonly: true });
  const app = Fastify({ logger: false });
  const listeners = new Set<() => void>();
  let version = dataVersion(store);
  let lastTick = Date.now();
  const timer = setInterval(() => {
    const v = dataVersion(store);
    // Changes, or every 5 s anyway: running runs' ETAs move with time alone.
    if (v === version && Date.now() - lastTick < 5000) return;
    version = v;
    lastTick = Date.now();
    for (const l of listeners) {
      try {
        l();
      } catch (err) {
        opts.log?.warn({ err }, 'live update failed');
      }
    }
  }, opts.pollMs ?? 500);
  app.addHook('onClose', async () => {
    clearInterval(timer);
    store.close();
  });

  const html = readFileSync(path.join(PUBLIC, 'index.html'), 'utf8').replace('__ALLOW_CANCEL__', opts.cancel ? 'true' : 'false');
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html));
  app.get<{ Params: { file: string } }>('/static/:file', async (req, reply) => {
    const type = STATIC[req.params.file];
    if (type === undefined) return reply.code(404).send({ error: 'not found' });
    return reply.type(type).send(createReadStream(path.join(PUBLIC, req.params.file)));
  });
  app.get<{ Params: { file: string } }>('/vendor/:file', async (req, reply) => {
    const file = VENDOR[req.params.file];
    if (file === undefined) return reply.code(404).send({ error: 'not found' });
    return reply.type('text/javascript; charset=utf-8').header('cache-control', 'max-age=3600').send(createReadStream(file));
  });

  app.get('/api/sweeps', async () => sweepsList(store));

  app.get<{ Params: { id: string } }>('/api/sweeps/:id', async (req, reply) => {
    const id = findSweepId(store, req.params.id);
    const snap = id === undefined ? null : new SweepFeed(store, id).snapshot();
    if (snap === null) return reply.code(404).send({ error: `no sweep "${req.params.id}"` });
    return { ...snap, allowCancel: opts.cancel !== undefined };
  });

  app.get<{ Params: { id: string } }>('/api/runs/:id', async (req, reply) => {
    const log = runLog(store, req.params.id);
    if (log === null) return reply.code(404).send({ error: `no run "${req.params.id}"` });
    return log;
  });

  /** Server-sent events for one sweep: `snapshot` first, then `diff` events as the recorder writes. */
  app.get<{ Params: { id: string } }>('/api/sweeps/:id/events', (req, reply) => {
    const id = findSweepId(store, req.params.id);
    if (id === undefined) return reply.code(404).send({ error: `no sweep "${req.params.id}"` });
    const feed = new SweepFeed(store, id);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    send('snapshot', { ...feed.snapshot(), allowCancel: opts.cancel !== undefined });
    const listener = () => {
      const d = feed.diff();
      if (d !== null) send('diff', d);
      else res.write(': keep-alive\n\n');
    };
    listeners.add(listener);
    req.raw.on('close', () => listeners.delete(listener));
    return reply;
  });

  /** An image the database recorded for a run, served only if it resolves to a file inside ARTIFACT_DIR. */
  app.get<{ Params: { run: string; kind: string; step: string } }>('/artifacts/:run/:kind/:step', async (req, reply) => {
    const a = findArtifact(store, req.params.run, req.params.kind, Number(req.params.step));
    if (a === undefined) return reply.code(404).send({ error: 'no such artifact' });
    const file = confinedFile(opts.artifactDir, a.uri);
    if (file === null) {
      opts.log?.warn({ runId: a.runId, uri: a.uri, artifactDir: opts.artifactDir }, 'artifact path outside ARTIFACT_DIR (or missing): not served');
      return reply.code(404).send({ error: 'artifact not found under ARTIFACT_DIR' });
    }
    return reply
      .type(file.endsWith('.png') ? 'image/png' : 'application/octet-stream')
      .header('cache-control', 'no-store')
      .send(createReadStream(file));
  });

  app.post<{ Params: { id: string } }>('/api/sweeps/:id/cancel', async (req, reply) => {
    if (opts.cancel === undefined) return reply.code(403).send({ error: 'cancelling is off: start pnpm ui with --allow-cancel' });
    const id = findSweepId(store, req.params.id);
    if (id === undefined) return reply.code(404).send({ error: `no sweep "${req.params.id}"` });
    const runs = runProgressBySweep(store, id, { status: ['queued', 'running'] }).map((r) => ({ id: r.runId, status: r.status }));
    const result = await opts.cancel(id, runs);
    opts.log?.info({ sweep: id, ...result }, 'sweep cancelled from the ui');
    return result;
  });

  return { app, store };
}
