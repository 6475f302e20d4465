import { runMain, sweepDbPath, UsageError } from '@ablate/cli';
import { createLogger } from '@ablate/log';
import { cancelSweep, queueEnv, redactRedisUrl, redisOptionsFromUrl } from '@ablate/queue';
import { Redis } from 'ioredis';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createUiServer } from './server';

const USAGE = `usage: pnpm ui [--port 8080] [--host 127.0.0.1] [--allow-cancel]

A local, read-only web page over the sweep database (SWEEP_DB, default data/ablate.db) and the images under
ARTIFACT_DIR (default artifacts): the sweeps; per sweep its runs (status, step, ETA, worker), the ‖μ‖, loss,
held-out NLL and class-consistency curves, the newest samples and μ_c images, and each run's recorded events. It updates
live (server-sent events) while the recorder writes.
  --port N         default 8080 (0: any free port)
  --host H         default 127.0.0.1 (this machine only). Anything else, e.g. 0.0.0.0, serves the page to the
                   network, unauthenticated: the command says so.
  --allow-cancel   adds a "Cancel sweep" button (as pnpm cancel; needs REDIS_URL). Off by default: the page is read-only.`;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      'allow-cancel': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\n${USAGE}`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: expected a port number 0–65535, got "${values.port}"`);
  const dbPath = sweepDbPath();
  if (!existsSync(dbPath)) throw new UsageError(`no sweep database at ${dbPath} (set SWEEP_DB, or run a sweep first)`);
  const artifactDir = path.resolve(process.env.ARTIFACT_DIR || 'artifacts');
  const log = createLogger({ name: 'ui' });

  let redis: Redis | null = null;
  const { redisUrl, prefix } = queueEnv();
  const cancel = values['allow-cancel']
    ? async (sweepId: string, runs: { id: string; status: string }[]) => {
        redis ??= new Redis({ ...redisOptionsFromUrl(redisUrl), connectTimeout: 3000 });
        return cancelSweep({ redis, prefix, sweepId, runs, by: 'pnpm ui' });
      }
    : undefined;

  const { app } = await createUiServer({ dbPath, artifactDir, cancel, log });
  await app.listen({ port, host: values.host });
  const bound = app.server.address();
  const boundPort = typeof bound === 'object' && bound !== null ? bound.port : port;
  const hostInUrl = values.host.includes(':') ? `[${values.host}]` : values.host;
  const address = `http://${hostInUrl}:${boundPort}`;
  const openUrl = LOOPBACK.has(values.host) ? address : `http://127.0.0.1:${boundPort}`;
  if (!LOOPBACK.has(values.host)) {
    process.stderr.write(
      `warning: --host ${values.host}: the page is served to every machine that reaches this one, with no login${cancel ? ', and anyone who opens it can cancel sweeps' : ''}\n`,
    );
  }
  log.info(
    { db: dbPath, artifactDir, allowCancel: cancel !== undefined, ...(cancel ? { redis: redactRedisUrl(redisUrl), prefix } : {}) },
    `pnpm ui: open ${openUrl} (Ctrl-C stops it)`,
  );
  // Machine-readable for scripts and tests: the URL on a line of its own.
  process.stdout.write(`listening on ${address}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await app.close();
  if (redis !== null) await (redis as Redis).quit();
  return 0;
}

runMain(() => main(process.argv.slice(2)));
