import { ConfigError, describeValue, explainZodIssue, issueAt, parseYamlSource, RunConfigSchema, type ConfigIssue, type YamlSource } from '@ablate/config';
import { canonicalJson } from './canonical-json';
import { closest, configPathProblem } from './config-paths';
import { isPlainObject, isUnder, issueIn, locatorOf, mergeAt, ownerOf, rememberSource, uniqueIssues, valueFilePath, type Layer } from './run-layers';
import { freeFormPathProblem, parseProgram } from './program-spec';
import { MAX_RUNS, type SweepSpec } from './sweep-spec';

const SWEEP_KEYS = ['name', 'description', 'method', 'program', 'base', 'parameters', 'seeds', 'baseline'];
const PARAMETER_KEYS = ['values', 'value'];
/** W&B keys for random and bayes search, which a grid sweep does not have. */
const DISTRIBUTION_KEYS = ['distribution', 'min', 'max', 'mu', 'sigma', 'q', 'probabilities'];
const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
const NAME_MAX_CHARS = 64;

interface Parameter {
  key: string;
  path: string[];
  values: unknown[];
  /** The path is a run config key and values is a non-empty list: its values get checked, and it covers base keys under it. */
  usable: boolean;
}

/**
 * Parses and validates a sweep file. Throws a ConfigError listing every problem, each at `file:line:col key.path`:
 * structure, unknown keys, unknown parameter paths (at the key), bad seeds, errors in `base` (at `base.…`) and each
 * parameter value that does not make a valid run config when merged into the base alone (at `parameters.<path>.values[i]`).
 */
export function parseSweep(src: string, file: string): SweepSpec {
  const source = parseYamlSource(src, file);
  const top = source.value;
  if (!isPlainObject(top)) {
    const got = top === null ? 'an empty file' : describeValue(top);
    throw new ConfigError([issueAt(source, [], `expected a sweep (a mapping with name, base and parameters), got ${got}`)]);
  }
  const issues: ConfigIssue[] = [];
  for (const k of Object.keys(top)) {
    if (!SWEEP_KEYS.includes(k)) issues.push(issueAt(source, [k], unknownKey(k, SWEEP_KEYS, 'a sweep has'), true));
  }
  const name = top.name;
  if (typeof name !== 'string' || !NAME_PATTERN.test(name) || name.length > NAME_MAX_CHARS) {
    issues.push(
      issueAt(
        source,
        ['name'],
        `expected a name of a-z, 0-9, '.', '_' and '-' starting with a letter or digit (at most ${NAME_MAX_CHARS} characters), got ${describeValue(name)}`,
      ),
    );
  }
  const description = top.description;
  if (description !== undefined && typeof description !== 'string')
    issues.push(issueAt(source, ['description'], `expected a string, got ${describeValue(description)}`));
  if (top.method !== undefined && top.method !== 'grid') {
    issues.push(
      issueAt(
        source,
        ['method'],
        `expected grid (every combination of the values; random and bayes search are not supported), got ${describeValue(top.method)}`,
      ),
    );
  }
  // With a program, `base` is the program's own config (any keys) and the parameters vary its dotted paths.
  const program = parseProgram(source, top.program, issues);
  const freeForm = top.program !== undefined;
  let base: Record<string, unknown> = {};
  if (isPlainObject(top.base)) base = top.base;
  else if (top.base !== undefined && top.base !== null)
    issues.push(
      issueAt(
        source,
        ['base'],
        `expected a ${freeForm ? 'config' : 'run config'} (a mapping such as ${freeForm ? 'optimizer: { lr: 0.001 }' : 'model: { preset: tiny }'}), got ${describeValue(top.base)}`,
      ),
    );
  const seeds = parseSeeds(source, top.seeds, issues);
  const parameters = parseParameters(source, top.parameters, top.seeds !== undefined && top.seeds !== null, issues, freeForm);

  const baseline = parseBaseline(source, top.baseline, parameters, issues);
  if (!freeForm) {
    issues.push(...checkBase(source, base, parameters));
    for (const p of parameters) if (p.usable) issues.push(...checkValues(source, base, p, parameters));
  }

  const runs = parameters.reduce((n, p) => n * Math.max(1, p.values.length), 1) * (seeds?.length ?? 1);
  if (runs > MAX_RUNS)
    issues.push(issueAt(source, ['parameters'], `expected at most ${MAX_RUNS} runs, got ${runs} (the product of the numbers of values and seeds)`, true));

  const unique = uniqueIssues(issues);
  if (unique.length > 0 || typeof name !== 'string') throw new ConfigError(unique);
  const spec: SweepSpec = {
    name,
    ...(typeof description === 'string' ? { description } : {}),
    file,
    ...(program === undefined ? {} : { program }),
    base: structuredClone(base),
    parameters: parameters.map((p) => ({ path: p.key, values: structuredClone(p.values) })),
    seeds,
    ...(baseline ? { baseline } : {}),
  };
  rememberSource(spec, source);
  return spec;
}

function unknownKey(k: string, known: readonly string[], owner: string): string {
  const suggestion = closest(k, known);
  return `unknown key "${k}"${suggestion === null ? '' : `, did you mean "${suggestion}"?`} (${owner}: ${known.join(', ')})`;
}

/** `seeds: 3` → [0, 1, 2]; `seeds: [0, 7]` → [0, 7]; absent → null. */
function parseSeeds(source: YamlSource, raw: unknown, issues: ConfigIssue[]): number[] | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 1 && raw <= MAX_RUNS) return Array.from({ length: raw }, (_, i) => i);
  if (!Array.isArray(raw)) {
    issues.push(
      issueAt(
        source,
        ['seeds'],
        `expected a number of seeds (1 to ${MAX_RUNS}, e.g. 3 for seeds 0, 1, 2) or a list of seeds (e.g. [0, 7]), got ${describeValue(raw)}`,
      ),
    );
    return null;
  }
  if (raw.length === 0) issues.push(issueAt(source, ['seeds'], 'expected at least one seed, got an empty list'));
  const first = new Map<number, number>();
  let ok = raw.length > 0;
  raw.forEach((s: unknown, i) => {
    if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 0) {
      issues.push(issueAt(source, ['seeds', i], `expected an integer ≥ 0, got ${describeValue(s)}`));
      ok = false;
    } else if (first.has(s)) {
      issues.push(issueAt(source, ['seeds', i], `expected distinct seeds, got ${s} again (also seeds[${first.get(s) ?? 0}])`));
      ok = false;
    } else first.set(s, i);
  });
  return ok ? raw.filter((s): s is number => typeof s === 'number') : null;
}

/**
 * `baseline:` names the variant the others are compared against: a mapping from parameter keys to one of each one's
 * values (parameters it leaves out take their first value). Absent: the first value of every parameter.
 */
function parseBaseline(source: YamlSource, raw: unknown, parameters: readonly Parameter[], issues: ConfigIssue[]): Record<string, unknown> | null {
  if (raw === undefined || raw === null) return null;
  if (!isPlainObject(raw)) {
    issues.push(
      issueAt(source, ['baseline'], `expected a mapping from parameters to one of their values (e.g. prior.mu_init: zero), got ${describeValue(raw)}`),
    );
    return null;
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const p = parameters.find((q) => q.key === key);
    if (p === undefined) {
      issues.push(
        issueAt(
          source,
          ['baseline', key],
          unknownKey(
            key,
            parameters.map((q) => q.key),
            'the sweep varies',
          ),
          true,
        ),
      );
      continue;
    }
    if (!p.values.some((v) => canonicalJson(v) === canonicalJson(value))) {
      issues.push(issueAt(source, ['baseline', key], `expected one of the values of parameters.${key}, got ${describeValue(value)}`));
      continue;
    }
    out[key] = structuredClone(value);
  }
  return out;
}

function parseParameters(source: YamlSource, raw: unknown, hasSeeds: boolean, issues: ConfigIssue[], freeForm: boolean): Parameter[] {
  if (raw === undefined || raw === null) return [];
  if (!isPlainObject(raw)) {
    issues.push(issueAt(source, ['parameters'], `expected a mapping from run config paths to { values: [...] } or { value: x }, got ${describeValue(raw)}`));
    return [];
  }
  return Object.entries(raw).map(([key, entry]): Parameter => {
    const at = ['parameters', key];
    const path = key.split('.');
    let usable = true;
    const pathProblem = freeForm
      ? freeFormPathProblem(key)
      : path.some((s) => s === '')
        ? `expected a dotted run config path such as prior.mu_init, got ${JSON.stringify(key)}`
        : configPathProblem(path);
    if (pathProblem !== null) {
      issues.push(issueAt(source, at, pathProblem, true));
      usable = false;
    } else if (key === 'seed' && hasSeeds) {
      issues.push(issueAt(source, at, 'expected seeds or a seed parameter, got both (seeds: sets seed in every run)', true));
      usable = false;
    }
    if (!isPlainObject(entry)) {
      issues.push(issueAt(source, at, `expected { values: [...] } or { value: x }, got ${describeValue(entry)}`));
      return { key, path, values: [], usable: false };
    }
    for (const k of Object.keys(entry)) {
      if (PARAMETER_KEYS.includes(k)) continue;
      const why = DISTRIBUTION_KEYS.includes(k) ? '; a grid sweep has no distributions' : '';
      issues.push(issueAt(source, [...at, k], `${unknownKey(k, PARAMETER_KEYS, 'a parameter has')}${why}`, true));
    }
    const hasValues = Object.hasOwn(entry, 'values');
    if (hasValues && Object.hasOwn(entry, 'value')) {
      issues.push(issueAt(source, [...at, 'value'], 'expected values or value, got both', true));
      return { key, path, values: [], usable: false };
    }
    if (!hasValues) {
      if (Object.hasOwn(entry, 'value')) return { key, path, values: [entry.value], usable };
      issues.push(issueAt(source, at, 'expected values: [...] or value: x, got neither'));
      return { key, path, values: [], usable: false };
    }
    const values = entry.values;
    if (!Array.isArray(values)) {
      issues.push(issueAt(source, [...at, 'values'], `expected a list of values, got ${describeValue(values)}`));
      return { key, path, values: [], usable: false };
    }
    if (values.length === 0) {
      issues.push(issueAt(source, [...at, 'values'], 'expected at least one value, got an empty list'));
      return { key, path, values: [], usable: false };
    }
    return { key, path, values, usable };
  });
}

/** Errors in `base` alone, except under a parameter's path: those depend on the values and are checked with them. */
function checkBase(source: YamlSource, base: Record<string, unknown>, parameters: readonly Parameter[]): ConfigIssue[] {
  const r = RunConfigSchema.safeParse(base);
  if (r.success) return [];
  const locate = locatorOf(source);
  return r.error.issues
    .flatMap((i) => explainZodIssue(i, base))
    .filter((part) => !parameters.some((p) => p.usable && isUnder(part.path, p.path)))
    .map((part) => issueIn(source.file, locate, ['base', ...part.path], part.message, part.key));
}

/**
 * Each value of `p` merged into the base alone must be a valid run config. Problems in the value are reported at the
 * value (`parameters.model.num_blocks.values[1]`); problems in the base under p's path at the base. Problems under
 * another parameter's path are left to the expansion, which sees that parameter's values too.
 */
function checkValues(source: YamlSource, base: Record<string, unknown>, p: Parameter, parameters: readonly Parameter[]): ConfigIssue[] {
  const locate = locatorOf(source);
  const baseLayer: Layer = { configPath: [], value: base, filePath: ['base'] };
  const issues: ConfigIssue[] = [];
  p.values.forEach((value, j) => {
    const config = structuredClone(base);
    mergeAt(config, p.path, value);
    const r = RunConfigSchema.safeParse(config);
    if (r.success) return;
    const layer: Layer = { configPath: p.path, value, filePath: valueFilePath(source, p.key, j) };
    for (const part of r.error.issues.flatMap((i) => explainZodIssue(i, config))) {
      const owner = ownerOf(part.path, [baseLayer, layer]);
      const elsewhere = !isUnder(part.path, p.path) && parameters.some((q) => q !== p && q.usable && isUnder(part.path, q.path));
      if (owner.layer === baseLayer && elsewhere) continue;
      issues.push(issueIn(source.file, locate, owner.filePath, part.message, part.key));
    }
  });
  return issues;
}
