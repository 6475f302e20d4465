import { ConfigError, explainZodIssue, RunConfigSchema, type ConfigIssue, type RunConfig } from '@ablate/config';
import { runIdOf } from './canonical-json';
import { configPathProblem } from './config-paths';
import { freeFormPathProblem, plainData } from './program-spec';
import { describeVariant, labelRuns } from './run-label';
import { isPlainObject, issueIn, locatorOf, mergeAt, ownerOf, seedFilePath, sourceOf, uniqueIssues, valueFilePath, type Layer } from './run-layers';
import { MAX_RUNS, type RunSpec, type SweepSpec } from './sweep-spec';

/**
 * Every run of a sweep: seeds (outermost) × the product of the parameters' values in file order (the first parameter
 * varies slowest). Seeds go outermost so that a sweep stopped (or read) part-way has every variant at the same number
 * of seeds: all variants of the first seed come first, then all of the second. Each run's config is the base deep-merged with its values, validated and resolved.
 * Throws a ConfigError when a combination is not a valid run config (located at the values that make it so) or when two
 * combinations resolve to the same config (located at the value that makes the later one a repeat).
 */
export function expandSweep(spec: SweepSpec): RunSpec[] {
  const source = sourceOf(spec);
  const locate = locatorOf(source);
  const at = (path: readonly PropertyKey[], message: string, key = false): ConfigIssue => issueIn(spec.file, locate, path, message, key);

  // parseSweep has checked these; a spec built in code may not have been (and a path like __proto__.x must never be set).
  const malformed = spec.parameters.flatMap((p) => {
    const problem = spec.program === undefined ? configPathProblem(p.path.split('.')) : freeFormPathProblem(p.path);
    if (problem !== null) return [at(['parameters', p.path], problem, true)];
    return p.values.length === 0 ? [at(['parameters', p.path, 'values'], 'expected at least one value, got an empty list')] : [];
  });
  if (malformed.length > 0) throw new ConfigError(malformed);
  const sizes = spec.parameters.map((p) => p.values.length);
  const seeds: (number | null)[] = spec.seeds ?? [null];
  const total = sizes.reduce((n, s) => n * s, 1) * seeds.length;
  if (total > MAX_RUNS)
    throw new ConfigError([at(['parameters'], `expected at most ${MAX_RUNS} runs, got ${total} (the product of the numbers of values and seeds)`, true)]);
  if (spec.seeds !== null && spec.seeds.length === 0) throw new ConfigError([at(['seeds'], 'expected at least one seed, got an empty list')]);

  const base = isPlainObject(spec.base) ? spec.base : {};
  const baseLayer: Layer = { configPath: [], value: base, filePath: ['base'] };
  const issues: ConfigIssue[] = [];
  const runs: { choice: number[]; variant: Record<string, unknown>; config: RunConfig | Record<string, unknown> }[] = [];

  for (let index = 0; index < total; index++) {
    const [seedDigit = 0, ...valueDigits] = mixedRadix(index, [seeds.length, ...sizes]);
    const choice = [...valueDigits, seedDigit]; // one digit per parameter, then the seed's
    const layers: Layer[] = [baseLayer];
    const variant: Record<string, unknown> = {};
    spec.parameters.forEach((p, i) => {
      const j = choice[i] ?? 0;
      const value = p.values[j];
      variant[p.path] = structuredClone(value);
      layers.push({ configPath: p.path.split('.'), value, filePath: valueFilePath(source, p.path, j) });
    });
    const k = choice[sizes.length] ?? 0;
    const seed = seeds[k] ?? null;
    if (seed !== null) {
      variant.seed = seed;
      layers.push({ configPath: ['seed'], value: seed, filePath: seedFilePath(source, k) });
    }
    const config = structuredClone(base);
    for (const layer of layers.slice(1)) mergeAt(config, layer.configPath, layer.value);
    if (spec.program !== undefined) {
      // The program's own config: taken as written, if it is JSON (a YAML .nan is not).
      const plain = plainData(config);
      if ('problem' in plain) issues.push(at(['base'], `${plain.problem} (in run ${index}: ${describeVariant(variant)})`));
      else runs.push({ choice, variant, config: plain.value as Record<string, unknown> });
      continue;
    }
    const r = RunConfigSchema.safeParse(config);
    if (r.success) {
      runs.push({ choice, variant, config: r.data });
      continue;
    }
    for (const part of r.error.issues.flatMap((i) => explainZodIssue(i, config))) {
      const owner = ownerOf(part.path, layers);
      const inRun = owner.layer === baseLayer ? '' : ` (in run ${index}: ${describeVariant(variant)})`;
      issues.push(at(owner.filePath, `${part.message}${inRun}`, part.key));
    }
  }
  if (issues.length > 0) throw new ConfigError(firstPerField(issues));

  const { program } = spec;
  const idOf = (config: RunConfig | Record<string, unknown>): string => (program === undefined ? runIdOf(config as RunConfig) : runIdOf({ program, config }));
  const ids = runs.map((r) => idOf(r.config));
  const firstWithId = new Map<string, number>();
  ids.forEach((id, b) => {
    const a = firstWithId.get(id);
    if (a === undefined) {
      firstWithId.set(id, b);
      return;
    }
    const [ra, rb] = [runs[a], runs[b]];
    if (ra === undefined || rb === undefined) return;
    const i = rb.choice.findIndex((c, n) => c !== ra.choice[n]);
    const param = spec.parameters[i];
    const where = param !== undefined ? valueFilePath(source, param.path, rb.choice[i] ?? 0) : seedFilePath(source, rb.choice[i] ?? 0);
    const message = `duplicate run: run ${b} (${describeVariant(rb.variant)}) resolves to the same config as run ${a} (${describeVariant(ra.variant)}), run id ${id}`;
    issues.push(at(where, message));
  });
  if (issues.length > 0) throw new ConfigError(firstPerField(issues));

  const labels = labelRuns(runs.map((r) => r.variant));
  return runs.map((r, index): RunSpec => {
    const common = { runId: ids[index] ?? idOf(r.config), sweepName: spec.name, index, variant: r.variant, label: labels[index] ?? '' };
    return program === undefined ? { ...common, config: r.config as RunConfig } : { ...common, config: r.config, program: structuredClone(program) };
  });
}

/** `index` as digits in the given bases, most significant first: the first parameter varies slowest. */
function mixedRadix(index: number, bases: readonly number[]): number[] {
  const digits = new Array<number>(bases.length).fill(0);
  let rest = index;
  for (let i = bases.length - 1; i >= 0; i--) {
    const b = bases[i] ?? 1;
    digits[i] = rest % b;
    rest = Math.floor(rest / b);
  }
  return digits;
}

/** The same bad value breaks many runs: report each located problem once, with the first run it broke. */
function firstPerField(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const seen = new Map<string, ConfigIssue>();
  for (const i of issues) {
    const key = `${i.line}:${i.col} ${i.field}: ${i.message.replace(/ \(in run \d+: .*\)$/, '').replace(/^duplicate run: .*/, 'duplicate')}`;
    if (!seen.has(key)) seen.set(key, i);
  }
  return uniqueIssues([...seen.values()]);
}
