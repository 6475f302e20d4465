import { afterEach, describe, expect, it } from '@jest/globals';
import { loadDataset } from '@ablate/data';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import {
  createWorld,
  destroyWorld,
  run,
  SCRIPTS,
  sql,
  start,
  submitWithOneWorker,
  trainingPid,
  waitFor,
  waitForCheckpoints,
  writeSweep,
  type Proc,
  type World,
} from './test-utils/harness';

/**
 * A sweep's own training program, run by real workers as external processes (README, "Your own training program"):
 * a dependency-free Python program and a Node one, each using its client helper (clients/).
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const PROGRAMS = path.join(__dirname, 'test-utils', 'programs');
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const LANGS = {
  python: [PYTHON, path.join(PROGRAMS, 'toy_train.py')],
  node: [process.execPath, path.join(PROGRAMS, 'toy-train.js')],
} as const;
const CLIENT_ENV = { ABLATE_CLIENT_PY: path.join(ROOT, 'clients', 'python'), ABLATE_CLIENT_JS: path.join(ROOT, 'clients', 'node', 'ablate-client.js') };

let world: World;
afterEach(async () => {
  await destroyWorld(world);
});

function programSweep(name: string, lang: keyof typeof LANGS, base: Record<string, unknown>, parameters = ''): string {
  return `name: ${name}
program: [${LANGS[lang].map((a) => JSON.stringify(a)).join(', ')}]
base: ${JSON.stringify(base)}
${parameters}`;
}

type RunRow = { id: string; status: string; error: string | null; attempts: number; resumed_from: number | null; backend: string; config_json: string };
const runRow = (w: World, id: string) => sql<RunRow>(w, 'SELECT id, status, error, attempts, resumed_from, backend, config_json FROM runs WHERE id = ?', id)[0];
const lossRows = (w: World, id: string) =>
  sql<{ step: number; value: number }>(w, "SELECT step, value FROM metrics WHERE run_id = ? AND name = 'loss' ORDER BY step", id);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
/** The pid of the program the worker started last ("programPid" in its log). */
const programPid = (worker: Proc): number => {
  const pid = [...worker.output().matchAll(/"programPid":(\d+)/g)].map((m) => Number(m[1])).at(-1);
  if (pid === undefined) throw new Error('no program started yet');
  return pid;
};
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.each(['python', 'node'] as const)('a %s program', (lang) => {
  it('reports every metric once, checkpoints, and resumes from its newest checkpoint after kill -9', async () => {
    world = createWorld(CLIENT_ENV);
    const steps = 60;
    const file = writeSweep(world, 'toy', programSweep('toy', lang, { steps, checkpoint_every: 10, sleep_s: 0.05 }));
    const { worker, runId } = await submitWithOneWorker(world, file);
    await waitForCheckpoints(world, runId, 2);
    const pid = await waitFor('the program pid', () => (worker.output().includes('"programPid"') ? programPid(worker) : null));
    process.kill(pid, 'SIGKILL');
    await waitFor('the run to succeed', () => runRow(world, runId)?.status === 'succeeded', 90_000);

    const r = runRow(world, runId);
    expect(r?.backend).toBe('program');
    expect(r?.attempts).toBe(2);
    expect(r?.resumed_from).toBeGreaterThanOrEqual(20);
    expect(JSON.parse(r?.config_json ?? '{}')).toEqual({
      program: { argv: [...LANGS[lang]], cwd: world.dir },
      config: { steps, checkpoint_every: 10, sleep_s: 0.05 },
    });
    // exactly once, with the values the program computes whatever attempt reported them
    expect(lossRows(world, runId)).toEqual(range(1, steps).map((step) => ({ step, value: 1 / (step + 1) })));
    expect(sql(world, "SELECT count(*) AS n FROM metrics WHERE run_id = ? AND name = 'eval/acc'", runId)).toEqual([{ n: steps }]);
    const checkpoints = sql<{ step: number; bytes: number; sha256: string }>(
      world,
      'SELECT step, bytes, sha256 FROM checkpoints WHERE run_id = ? ORDER BY step',
      runId,
    );
    expect(checkpoints.map((c) => c.step)).toEqual([10, 20, 30, 40, 50, 60]);
    expect(checkpoints.every((c) => c.bytes > 0 && /^[0-9a-f]{64}$/.test(c.sha256))).toBe(true);
    // The client asks to keep 2; the worker deleted the older ones, each once a newer resume point was in Redis.
    expect(readdirSync(path.join(world.env.ARTIFACT_DIR ?? '', 'runs', runId, 'checkpoints')).sort()).toEqual(['step-00000050.json', 'step-00000060.json']);
    const artifacts = sql<{ step: number; kind: string; uri: string }>(world, 'SELECT step, kind, uri FROM artifacts WHERE run_id = ? ORDER BY kind', runId);
    expect(artifacts.map((a) => [a.kind, a.step])).toEqual([
      ['log', 0],
      ['summary', steps],
    ]);
    const log = readFileSync(artifacts[0]?.uri ?? '', 'utf8');
    expect(log).toContain('starting from step 0');
    expect(log).toContain('exited with signal SIGKILL');
    expect(log).toMatch(new RegExp(`resuming from step ${r?.resumed_from ?? -1} `));
    expect(log).toContain('finished');

    // Submitting the same file again runs nothing.
    const again = await run(world, SCRIPTS.sweep, [file, '--detach']);
    expect(again.code).toBe(0);
    expect(again.output).toContain('0 enqueued, 1 already finished');
  }, 150_000);
});

describe('an attached sweep of a program', () => {
  it('starts its local workers (no tfjs preflight of a free-form config) and exits 0 when its runs succeed', async () => {
    world = createWorld(CLIENT_ENV);
    const file = writeSweep(world, 'attached', programSweep('attached', 'node', { steps: 5, checkpoint_every: 10, sleep_s: 0.01, device: 'cpu' }));
    const r = await run(world, SCRIPTS.sweep, [file, '--workers', '1']);
    expect(r.output).not.toContain('cannot start here');
    expect(r.code).toBe(0);
    expect(sql(world, 'SELECT status, backend FROM runs')).toEqual([{ status: 'succeeded', backend: 'program' }]);
  }, 120_000);
});

describe("a program's samples", () => {
  it('are labelled by the two digit judges: consistency metrics per judge, their agreement and the confusion counts', async () => {
    world = createWorld(CLIENT_ENV);
    // 20 held-out digits per class, class-major, in [-1, 1]: as "raw" under their own classes (consistent), and as
    // "denoised" under the next class (slot c holds digits of c + 1: every judge should see c → c + 1).
    const { test } = loadDataset({ source: 'mnist-embedded', testFraction: 1 / 6, splitSeed: 0 });
    const perClass = 20,
      px = test.height * test.width;
    const byClass = Array.from({ length: 10 }, (_, c) =>
      range(0, test.count - 1)
        .filter((i) => test.labels[i] === c)
        .slice(0, perClass),
    );
    const write = (name: string, shift: number) => {
      const buf = Buffer.alloc(10 * perClass * px * 4);
      let o = 0;
      for (let c = 0; c < 10; c++) {
        for (const i of byClass[(c + shift) % 10] ?? []) for (let p = 0; p < px; p++) o = buf.writeFloatLE((test.images[i * px + p] ?? 0) * 2 - 1, o);
      }
      const f = path.join(world.dir, name);
      writeFileSync(f, buf);
      return f;
    };
    const shape = [10 * perClass, test.height, test.width, 1];
    const samples = [
      { from: write('real.f32', 0), shape, kind: 'raw', temperature: 1 },
      { from: write('shifted.f32', 1), shape, kind: 'denoised', temperature: 0.7 },
    ];
    const file = writeSweep(world, 'judged', programSweep('judged', 'node', { steps: 3, checkpoint_every: 10, sleep_s: 0.01, samples }));
    const { worker, runId } = await submitWithOneWorker(world, file);
    await waitFor('the run to succeed', () => runRow(world, runId)?.status === 'succeeded', 120_000).catch((e) => {
      console.log(worker.output().slice(-4000));
      throw e;
    });

    const metric = (name: string) => sql<{ step: number; value: number }>(world, 'SELECT step, value FROM metrics WHERE run_id = ? AND name = ?', runId, name);
    for (const judge of ['deep', 'shallow']) {
      expect(metric(`eval/consistency/raw/t1.0/${judge}`)[0]?.value).toBeGreaterThan(0.8);
      expect(metric(`eval/consistency/denoised/t0.7/${judge}`)[0]?.value).toBeLessThan(0.2);
      expect(metric(`eval/judge_accuracy/${judge}`)).toHaveLength(1);
    }
    expect(metric('eval/consistency/raw/t1.0')[0]?.step).toBe(3);
    expect(metric('eval/judge_agreement/raw/t1.0')[0]?.value).toBeGreaterThan(0.8);
    const sets = sql<{ judge: string; kind: string; temperature: number; n: number }>(
      world,
      'SELECT kind, temperature, judge, sum(count) AS n FROM confusion WHERE run_id = ? GROUP BY 1, 2, 3 ORDER BY kind, judge',
      runId,
    );
    expect(sets.map((c) => [c.kind, c.temperature, c.judge, c.n])).toEqual([
      ['denoised', 0.7, 'deep', 200],
      ['denoised', 0.7, 'shallow', 200],
      ['raw', 1, 'deep', 200],
      ['raw', 1, 'shallow', 200],
    ]);
    const shifted = sql<{ n: number }>(
      world,
      "SELECT sum(count) AS n FROM confusion WHERE run_id = ? AND kind = 'denoised' AND judge = 'deep' AND predicted_class = (true_class + 1) % 10",
      runId,
    );
    expect(shifted[0]?.n).toBeGreaterThan(160);
  }, 180_000);
});

describe('program runs: stopping and bad programs', () => {
  it('a worker stopped with SIGTERM releases its Python program (it checkpoints on SIGTERM) and another worker resumes it', async () => {
    world = createWorld(CLIENT_ENV);
    const steps = 80;
    const file = writeSweep(world, 'release', programSweep('release', 'python', { steps, checkpoint_every: 1000, sleep_s: 0.05 }));
    const { worker, runId } = await submitWithOneWorker(world, file);
    await waitFor('some metrics', () => lossRows(world, runId).length >= 10, 60_000);
    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
    const released = sql<{ step: number }>(world, 'SELECT step FROM checkpoints WHERE run_id = ?', runId);
    expect(released).toHaveLength(1); // the one it wrote on SIGTERM
    start(world, SCRIPTS.worker);
    await waitFor('the run to succeed', () => runRow(world, runId)?.status === 'succeeded', 60_000);
    expect(runRow(world, runId)?.resumed_from).toBe(released[0]?.step);
    expect(lossRows(world, runId).map((r) => r.step)).toEqual(range(1, steps));
  }, 90_000);

  it('kill -9 of the process that runs the program takes the program with it; the run resumes and succeeds', async () => {
    world = createWorld(CLIENT_ENV);
    // It hangs after its checkpoint at step 10, writing nothing: it cannot notice that its reader is gone.
    const file = writeSweep(world, 'orphan', programSweep('orphan', 'node', { steps: 60, checkpoint_every: 10, sleep_s: 0.05, fault: { hang_after: 10 } }));
    const { worker, runId } = await submitWithOneWorker(world, file);
    await waitForCheckpoints(world, runId, 1);
    const program = programPid(worker);
    process.kill(trainingPid(worker), 'SIGKILL'); // the runner (program-child.js), not the program
    await waitFor('the program gone with its runner', () => !isAlive(program), 5_000, 50);
    await waitFor('the run to succeed', () => runRow(world, runId)?.status === 'succeeded', 60_000);
    expect(lossRows(world, runId).map((r) => r.step)).toEqual(range(1, 60));
  }, 90_000);

  it('cancel stops a Node program (SIGTERM, it checkpoints and exits) and records the run cancelled', async () => {
    world = createWorld(CLIENT_ENV);
    const file = writeSweep(world, 'long', programSweep('long', 'node', { steps: 100000, checkpoint_every: 1000, sleep_s: 0.02 }));
    const { worker, runId } = await submitWithOneWorker(world, file);
    await waitFor('some metrics', () => lossRows(world, runId).length >= 10, 60_000);
    const pid = programPid(worker);
    const cancel = await run(world, SCRIPTS.cancel, ['long']);
    expect(cancel.code).toBe(0);
    await waitFor('cancelled', () => runRow(world, runId)?.status === 'cancelled', 30_000);
    await waitFor('the program gone', () => !isAlive(pid), 10_000);
    const log = readFileSync(path.join(world.env.ARTIFACT_DIR ?? '', 'runs', runId, 'program.log'), 'utf8');
    expect(log).toContain('cancel requested: SIGTERM');
    expect(log).toMatch(/SIGTERM: checkpointed at step \d+, exiting/);
    expect(log).toContain('exited with code 0');
  }, 90_000);

  it('skips a malformed line with a warning naming it, fails a run past PROGRAM_MAX_BAD_LINES, refuses a path outside the run folder', async () => {
    world = createWorld({ ...CLIENT_ENV, PROGRAM_MAX_BAD_LINES: '1' });
    const file = writeSweep(
      world,
      'bad',
      programSweep(
        'bad',
        'python',
        { steps: 6, checkpoint_every: 3, sleep_s: 0.01 },
        'parameters:\n  fault: { values: [{ bad_lines: 1 }, { bad_lines: 2 }, { outside: true }] }\n',
      ),
    );
    start(world, SCRIPTS.recorder);
    start(world, SCRIPTS.worker, ['--concurrency', '3']);
    const submitted = await run(world, SCRIPTS.sweep, [file, '--detach']);
    expect(submitted.code).toBe(0);
    const byLabel = () => new Map(sql<{ label: string; id: string }>(world, 'SELECT label, run_id AS id FROM sweep_runs').map((r) => [r.label, r.id]));
    await waitFor('all three finished', () => sql(world, "SELECT 1 FROM runs WHERE status IN ('succeeded', 'failed')").length === 3, 60_000);
    const ids = byLabel();
    const one = runRow(world, ids.get('bad_lines=1') ?? '');
    const two = runRow(world, ids.get('bad_lines=2') ?? '');
    const outside = runRow(world, ids.get('outside=true') ?? '');
    // One bad line (line 4: after the metrics of steps 1-3) is skipped.
    expect(one?.status).toBe('succeeded');
    expect(lossRows(world, one?.id ?? '').map((r) => r.step)).toEqual(range(1, 6));
    expect(readFileSync(path.join(world.env.ARTIFACT_DIR ?? '', 'runs', one?.id ?? '', 'program.log'), 'utf8')).toMatch(
      /event line 4: expected one JSON object per line, got "this is not json" \(skipped, 1 of at most 1\)/,
    );
    // A second one fails the run, once (a bad program is not retried), naming the line.
    expect(two?.status).toBe('failed');
    expect(two?.attempts).toBe(1);
    expect(two?.error).toBe(
      'event line 5: expected one JSON object per line, got "this is not json"; more than 1 malformed event lines (PROGRAM_MAX_BAD_LINES): failing the run',
    );
    // A checkpoint outside ABLATE_RUN_DIR is refused and fails the run.
    expect(outside?.status).toBe('failed');
    expect(outside?.attempts).toBe(1);
    expect(outside?.error).toMatch(
      /^event line 3: checkpoint: refused ".*\/runs\/r-[0-9a-f]+\/\.\.\/escape\.json": it is outside the run folder .* \(ABLATE_RUN_DIR\); write checkpoints and artifacts inside it$/,
    );
    expect(sql(world, 'SELECT 1 FROM checkpoints WHERE run_id = ?', outside?.id ?? '')).toEqual([]);
  }, 90_000);

  it('a missing executable and a program silent past PROGRAM_SILENCE_MS fail their attempts with the reason (retried, then failed)', async () => {
    world = createWorld({ ...CLIENT_ENV, PROGRAM_SILENCE_MS: '1500', PROGRAM_GRACE_MS: '500' });
    const missing = writeSweep(world, 'missing', 'name: missing\nprogram: [ablate-no-such-program, --x]\nbase: { a: 1 }\n');
    const silent = writeSweep(world, 'silent', programSweep('silent', 'python', { steps: 3, sleep_s: 60 }));
    start(world, SCRIPTS.recorder);
    start(world, SCRIPTS.worker, ['--concurrency', '2']);
    for (const f of [missing, silent]) expect((await run(world, SCRIPTS.sweep, [f, '--detach'])).code).toBe(0);
    await waitFor('both failed', () => sql(world, "SELECT 1 FROM runs WHERE status = 'failed'").length === 2, 60_000);
    const errorOf = (sweep: string) =>
      sql<{ error: string; attempts: number }>(world, 'SELECT error, attempts FROM runs JOIN sweep_runs ON run_id = id WHERE sweep_id = ?', sweep)[0];
    expect(errorOf('missing')).toEqual({
      attempts: 3,
      error: `cannot start the program "ablate-no-such-program --x" on ${hostname()}: "ablate-no-such-program" is not on PATH (ENOENT) (attempt 3 of 3)`,
    });
    expect(errorOf('silent')).toEqual({ attempts: 3, error: 'the program reported nothing on fd 3 for 2 s (PROGRAM_SILENCE_MS); stopped it (attempt 3 of 3)' });
  }, 90_000);
});
