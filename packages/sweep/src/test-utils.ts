import { ConfigError } from '@ablate/config';
import type { BuiltinRunSpec, RunSpec } from './sweep-spec';

/** The ConfigError that `fn` throws (anything else fails the test). */
export function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError, got no error');
}

/** The lines of the ConfigError's message. */
export function errorLines(fn: () => unknown): string[] {
  return configErrorOf(fn).message.split('\n');
}

/** Runs of the built-in trainer (a test of a sweep with a program fails here). */
export function builtinRuns(runs: readonly RunSpec[]): BuiltinRunSpec[] {
  return runs.map((r) => {
    if (r.program !== undefined) throw new Error(`run ${r.runId} has a program`);
    return r;
  });
}
