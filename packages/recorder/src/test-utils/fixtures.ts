import { insertRuns, upsertSweep, type Store } from '@ablate/store';
import { T0 } from '@ablate/test-utils';

/** Sweep `s1` with runs r0..r{n-1}, as @ablate/store's test fixture of the same name: events of unknown runs are skipped. */
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
