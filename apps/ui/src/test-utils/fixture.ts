import type { RunEvent } from '@ablate/queue';
import { applyEvents, attachRuns, openStore, upsertSweep } from '@ablate/store';
import { encodeImageGrid } from '@ablate/train';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const T0 = 1_790_000_000_000;

export interface UiFixture {
  dir: string;
  db: string;
  artifactDir: string;
  cleanup: () => void;
  /** Appends events as the recorder would (its own connection, one transaction). */
  record: (events: RunEvent[]) => void;
}

/** A sweep `live` of two runs (r-0 running, r-1 queued) with a few loss points and one samples image of r-0. */
export function liveSweep(): UiFixture {
  const dir = mkdtempSync(path.join(tmpdir(), 'ablate-ui-'));
  const db = path.join(dir, 'ablate.db');
  const artifactDir = path.join(dir, 'artifacts');
  const imgDir = path.join(artifactDir, 'runs', 'r-0', 'images');
  mkdirSync(imgDir, { recursive: true });
  const store = openStore(db);
  upsertSweep(store, { id: 'live', name: 'live', file: 'sweeps/live.yaml', spec: {} }, T0);
  attachRuns(
    store,
    'live',
    [0, 1].map((i) => ({
      id: `r-${i}`,
      idx: i,
      label: `mu_init=${i === 0 ? 'zero' : 'randn'}`,
      variant: { 'prior.mu_init': i === 0 ? 'zero' : 'randn' },
      config: { train: { steps: 100 } },
    })),
    T0,
  );
  const uri = path.join(imgDir, 'step-10-samples.png');
  writeFileSync(
    uri,
    encodeImageGrid(
      Float32Array.from({ length: 4 * 28 * 28 }, (_, i) => Math.sin(i)),
      { rows: 2, cols: 2, height: 28, width: 28, scale: 1 },
    ),
  );
  applyEvents(store, [
    { kind: 'run-started', runId: 'r-0', attempt: 1, host: 'h', workerId: 'w1', backend: 'wasm', device: 'CPU (wasm)', resumeFrom: null, at: T0 },
    {
      kind: 'metrics',
      runId: 'r-0',
      rows: [
        { step: 5, name: 'loss', value: 2 },
        { step: 10, name: 'loss', value: 1.5 },
      ],
    },
    { kind: 'artifact', runId: 'r-0', step: 10, artifact: 'samples', uri },
  ]);
  store.close();
  const record = (events: RunEvent[]) => {
    const s = openStore(db);
    try {
      applyEvents(s, events);
    } finally {
      s.close();
    }
  };
  return { dir, db, artifactDir, record, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
