import { ConfigError } from '@ablate/config';

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
