import { AblateError } from '@ablate/cli';

/**
 * The one error class of @ablate/data. The message alone tells the user what to fix:
 * it starts with the file (when there is one) and says what was expected and what was found.
 */
export class DataError extends AblateError {
  override name = 'DataError';
  /** The file or directory at fault; undefined for a bad option (seed, fraction, batch size). */
  readonly file: string | undefined;
  /** The fault without the file prefix, e.g. "wrong magic number: expected 0x00000803, got 0x00000801". */
  readonly fault: string;

  constructor(file: string | undefined, fault: string, options?: { cause?: unknown }) {
    super(file === undefined ? fault : `${file}: ${fault}`, options);
    this.file = file;
    this.fault = fault;
  }
}

/** 0x00000803 style, as IDX magic numbers are usually written. */
export function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

/** The message of any thrown value. Not `instanceof Error`: errors from Node internals fail that check under jest's realms. */
export function errorMessage(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'message' in err && typeof err.message === 'string') return err.message;
  return String(err);
}
