import path from 'node:path';
import { isUserError } from './errors';

export { AblateError, errorMessage, isRetryable, isUserError, UsageError } from './errors';

/**
 * The command-line conventions every `pnpm <command>` follows: a user's mistake (a bad flag, a bad file, an unknown
 * sweep) prints its message alone and exits 2; anything else is a bug, printed with its stack, exit 1.
 */

/** Runs a command's main and exits with its code; errors as described above. */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      const user = isUserError(err);
      process.stderr.write(`${user ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(user ? 2 : 1);
    },
  );
}

/** The one SQLite file: SWEEP_DB, default ./data/ablate.db, as an absolute path. */
export function sweepDbPath(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return path.resolve(env.SWEEP_DB || path.join('data', 'ablate.db'));
}
