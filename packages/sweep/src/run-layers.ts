import { formatPath, getPath, setPath, type ConfigIssue, type YamlSource } from '@ablate/config';

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Mappings merge key by key; anything else replaces. Returns new data and leaves both inputs as they were. */
export function deepMerge(target: unknown, value: unknown): unknown {
  if (!isPlainObject(target) || !isPlainObject(value)) return structuredClone(value);
  const out = structuredClone(target);
  for (const [k, v] of Object.entries(value)) {
    // A YAML key `__proto__` is data (an unknown key for the schema to report), never the object's prototype.
    Object.defineProperty(out, k, { value: deepMerge(out[k], v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Merges `value` into the config at `path`: deep for mappings (`prior: { mu_std: 0.02 }`), replacing otherwise. */
export function mergeAt(config: Record<string, unknown>, path: readonly string[], value: unknown): void {
  setPath(config, path, deepMerge(getPath(config, path), value));
}

/** `a.b` is under `a` and under itself. */
export function isUnder(path: readonly PropertyKey[], prefix: readonly PropertyKey[]): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => path[i] === p);
}

/** One source of the data in a run's config: the base, one value of one parameter, or the seed. */
export interface Layer {
  /** Where the value goes in the run config ([] for the base). */
  configPath: readonly string[];
  value: unknown;
  /** Where the value is in the sweep file: ['base'], ['parameters', 'prior', 'values', 2], ['seeds', 1]. */
  filePath: readonly PropertyKey[];
}

/**
 * Which layer wrote the data at config path `at` (the last one that has it, as merges apply in order), and the matching
 * path in the sweep file. When none has it (a required key is missing), the last parameter whose path contains it or is
 * inside it is blamed, else the base.
 */
export function ownerOf(at: readonly PropertyKey[], layers: readonly Layer[]): { layer: Layer; filePath: PropertyKey[] } {
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    if (layer === undefined || !isUnder(at, layer.configPath)) continue;
    const rel = at.slice(layer.configPath.length);
    if (rel.length === 0 || getPath(layer.value, rel) !== undefined) return { layer, filePath: [...layer.filePath, ...rel] };
  }
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    if (layer === undefined || layer.configPath.length === 0) continue;
    if (isUnder(at, layer.configPath)) return { layer, filePath: [...layer.filePath, ...at.slice(layer.configPath.length)] };
    if (isUnder(layer.configPath, at)) return { layer, filePath: [...layer.filePath] };
  }
  const base = layers[0];
  if (base === undefined) throw new Error('ownerOf: no layers');
  return { layer: base, filePath: [...base.filePath, ...at] };
}

/** Finds line and column of a path in the sweep file; 1:1 for specs that were not parsed from a file. */
export type Locate = (path: readonly PropertyKey[], key: boolean) => { line: number; col: number };

export function locatorOf(source: YamlSource | undefined): Locate {
  return (path, key) => (source === undefined ? { line: 1, col: 1 } : source.positionOf(path, key));
}

export function issueIn(file: string, locate: Locate, path: readonly PropertyKey[], message: string, key = false): ConfigIssue {
  return { file, ...locate(path, key), field: formatPath(path), message };
}

/** Where value `j` of parameter `path` is in the file: `values[j]`, or `value` for a fixed parameter. */
export function valueFilePath(source: YamlSource | undefined, path: string, j: number): PropertyKey[] {
  const entry = source === undefined ? undefined : getPath(source.value, ['parameters', path]);
  return isPlainObject(entry) && Object.hasOwn(entry, 'value') && !Object.hasOwn(entry, 'values')
    ? ['parameters', path, 'value']
    : ['parameters', path, 'values', j];
}

/** Where seed `k` is in the file: `seeds[k]`, or `seeds` for `seeds: N`. */
export function seedFilePath(source: YamlSource | undefined, k: number): PropertyKey[] {
  return source !== undefined && typeof getPath(source.value, ['seeds']) === 'number' ? ['seeds'] : ['seeds', k];
}

/** Drops repeated issues (the same problem found through several values or runs) and sorts by position. */
export function uniqueIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const seen = new Map<string, ConfigIssue>();
  for (const i of issues) {
    const key = `${i.line}:${i.col} ${i.field}: ${i.message}`;
    if (!seen.has(key)) seen.set(key, i);
  }
  return [...seen.values()].sort((a, b) => a.line - b.line || a.col - b.col);
}

const sources = new WeakMap<object, YamlSource>();

/** parseSweep remembers the parsed file of each spec, so expandSweep can point at the values of a bad combination. */
export function rememberSource(spec: object, source: YamlSource): void {
  sources.set(spec, source);
}

export function sourceOf(spec: object): YamlSource | undefined {
  return sources.get(spec);
}
