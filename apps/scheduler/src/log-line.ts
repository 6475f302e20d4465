/** A worker's pino JSON line as one line a person reads: message, error (first line), run. Anything else as it is. */
export function readableLogLine(line: string): string {
  let rec: { msg?: unknown; err?: { message?: unknown; type?: unknown }; runId?: unknown; retry?: unknown };
  try {
    rec = JSON.parse(line) as typeof rec;
  } catch {
    return line;
  }
  if (typeof rec !== 'object' || rec === null || typeof rec.msg !== 'string') return line;
  const err = typeof rec.err?.message === 'string' ? rec.err.message.split('\n')[0] : undefined;
  const run = typeof rec.runId === 'string' ? ` [run ${rec.runId}]` : '';
  const retry = rec.retry === true ? ' (will retry)' : rec.retry === false ? ' (not retried)' : '';
  return `${rec.msg}${err ? `: ${err}` : ''}${retry}${run}`;
}
