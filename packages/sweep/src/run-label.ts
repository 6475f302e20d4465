import { canonicalJson } from './canonical-json';
import { isPlainObject } from './run-layers';

/** A variant as leaf values by dotted path, later parameters overriding earlier ones: `prior: {mu_init: zero}` → `prior.mu_init`. */
export function flattenVariant(variant: Record<string, unknown>): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const walk = (path: string, v: unknown): void => {
    if (isPlainObject(v) && Object.keys(v).length > 0) {
      for (const [k, x] of Object.entries(v)) walk(`${path}.${k}`, x);
      return;
    }
    // A later value replaces what it overlaps: the leaves below it, or a leaf above it.
    for (const k of [...out.keys()]) if (k === path || k.startsWith(`${path}.`) || path.startsWith(`${k}.`)) out.delete(k);
    out.set(path, v);
  };
  for (const [path, v] of Object.entries(variant)) walk(path, v);
  return out;
}

/** `randn`, `0.02`, `true`, `"two words"`: a value as it reads in a label. */
export function formatLabelValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s="]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return canonicalJson(v);
}

/** `path=value path=value` with full paths: for messages. */
export function describeVariant(variant: Record<string, unknown>): string {
  const parts = [...flattenVariant(variant)].map(([k, v]) => `${k}=${formatLabelValue(v)}`);
  return parts.length > 0 ? parts.join(' ') : 'the base config';
}

/**
 * One label per run: the leaf values that differ between runs, each under the shortest suffix of its path that no other
 * path of the variants ends with (`mu_init=randn mu_std=0.02 lr_scale=0.1 seed=0`). Labels of runs with different configs differ;
 * should two still coincide, `#index` is appended.
 */
export function labelRuns(variants: readonly Record<string, unknown>[]): string[] {
  const flat = variants.map(flattenVariant);
  // Leaves in parameter order (file order, then seed), and in order of appearance within one parameter.
  const params = Object.keys(variants[0] ?? {});
  const rank = (k: string): number => params.findLastIndex((p) => k === p || k.startsWith(`${p}.`));
  const allKeys = [...new Set(flat.flatMap((f) => [...f.keys()]))].sort((a, b) => rank(a) - rank(b));
  const text = (f: Map<string, unknown>, k: string): string | undefined => (f.has(k) ? canonicalJson(f.get(k)) : undefined);
  const varying = allKeys.filter((k) => flat.some((f) => text(f, k) !== text(flat[0] ?? new Map<string, unknown>(), k)));
  const keys = varying.length > 0 || flat.length > 1 ? varying : allKeys;
  const short = shortNames(allKeys); // unique among all the varied paths, so `batch_size` never hides which one
  const labels = flat.map((f) => {
    const parts = keys.filter((k) => f.has(k)).map((k) => `${short.get(k) ?? k}=${formatLabelValue(f.get(k))}`);
    return parts.length > 0 ? parts.join(' ') : 'base';
  });
  const count = new Map<string, number>();
  for (const l of labels) count.set(l, (count.get(l) ?? 0) + 1);
  return labels.map((l, i) => ((count.get(l) ?? 0) > 1 ? `${l} #${i}` : l));
}

/** `prior.mu_init` → `mu_init` unless another path also ends in `mu_init` (then `prior.mu_init`, …). */
export function shortNames(paths: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of paths) {
    const segs = p.split('.');
    let name = p;
    for (let n = 1; n <= segs.length; n++) {
      const suffix = segs.slice(-n).join('.');
      if (!paths.some((q) => q !== p && (q === suffix || q.endsWith(`.${suffix}`)))) {
        name = suffix;
        break;
      }
    }
    out.set(p, name);
  }
  return out;
}
