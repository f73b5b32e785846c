/**
 * Parsing manifests: multi-document YAML (read as YAML 1.1, like kubectl) and JSON, `kind: List`
 * and typed lists, with every object keeping the position of each of its fields.
 */
import { isMap, isSeq, LineCounter, parseAllDocuments, type Node as YamlNode } from 'yaml';
import type { Problem } from '../api/problems.js';
import { formatPath, type FieldPath, type SourcePos } from '../api/types.js';

/** A document body as parsed, before validation. */
export interface RawObject {
  /** The plain value (`Record` for an object). */
  readonly value: unknown;
  /** Position of the object itself. */
  readonly source: SourcePos;
  /** Position of one of its fields (the closest existing ancestor when the field is absent). */
  readonly locate: (path: FieldPath) => SourcePos;
}

/** What one file gave: objects in order, and problems (YAML errors, skipped documents). */
export interface ParseResult {
  readonly objects: RawObject[];
  readonly problems: Problem[];
}

/** Largest file kwire reads: far above any real manifest (the apiserver caps a request at 3 MiB). */
export const MAX_FILE_BYTES = 32 * 1024 * 1024;

/** Reports text that is not a manifest at all (binary data, NUL bytes, invalid UTF-8). */
function binaryProblem(text: string, file: string): Problem | undefined {
  const nul = text.indexOf('\u0000');
  const bad = text.indexOf('\uFFFD');
  const at = nul >= 0 ? nul : bad;
  if (at < 0) return undefined;
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const column = at - before.lastIndexOf('\n');
  return {
    code: 'KW-LOAD002',
    severity: 'error',
    message: `not a text manifest (${nul >= 0 ? 'NUL byte' : 'invalid UTF-8'} at byte ${at})`,
    source: { file, line, column },
    hint: 'pass YAML or JSON manifests; binary files cannot be applied',
  };
}

/** Parses one file's text into raw objects. Never throws. */
export function parseManifest(text: string, file: string): ParseResult {
  const problems: Problem[] = [];
  const objects: RawObject[] = [];
  const binary = binaryProblem(text, file);
  if (binary) return { objects, problems: [binary] };
  const lineCounter = new LineCounter();
  const posOf = (offset: number): SourcePos => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  let docs;
  try {
    docs = parseAllDocuments(text, {
      version: '1.1',
      merge: true,
      uniqueKeys: true,
      lineCounter,
      prettyErrors: false,
    });
  } catch (err) {
    return {
      objects,
      problems: [
        {
          code: 'KW-YAML',
          severity: 'error',
          message: `cannot parse: ${err instanceof Error ? err.message : 'unknown error'}`,
          source: { file, line: 1, column: 1 },
        },
      ],
    };
  }
  const docList = Array.isArray(docs) ? docs : [docs];
  for (const doc of docList) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        problems.push({
          code: 'KW-YAML',
          severity: 'error',
          message: yamlMessage(e.message, e.code),
          source: posOf(e.pos[0]),
          hint: e.code === 'DUPLICATE_KEY' ? 'remove one of the two keys' : undefined,
        });
      }
      continue;
    }
    const root = doc.contents;
    if (root === null) continue;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      problems.push({
        code: 'KW-YAML',
        severity: 'error',
        message: `cannot read document: ${err instanceof Error ? err.message : 'unknown error'}`,
        source: posOf(root.range?.[0] ?? 0),
      });
      continue;
    }
    if (value === null || value === undefined) continue;
    collect(value, root, [], objects, problems, posOf);
  }
  return { objects, problems };
}

/** First line of a yaml error message, without the library's code excerpt. */
function yamlMessage(message: string, code: string): string {
  const first = message.split('\n')[0] ?? message;
  const trimmed = first.replace(/ at line \d+, column \d+:?$/, '');
  return code === 'DUPLICATE_KEY' ? `duplicate key: ${trimmed}` : `invalid YAML: ${trimmed}`;
}

/** Unwraps `kind: List` (and `PodList`, …) into objects; reports non-objects. */
function collect(
  value: unknown,
  node: YamlNode,
  prefix: FieldPath,
  out: RawObject[],
  problems: Problem[],
  posOf: (offset: number) => SourcePos,
): void {
  const source = posOf(node.range?.[0] ?? 0);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({
      code: 'KW-LOAD003',
      severity: 'warning',
      message: `document is not a Kubernetes object (got ${Array.isArray(value) ? 'a list' : typeof value}); skipped`,
      source,
      path: prefix.length ? formatPath(prefix) : undefined,
    });
    return;
  }
  const obj = value as Record<string, unknown>;
  const kind = obj.kind;
  if (typeof kind === 'string' && kind.endsWith('List') && Array.isArray(obj.items)) {
    const itemsNode = isMap(node) ? node.get('items', true) : undefined;
    obj.items.forEach((item, i) => {
      const itemNode = isSeq(itemsNode) ? (itemsNode.items[i] as YamlNode | undefined) : undefined;
      collect(item, itemNode ?? node, [...prefix, 'items', i], out, problems, posOf);
    });
    return;
  }
  if (typeof obj.apiVersion !== 'string' || typeof kind !== 'string') {
    problems.push({
      code: 'KW-LOAD004',
      severity: 'warning',
      message: 'document has no apiVersion/kind: not a Kubernetes object; skipped',
      source,
      hint: 'every manifest needs "apiVersion" and "kind"',
    });
    return;
  }
  out.push({
    value: obj,
    source,
    locate: (path) => locateIn(node, path, posOf) ?? source,
  });
}

/** The position of a field path inside a YAML node: the key of the field when it exists. */
function locateIn(
  node: YamlNode,
  path: FieldPath,
  posOf: (offset: number) => SourcePos,
): SourcePos | undefined {
  let current: unknown = node;
  let best: number | undefined = node.range?.[0];
  for (const part of path) {
    if (isMap(current)) {
      const pair = current.items.find(
        (p) => (p.key as { value?: unknown } | null)?.value === part,
      );
      if (!pair) break;
      const key = pair.key as YamlNode | null;
      best = key?.range?.[0] ?? best;
      current = pair.value;
    } else if (isSeq(current) && typeof part === 'number') {
      const item = current.items[part] as YamlNode | undefined;
      if (!item) break;
      best = item.range?.[0] ?? best;
      current = item;
    } else break;
  }
  return best === undefined ? undefined : posOf(best);
}
