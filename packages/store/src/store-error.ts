import { AblateError } from '@ablate/cli';

/** A database that cannot be opened or migrated, named by its path. Wraps the SQLite error as `cause`. */
export class StoreError extends AblateError {
  override name = 'StoreError';
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${message}`, options);
  }
}
