import { parse as parseYamlValue } from 'yaml';
import { ConfigError, formatPath, type ConfigIssue } from './config-error';
import { RunConfigSchema, type RunConfig } from './run-config';
import { toConfigIssues } from './zod-issues';
import { parseYamlSource } from './yaml-source';

/** `train.steps=100` → { path: ['train', 'steps'], value: 100 }. Values are YAML scalars (numbers, booleans, strings). */
export function parseSet(arg: string, index: number): { path: string[]; value: unknown } {
  const eq = arg.indexOf('=');
  const key = eq < 0 ? '' : arg.slice(0, eq).trim();
  if (eq < 0 || key === '' || key.split('.').some((p) => p === '')) {
    throw new ConfigError([{ file: '--set', line: index + 1, col: 1, field: arg, message: 'expected key=value with a dotted key, e.g. train.steps=100' }]);
  }
  let value: unknown;
  try {
    value = parseYamlValue(arg.slice(eq + 1));
  } catch {
    value = arg.slice(eq + 1);
  }
  return { path: key.split('.'), value };
}

/** Sets `value` at `path` in a plain object, creating mappings on the way. */
export function setPath(root: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = root;
  for (const p of path.slice(0, -1)) {
    const next = node[p];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[p] = {};
    node = node[p] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value;
}

/**
 * Parses and validates a run config file (YAML), with `--set key=value` overrides applied on top.
 * Throws ConfigError with every problem, each located at `file:line:col` (or at the `--set` that caused it).
 */
export function parseRunConfig(src: string, file: string, sets: readonly string[] = []): RunConfig {
  const source = parseYamlSource(src, file);
  const raw = source.value ?? {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([
      { file, line: 1, col: 1, field: '', message: `expected a mapping of run config sections, got ${Array.isArray(raw) ? 'a list' : JSON.stringify(raw)}` },
    ]);
  }
  const value = structuredClone(raw) as Record<string, unknown>;
  const overrides = sets.map((s, i) => ({ ...parseSet(s, i), arg: s, index: i }));
  for (const o of overrides) setPath(value, o.path, o.value);
  const r = RunConfigSchema.safeParse(value);
  if (r.success) return r.data;
  const issues: ConfigIssue[] = r.error.issues.flatMap((issue) =>
    toConfigIssues(issue, source, value).map((ci) => {
      const o = overrides.findLast(
        (x) => ci.field === formatPath(x.path) || ci.field.startsWith(`${formatPath(x.path)}.`) || formatPath(x.path).startsWith(`${ci.field}.`),
      );
      return o ? { ...ci, file: '--set', line: o.index + 1, col: 1, message: `${ci.message} (from --set ${o.arg})` } : ci;
    }),
  );
  throw new ConfigError(issues);
}

/** The resolved config with every default filled in, for a config given as an object (tests, sweeps). */
export function resolveRunConfig(input: unknown): RunConfig {
  return RunConfigSchema.parse(input ?? {});
}
