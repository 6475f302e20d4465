import { describeValue, issueAt, type ConfigIssue, type YamlSource } from '@ablate/config';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * A training program of the researcher's own (`program: [python3, train.py, --flag]` in a sweep file), run by the
 * worker instead of the built-in TARFlow trainer. Resolved against the sweep file's folder when parsed, so the same
 * job means the same command on every worker (which must see the same paths, like ARTIFACT_DIR).
 */
export interface ProgramSpec {
  /**
   * The command line. argv[0] is looked up on PATH when it is a bare name (`python3`), else resolved against the sweep
   * file's folder; every later argument that names an existing file or folder relative to that folder (and does not
   * start with `-`) is made absolute. Everything else is passed as written.
   */
  argv: string[];
  /** The working directory of the program: the sweep file's folder (absolute). */
  cwd: string;
}

/** Path segments that would reach an object's prototype instead of setting data. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

/** Why a dotted path cannot vary a free-form config (a program's `base`), or null when it can. */
export function freeFormPathProblem(key: string): string | null {
  const path = key.split('.');
  if (path.some((s) => s === '')) return `expected a dotted config path such as optimizer.lr, got ${JSON.stringify(key)}`;
  const bad = path.find((s) => FORBIDDEN_SEGMENTS.has(s));
  return bad === undefined ? null : `expected a config path without "${bad}" (it is not data), got ${JSON.stringify(key)}`;
}

/**
 * `program:` → a resolved ProgramSpec, or undefined when absent (the built-in trainer runs). Problems are pushed to
 * `issues` at the list or the element (`program[0]: no such file …`).
 */
export function parseProgram(source: YamlSource, raw: unknown, issues: ConfigIssue[]): ProgramSpec | undefined {
  if (raw === undefined) return undefined;
  const expected = 'expected a command line as a list of strings, e.g. [python3, train.py, --epochs, "3"]';
  if (!Array.isArray(raw)) {
    issues.push(issueAt(source, ['program'], `${expected}, got ${describeValue(raw)}`));
    return undefined;
  }
  if (raw.length === 0) {
    issues.push(issueAt(source, ['program'], `${expected}, got an empty list`));
    return undefined;
  }
  let ok = true;
  raw.forEach((a: unknown, i) => {
    if (typeof a !== 'string' || a === '') {
      issues.push(issueAt(source, ['program', i], `expected a non-empty string (quote numbers: "3"), got ${describeValue(a)}`));
      ok = false;
    }
  });
  if (!ok) return undefined;
  const args = raw as string[];
  const cwd = path.dirname(path.resolve(source.file));
  const argv = args.map((a, i) => {
    if (i === 0) return a.includes('/') ? path.resolve(cwd, a) : a;
    if (a.startsWith('-') || path.isAbsolute(a)) return a;
    const p = path.resolve(cwd, a);
    return existsSync(p) ? p : a;
  });
  const exe = argv[0] ?? '';
  if (exe.includes('/')) {
    let problem: string | null = null;
    try {
      if (!statSync(exe).isFile()) problem = 'is not a file';
    } catch {
      problem = 'no such file';
    }
    if (problem !== null)
      issues.push(
        issueAt(
          source,
          ['program', 0],
          `expected an executable file (a bare name such as python3 is looked up on PATH), got "${args[0] ?? ''}": ${exe} ${problem}`,
        ),
      );
  }
  return { argv, cwd };
}

/**
 * A program's config rebuilt as plain JSON data (objects, lists, strings, finite numbers, booleans, null), or a
 * message saying what is not JSON: the program reads it from a JSON file, and its hash is the run id.
 */
export function plainData(v: unknown, at = 'config'): { value: unknown } | { problem: string } {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return { value: v };
  if (typeof v === 'number') return Number.isFinite(v) ? { value: v } : { problem: `${at}: expected JSON data (a finite number), got ${v}` };
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const [i, x] of v.entries()) {
      const r = plainData(x, `${at}[${i}]`);
      if ('problem' in r) return r;
      out.push(r.value);
    }
    return { value: out };
  }
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const r = plainData(x, `${at}.${k}`);
      if ('problem' in r) return r;
      Object.defineProperty(out, k, { value: r.value, enumerable: true, writable: true, configurable: true });
    }
    return { value: out };
  }
  return { problem: `${at}: expected JSON data, got a ${typeof v}` };
}
