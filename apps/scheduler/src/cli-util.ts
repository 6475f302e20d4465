import { runMain as runCliMain, UsageError, type UserErrorClass } from '@ablate/cli';
import { ConfigError } from '@ablate/config';
import { SpecError } from '@ablate/queue';
import { StoreError } from '@ablate/store';

export { UsageError };

/** Errors of the scheduler's commands whose messages are written for the user (file:line, field, fix). */
export const SCHEDULER_USER_ERRORS: readonly UserErrorClass[] = [ConfigError, SpecError, StoreError];

/** Runs a command's main: input errors print their message and exit 2; bugs print the stack and exit 1. */
export function runMain(main: () => Promise<number>): void {
  runCliMain(main, SCHEDULER_USER_ERRORS);
}
