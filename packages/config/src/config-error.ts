import { AblateError } from '@ablate/cli';

/** One problem in a config file, located in the file. Lines and columns are 1-based. */
export interface ConfigIssue {
  file: string;
  line: number;
  col: number;
  /** Dotted key path, e.g. `train.steps` or `parameters.model.width.values[1]`. */
  field: string;
  message: string;
}

/** Every problem of a config file at once, each as `file:line:col field: message`. */
export class ConfigError extends AblateError {
  override name = 'ConfigError';
  override readonly retryable = false; // no machine can run a wrong config
  constructor(
    readonly issues: ConfigIssue[],
    options?: { cause?: unknown },
  ) {
    super(issues.map(formatIssue).join('\n'), options);
  }
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.col} ${i.field === '' ? '(top level)' : i.field}: ${i.message}`;
}

/** `a.b[2].c` from ['a', 'b', 2, 'c']. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}
