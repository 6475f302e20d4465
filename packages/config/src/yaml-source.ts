import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { ConfigError, formatPath, type ConfigIssue } from './config-error';

/** A parsed YAML file that can say where any key path came from. */
export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  value: unknown;
  /** 1-based line and column of the node at `path` (or of its nearest existing parent). */
  positionOf(path: readonly PropertyKey[], key?: boolean): { line: number; col: number };
}

/**
 * Parses YAML as plain data: no custom tags (an unknown tag is an error, nothing is ever executed), duplicate keys are
 * errors, and alias expansion is bounded. Syntax errors are reported with their position.
 */
export function parseYamlSource(src: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(src, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true, customTags: [] });
  const issues: ConfigIssue[] = [];
  for (const e of [...doc.errors, ...doc.warnings]) {
    const pos = lineCounter.linePos(e.pos[0]);
    issues.push({ file, line: pos.line, col: pos.col, field: '', message: e.message.split('\n')[0] ?? e.message });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (err: unknown) {
    throw new ConfigError([{ file, line: 1, col: 1, field: '', message: err instanceof Error ? err.message : String(err) }], { cause: err });
  }
  const positionOf = (path: readonly PropertyKey[], key = false): { line: number; col: number } => {
    let node: unknown = doc.contents;
    let best: number = (doc.contents as Node | null)?.range?.[0] ?? 0;
    for (let i = 0; i < path.length; i++) {
      const p = path[i];
      if (isMap(node)) {
        const pair = node.items.find((it) => (it.key as { value?: unknown } | null)?.value === p);
        if (!pair) break;
        const keyNode = pair.key as Node | null;
        const valNode = pair.value as Node | null;
        const last = i === path.length - 1;
        best = (last && key ? keyNode?.range?.[0] : (valNode?.range?.[0] ?? keyNode?.range?.[0])) ?? best;
        node = valNode;
      } else if (isSeq(node) && typeof p === 'number') {
        const item = node.items[p] as Node | undefined;
        if (!item) break;
        best = item.range?.[0] ?? best;
        node = item;
      } else break;
    }
    return lineCounter.linePos(best);
  };
  return { file, doc, value, positionOf };
}

/** Locates a problem at a key path of a parsed file. */
export function issueAt(source: YamlSource, path: readonly PropertyKey[], message: string, key = false): ConfigIssue {
  const { line, col } = source.positionOf(path, key);
  return { file: source.file, line, col, field: formatPath(path), message };
}
