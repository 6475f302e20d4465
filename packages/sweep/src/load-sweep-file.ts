import { readFileSync } from 'node:fs';
import { ConfigError } from '@ablate/config';
import { expandSweep } from './expand-sweep';
import { parseSweep } from './parse-sweep';
import type { RunSpec, SweepSpec } from './sweep-spec';

const READ_FAILURES: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'is a directory, not a file' };

/** Reads, parses and expands a sweep file. Every failure is a ConfigError naming the file (an unreadable file at 1:1). */
export function loadSweepFile(path: string): { spec: SweepSpec; runs: RunSpec[] } {
  let src: string;
  try {
    src = readFileSync(path, 'utf8');
  } catch (err: unknown) {
    const code = err !== null && typeof err === 'object' && 'code' in err && typeof err.code === 'string' ? err.code : '';
    const why = READ_FAILURES[code] ?? (err instanceof Error ? err.message : String(err));
    throw new ConfigError([{ file: path, line: 1, col: 1, field: '', message: `cannot read the sweep file: ${why}${code === '' ? '' : ` (${code})`}` }], {
      cause: err,
    });
  }
  const spec = parseSweep(src, path);
  return { spec, runs: expandSweep(spec) };
}

/** The sweep's stable id: its name (what the file says, so re-running a sweep finds its runs again). */
export function sweepIdOf(spec: SweepSpec): string {
  return spec.name;
}
