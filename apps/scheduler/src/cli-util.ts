import { ConfigError } from '@ablate/config';
import { SpecError } from '@ablate/queue';
import { StoreError } from '@ablate/store';

/** A user's mistake: printed without a stack, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function isUserError(err: unknown): err is Error {
  return (
    err instanceof UsageError ||
    err instanceof ConfigError ||
    err instanceof SpecError ||
    err instanceof StoreError ||
    (err instanceof Error && (err as { code?: unknown }).code !== undefined && String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS'))
  );
}

/** Runs a command's main: input errors print their message and exit 2; bugs print the stack and exit 1. */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (isUserError(err)) process.stderr.write(`${err.message}\n`);
      else process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(isUserError(err) ? 2 : 1);
    },
  );
}
