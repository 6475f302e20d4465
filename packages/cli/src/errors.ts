/**
 * The one place that decides what an error means to a command and to the worker, by two properties rather than lists
 * of classes: `userError` (the message is written for the user: it names the file, field or fix) and `retryable`
 * (another attempt, later or on another worker, may go better). Checked as properties, not with instanceof, so an error
 * from another realm (jest's vm contexts, node core) still counts.
 */

/** Base of the errors whose messages are written for the user. Retryable unless a subclass says otherwise. */
export class AblateError extends Error {
  readonly userError: boolean = true;
  readonly retryable: boolean = true;
}

/** A user's mistake in how a command was called: printed without a stack, exit 2. */
export class UsageError extends AblateError {
  override name = 'UsageError';
  override readonly retryable = false;
}

/** The error's message is for the user: printed alone (no stack), exit 2; the run's error as it is. */
export function isUserError(err: unknown): err is Error {
  if (typeof err !== 'object' || err === null || typeof (err as { message?: unknown }).message !== 'string') return false;
  if ((err as { userError?: unknown }).userError === true) return true;
  // node:util parseArgs: an unknown or malformed flag (checked by code: core errors may come from another realm)
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

/** Whether another attempt may go better: anything not marked `retryable: false` (a bug, a lost mount, a disk error). */
export function isRetryable(err: unknown): boolean {
  return !(typeof err === 'object' && err !== null && (err as { retryable?: unknown }).retryable === false);
}

/** How a failed run's error reads: a user error's message alone; anything else with its class name. */
export function errorMessage(err: unknown): string {
  return isUserError(err) ? err.message : err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
