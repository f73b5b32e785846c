/**
 * Parsing manifests: multi-document YAML (read as YAML 1.1, like kubectl) and JSON, `kind: List`
 * and typed lists, with every object keeping the position of each of its fields.
 */
import { isMap, isSeq, LineCounter, parseAllDocuments, type Node as YamlNode } from 'yaml';
import { kubectlTags } from './yaml-tags.js';
import { jsonSyntaxError } from './json-check.js';
import { KINDS } from '../api/kinds.js';
import type { Problem } from '../api/problems.js';
import { formatPath, type FieldPath, type SourcePos } from '../api/types.js';
import { parseYamlSubset } from './fast-yaml.js';

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
  if (/\.json$/i.test(file) || (/^\s*[{[]/.test(text) && !/^---/m.test(text))) {
    const bad = jsonProblem(text, file);
    if (bad) return { objects, problems: [bad] };
  }
  const lineCounter = new LineCounter();
  const posOf = (offset: number): SourcePos => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  let docs;
  try {
    docs = parseYamlSubset(text, lineCounter) ?? parseAllDocuments(text, {
      version: '1.1',
      customTags: kubectlTags,
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
      const seen = new Set<string>();
      for (const e of doc.errors) {
        const p = yamlProblem(text, e.code, e.message, e.pos[0], posOf);
        const key = `${p.source?.line ?? 0}:${p.source?.column ?? 0}`;
        if (seen.has(key)) continue;
        seen.add(key);
        problems.push(p);
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

/** First line of a yaml error message, without the library's position suffix. */
function yamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?$/, '');
}

/** Turns a yaml library error into a problem that points where kubectl would. */
function yamlProblem(text: string, code: string, message: string, offset: number, posOf: (offset: number) => SourcePos): Problem {
  const base = { code: 'KW-YAML', severity: 'error' as const };
  if (code === 'MISSING_CHAR' && /quote/.test(message)) {
    const quoteChar = message.includes("'quote") ? "'" : '"';
    const open = text.lastIndexOf(quoteChar, Math.max(0, offset - 1));
    return { ...base, message: `invalid YAML: a ${quoteChar === '"' ? 'double' : 'single'}-quoted string is never closed`, source: posOf(open >= 0 ? open : offset), hint: `add the closing ${quoteChar}` };
  }
  if (code === 'BLOCK_AS_IMPLICIT_KEY' || code === 'MULTILINE_IMPLICIT_KEY') {
    const lineEnd = text.indexOf('\n', offset);
    let next = lineEnd < 0 ? offset : lineEnd + 1;
    while (next < text.length && (text[next] === ' ' || text[next] === '\n')) next++;
    return { ...base, message: 'invalid YAML: mapping values are not allowed here (this line is indented deeper than the keys around it)', source: posOf(next < text.length ? next : offset), hint: 'align the key with its siblings' };
  }
  if (code === 'DUPLICATE_KEY') {
    const keyText = /^["']?([^"':\n]+)/.exec(text.slice(offset))?.[1]?.trim() ?? '';
    const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
    const indent = offset - lineStart;
    const before = text.slice(0, lineStart).split('\n');
    let firstLine: number | undefined;
    for (let i = before.length - 1; i >= 0; i--) {
      const line = before[i] ?? '';
      const lead = line.length - line.trimStart().length;
      const body = line.trimStart().replace(/^- /, '');
      const col = line.trimStart().startsWith('- ') ? lead + 2 : lead;
      if (col === indent && (body.startsWith(`${keyText}:`) || body.startsWith(`"${keyText}":`))) {
        firstLine = i + 1;
        break;
      }
      if (lead < indent && line.trim() !== '' && !line.trimStart().startsWith('#') && !line.trimStart().startsWith('- ')) break;
    }
    return { ...base, message: `duplicate key: key "${keyText}" already set in map${firstLine ? ` (first at line ${firstLine})` : ''}`, source: posOf(offset), hint: 'remove one of the two keys' };
  }
  return { ...base, message: `invalid YAML: ${yamlMessage(message)}`, source: posOf(offset) };
}

/** Checks a JSON document strictly (kubectl decodes `{…}` as JSON, not as YAML flow style). */
function jsonProblem(text: string, file: string): Problem | undefined {
  const bad = jsonSyntaxError(text);
  if (!bad) return undefined;
  const before = text.slice(0, bad.offset);
  const line = before.split('\n').length;
  const column = bad.offset - before.lastIndexOf('\n');
  return { code: 'KW-JSON', severity: 'error', message: `invalid JSON: ${bad.message}`, source: { file, line, column }, hint: 'JSON allows no trailing commas, comments or unquoted keys' };
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
    // A typed list as the apiserver returns it (PodList) may leave kind and apiVersion off its items.
    const itemKind = kind === 'List' ? undefined : kind.slice(0, -'List'.length);
    (obj.items as unknown[]).forEach((item, i) => {
      const itemNode = isSeq(itemsNode) ? (itemsNode.items[i] as YamlNode | undefined) : undefined;
      const typed: unknown =
        itemKind && typeof item === 'object' && item !== null && !Array.isArray(item)
          ? { ...(typeof obj.apiVersion === 'string' ? { apiVersion: obj.apiVersion } : {}), kind: itemKind, ...(item as Record<string, unknown>) }
          : item;
      collect(typed, itemNode ?? node, [...prefix, 'items', i], out, problems, posOf);
    });
    return;
  }
  if (typeof obj.apiVersion !== 'string' && typeof kind === 'string' && KINDS.has(kind)) {
    const info = KINDS.get(kind);
    problems.push({
      code: 'KW-LOAD009',
      severity: 'error',
      message: `${kind}: apiVersion is missing`,
      source,
      path: 'apiVersion',
      hint: `add apiVersion: ${info?.groups[0] ?? 'v1'}`,
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
