import type { Logger } from '@ablate/log';
import { RUN_QUEUE } from '@ablate/queue';
import { runsBySweep, type Store } from '@ablate/store';
import { QueueEvents } from 'bullmq';
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { RedisConnectionOptions } from '@ablate/queue';
import { fmtEta } from './fmt-eta';

/** A program's progress may lack a loss or a speed (NaN arrives as null through BullMQ's JSON). */
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export const FINAL_STATUSES = new Set(['succeeded', 'failed', 'cancelled', 'diverged']);

interface LiveProgress {
  step: number;
  totalSteps: number;
  loss: number;
  imagesPerSec: number;
  etaSec: number;
  workerId?: string;
  host?: string;
  backend?: string;
  /** What the run is doing (apps/worker/src/run-phase.ts); absent from workers that predate phases. */
  phase?: string;
  phaseLabel?: string;
  /** Epoch ms on the worker when the phase began. */
  phaseSince?: number;
  /** Whether etaSec counts the evals to come (false until the run has timed one). */
  etaIncludesEvals?: boolean;
  at: number;
}

/** The bar's text for a running run: its phase (and for how long, when it is not training), loss, speed, ETA, worker. */
export function progressInfo(p: Omit<LiveProgress, 'at'>, now: number = Date.now()): string {
  const phase = p.phaseLabel ?? 'training';
  const inPhaseSec = p.phaseSince === undefined ? 0 : (now - p.phaseSince) / 1000;
  const what = p.phase !== undefined && p.phase !== 'training' && inPhaseSec >= 2 ? `${phase} ${fmtEta(inPhaseSec)}` : phase;
  const loss = isNum(p.loss) ? `loss ${p.loss.toFixed(4)} | ` : '';
  const speed = isNum(p.imagesPerSec) && p.imagesPerSec > 0 ? `${p.imagesPerSec.toFixed(0)} img/s | ` : '';
  const eta = `ETA ${fmtEta(p.etaSec)}${p.etaIncludesEvals === false ? ' + evals' : ''}`;
  return `${what} | ${loss}${speed}${eta} | ${p.workerId ?? '?'}`;
}

export interface WatchOutcome {
  counts: Record<string, number>;
  allSucceeded: boolean;
  detached: boolean;
}

/**
 * Follows a sweep until every run is final (or `detach` resolves): statuses come from SQLite (the recorder writes them),
 * live step/loss/speed from BullMQ job progress. On a TTY, a bar per running run and one for the sweep; elsewhere a
 * log line every `logEveryMs`.
 */
export async function watchSweep(opts: {
  store: Store;
  connection: RedisConnectionOptions;
  prefix: string;
  sweepId: string;
  log: Logger;
  tty: boolean;
  detach: Promise<void>;
  pollMs?: number;
  logEveryMs?: number;
}): Promise<WatchOutcome> {
  const { store, sweepId, log } = opts;
  const live = new Map<string, LiveProgress>();
  const events = new QueueEvents(RUN_QUEUE, { connection: opts.connection, prefix: opts.prefix });
  events.on('progress', ({ jobId, data }) => {
    if (typeof data === 'object' && data !== null) live.set(jobId, { ...(data as Omit<LiveProgress, 'at'>), at: Date.now() });
  });
  const bars = opts.tty
    ? new MultiBar(
        { format: ' {label} |{bar}| {value}/{total} {unit} | {info}', hideCursor: true, clearOnComplete: false, barsize: 24 },
        Presets.shades_classic,
      )
    : null;
  const runBars = new Map<string, SingleBar>();
  let sweepBar: SingleBar | null = null;
  let detached = false;
  void opts.detach.then(() => {
    detached = true;
  });
  let lastLog = 0;
  try {
    for (;;) {
      const runs = runsBySweep(store, sweepId);
      const counts: Record<string, number> = {};
      for (const r of runs) counts[r.status] = (counts[r.status] ?? 0) + 1;
      const done = runs.filter((r) => FINAL_STATUSES.has(r.status)).length;
      const summary = Object.entries(counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      if (bars) {
        sweepBar ??= bars.create(runs.length, done, { label: `sweep ${sweepId}`.padEnd(28).slice(0, 28), unit: 'runs', info: summary });
        sweepBar.update(done, { info: summary });
        for (const r of runs) {
          const p = live.get(r.id);
          const bar = runBars.get(r.id);
          if (r.status === 'running' && p) {
            const info = progressInfo(p);
            if (bar) bar.update(p.step, { info });
            else runBars.set(r.id, bars.create(p.totalSteps, p.step, { label: (r.label || r.id).padEnd(28).slice(0, 28), unit: 'steps', info }));
          } else if (bar && FINAL_STATUSES.has(r.status)) {
            bar.update(p?.totalSteps ?? 0, { info: r.status });
            bars.remove(bar);
            runBars.delete(r.id);
            bars.log(`${r.status.padEnd(9)} ${r.label || r.id} (${r.id})${r.error ? `: ${r.error}` : ''}\n`);
          }
        }
      } else if (Date.now() - lastLog >= (opts.logEveryMs ?? 10_000) || done === runs.length) {
        lastLog = Date.now();
        const running = runs
          .filter((r) => r.status === 'running')
          .map((r) => {
            const p = live.get(r.id);
            return p
              ? {
                  runId: r.id,
                  label: r.label,
                  phase: p.phaseLabel ?? 'training',
                  step: p.step,
                  totalSteps: p.totalSteps,
                  loss: isNum(p.loss) ? Number(p.loss.toFixed(4)) : null,
                  imagesPerSec: isNum(p.imagesPerSec) ? Math.round(p.imagesPerSec) : null,
                  eta: `${fmtEta(p.etaSec)}${p.etaIncludesEvals === false ? ' + evals' : ''}`,
                  worker: p.workerId,
                }
              : { runId: r.id, label: r.label };
          });
        log.info({ done, total: runs.length, counts, running }, 'sweep progress');
      }
      if (done === runs.length) return { counts, allSucceeded: runs.every((r) => r.status === 'succeeded'), detached: false };
      if (detached) return { counts, allSucceeded: false, detached: true };
      await Promise.race([new Promise((r) => setTimeout(r, opts.pollMs ?? 1000)), opts.detach]);
    }
  } finally {
    bars?.update(); // flush lines logged since the last redraw
    bars?.stop();
    await events.close();
  }
}
