import pino, { type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export interface CreateLoggerOptions {
  name: string;
  /** Default: $LOG_LEVEL, else 'info'. */
  level?: string;
  /** Default: pretty when stdout is a TTY and $LOG_FORMAT is not 'json'. */
  pretty?: boolean;
  /** Where lines go; default stdout. Tests pass a stream to read lines back; a progress bar passes its log writer. */
  destination?: NodeJS.WritableStream;
}

/** One root logger per process; everything else takes a `Logger` and makes children. */
export function createLogger(opts: CreateLoggerOptions): Logger {
  const options: LoggerOptions = {
    name: opts.name,
    level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
    serializers: { err: pino.stdSerializers.err },
  };
  const wantPretty = opts.pretty ?? (process.stdout.isTTY === true && process.env.LOG_FORMAT !== 'json');
  if (wantPretty) {
    return pino(
      options,
      pretty({ colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname', sync: true, ...(opts.destination ? { destination: opts.destination } : {}) }),
    );
  }
  return pino(options, opts.destination ?? pino.destination({ fd: 1, sync: true }));
}

/** The per-run child logger: every line of a run can be found by runId. */
export function runLogger(log: Logger, fields: { runId: string; jobId?: string; attempt?: number }): Logger {
  return log.child(fields);
}
