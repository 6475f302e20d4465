import { tempDir as tempFolder, T0 } from '@ablate/test-utils';
import { openStore, type Store } from '../open-store';
import { insertRuns, upsertSweep } from '../runs';

/** Test helpers (not exported from the package); the ones without a store are @ablate/test-utils'. */

export { scriptedRun, T0 } from '@ablate/test-utils';

/** A fresh temp folder; `cleanup()` removes it. */
export const tempDir = () => tempFolder('ablate-store-');

/** A migrated store on a temp file, and a function that closes it and removes the file. */
export function tempStore(): { store: Store; file: string; cleanup: () => void } {
  const t = tempDir();
  const file = t.file('ablate.db');
  const store = openStore(file);
  return {
    store,
    file,
    cleanup: () => {
      if (store.sqlite.open) store.close();
      t.cleanup();
    },
  };
}

/** Sweep `s1` with runs r0..r{n-1}: label `mu_init=<m> seed=<k>` with two seeds per mu_init value. */
export function seedSweep(store: Store, n = 2, sweepId = 's1'): string[] {
  upsertSweep(store, { id: sweepId, name: 'mu-init', file: 'sweeps/mu-init.yaml', spec: { grid: { 'prior.mu_init': ['zero', 'randn'], seed: [0, 1] } } }, T0);
  const inits = ['zero', 'randn', 'data'];
  const ids = Array.from({ length: n }, (_, i) => `${sweepId}-r${i}`);
  insertRuns(
    store,
    sweepId,
    ids.map((id, i) => {
      const variant = { 'prior.mu_init': inits[Math.floor(i / 2) % inits.length], seed: i % 2 };
      return {
        id,
        idx: i,
        label: `mu_init=${variant['prior.mu_init']} seed=${variant.seed}`,
        variant,
        config: { seed: i % 2, prior: { mu_init: variant['prior.mu_init'] } },
      };
    }),
    T0,
  );
  return ids;
}

/** Every row of every table, sorted, to compare database states. */
export function dump(store: Store): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const t of ['sweeps', 'runs', 'sweep_runs', 'metrics', 'mu_norms', 'checkpoints', 'artifacts']) {
    out[t] = store.sqlite.prepare(`SELECT * FROM ${t} ORDER BY 1, 2, 3`).all();
  }
  return out;
}
