import path from 'node:path';

/**
 * The command-line conventions every `pnpm <command>` follows: a user's mistake (a bad flag, a bad file, an unknown
 * sweep) prints its message alone and exits 2; anything else is a bug, printed with its stack, exit 1.
 */

/** A user's mistake in how a command was called: printed without a stack, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Error classes whose messages are written for the user (they name the file, field or fix), e.g. ConfigError. */
export type UserErrorClass = abstract new (...args: never[]) => Error;

export function isUserError(err: unknown, userErrors: readonly UserErrorClass[] = []): err is Error {
  if (typeof err !== 'object' || err === null) return false;
  if (err instanceof UsageError || userErrors.some((cls) => err instanceof cls)) return true;
  // node:util parseArgs: an unknown or malformed flag (checked by code, not instanceof: core errors may come from another realm)
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS') && typeof (err as { message?: unknown }).message === 'string';
}

/** Runs a command's main and exits with its code; errors as described above. */
export function runMain(main: () => Promise<number>, userErrors: readonly UserErrorClass[] = []): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      const user = isUserError(err, userErrors);
      process.stderr.write(`${user ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(user ? 2 : 1);
    },
  );
}

/** The one SQLite file: SWEEP_DB, default ./data/ablate.db, as an absolute path. */
export function sweepDbPath(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return path.resolve(env.SWEEP_DB || path.join('data', 'ablate.db'));
}
