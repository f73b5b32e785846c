/**
 * A fast reader for the YAML that Kubernetes manifests are written in: block mappings and
 * sequences, plain, quoted and block scalars, comments, document markers and one-line flow
 * collections. It builds the values and the `yaml` library nodes (with their source ranges) that
 * the library would compose with `parseManifest`'s options, so `parseManifest` unwraps lists and
 * locates fields with its own code. Anything else is declined as a whole, and the library reads it
 * and reports its errors.
 */
import {
  isScalar,
  Pair,
  Scalar,
  Schema,
  YAMLMap,
  YAMLSeq,
  type LineCounter,
  type ScalarTag,
  type ToJSOptions,
  type YAMLError,
} from 'yaml';
import { parseManifest, type ParseResult } from './parse.js';
import { kubectlTags } from './yaml-tags.js';

/** The nodes the fast path builds: `yaml` library nodes with their values and source ranges. */
export type FastNode = Scalar | YAMLMap | YAMLSeq;

/** One document of the stream, with the members of a `yaml` Document that `parseManifest` reads. */
export interface FastDocument {
  /** Always empty: text with errors is left to the library. */
  readonly errors: readonly YAMLError[];
  readonly contents: FastNode;
  /** The plain value, as `Document.toJS()` gives it. */
  toJS(options?: ToJSOptions): unknown;
}

/** Leaves the parser when the text is outside the subset; `parseYamlSubset` catches it. */
const decline = (): never => {
  throw new Error('outside the fast YAML subset');
};

/** The tags that resolve untagged plain scalars as `parseManifest` reads them, in order. */
const implicitTags = new Schema({
  schema: 'yaml-1.1',
  merge: true,
  customTags: kubectlTags,
}).tags.filter(
  (tag): tag is ScalarTag & { test: RegExp } =>
    !tag.collection && tag.default === true && tag.test !== undefined,
);
const resolveOptions = { intAsBigInt: false };

/** First characters of plain scalars that some YAML 1.1 tag may claim (`e0` is a float). */
const MAY_BE_TYPED = /^[-+.0-9~nNyYtTfFoOeE]/;

/** A plain scalar's value as the library's `toJS` gives it (timestamps stay `Date`s). */
function resolvePlain(source: string): unknown {
  if (!MAY_BE_TYPED.test(source)) return source;
  for (const tag of implicitTags) {
    if (tag.test.test(source)) {
      const resolved = tag.resolve(source, decline, resolveOptions);
      return isScalar(resolved) ? resolved.value : resolved;
    }
  }
  return source;
}

/** A mapping key as resolved: scalars that `String` renders like the library (not timestamps). */
type Key = string | number | boolean | null;

function plainKey(source: string): Key {
  const key = resolvePlain(source);
  const type = typeof key;
  if (key === null || type === 'string' || type === 'number' || type === 'boolean')
    return key as Key;
  return decline();
}

/** The property name the library's `toJS` gives a key. */
function keyName(key: Key): string {
  return key === null ? '' : String(key);
}

const SPACE = 0x20;
const TAB = 0x09;
const NL = 0x0a;
const HASH = 0x23;
const COLON = 0x3a;
const DASH = 0x2d;
const DOT = 0x2e;
const COMMA = 0x2c;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const BACKSLASH = 0x5c;
const PIPE = 0x7c;
const GT = 0x3e;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;

/** Characters that cannot start a plain scalar. */
const NOT_PLAIN_FIRST = new Set(Array.from('?:,[]{}#&*!|>\'"%@`', (c) => c.charCodeAt(0)));
const FLOW_INDICATORS = new Set([COMMA, LBRACKET, RBRACKET, LBRACE, RBRACE]);

/** Escapes of double-quoted scalars with a fixed replacement. */
const ESCAPES: Readonly<Record<string, string>> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  e: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  '\t': '\t',
};
const HEX_ESCAPE_LENGTH: Readonly<Record<string, number>> = { x: 2, u: 4, U: 8 };
const HEX = /^[0-9a-fA-F]+$/;

/** Longest implicit key the library accepts. */
const MAX_KEY_LENGTH = 1024;

/** Adds a key the way the library's `toJS` does (own property even for `__proto__`). */
function setKey(map: Record<string, unknown>, name: string, value: unknown): void {
  if (name in map) {
    Object.defineProperty(map, name, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else map[name] = value;
}

/**
 * Recursive descent over the text. The cursor always rests either inside a line or on the first
 * content character of a line, with `indent` giving that line's indentation (-1 at a document
 * marker or at the end).
 */
class SubsetParser {
  private pos = -1;
  private lineStart = 0;
  private indent = -1;
  /** The node the last parse method read. */
  private node: FastNode = new Scalar(null);
  /** The key `readKey` found: its resolved value and offset. */
  private key: Key = null;
  private keyStart = 0;
  private keyEnd = 0;
  private keyNode = new Scalar<unknown>(null);

  constructor(private readonly text: string) {}

  documents(): FastDocument[] {
    const docs: FastDocument[] = [];
    this.nextContent();
    let open = false;
    while (this.pos < this.text.length) {
      if (this.atMarker(DASH)) {
        this.pos += 3;
        this.endLine();
        this.nextContent();
        open = true;
      }
      if (this.indent >= 0) {
        const value = this.blockNode(-1, false);
        docs.push({ errors: [], contents: this.node, toJS: () => value });
        if (this.indent >= 0) decline();
        open = true;
      }
      if (this.atMarker(DOT)) {
        if (!open) decline();
        this.pos += 3;
        this.endLine();
        this.nextContent();
        if (this.pos < this.text.length && !this.atMarker(DASH)) decline();
        open = false;
      }
    }
    return docs;
  }

  /** Moves from the end of a line to the next line with content, skipping blanks and comments. */
  private nextContent(): void {
    const text = this.text;
    let p = this.pos;
    for (;;) {
      if (p >= text.length) break;
      const start = p + 1;
      let q = start;
      while (text.charCodeAt(q) === SPACE) q++;
      if (q >= text.length) break;
      const c = text.charCodeAt(q);
      if (c === NL) p = q;
      else if (c === HASH) p = this.lineEnd(q);
      else if (c === TAB) decline();
      else {
        this.lineStart = start;
        this.pos = q;
        this.indent = q === start && this.isMarker(start) ? -1 : q - start;
        return;
      }
    }
    this.pos = text.length;
    this.indent = -1;
  }

  private lineEnd(from: number): number {
    const end = this.text.indexOf('\n', from);
    return end < 0 ? this.text.length : end;
  }

  private isMarker(at: number): boolean {
    const text = this.text;
    const c = text.charCodeAt(at);
    if (
      (c !== DASH && c !== DOT) ||
      text.charCodeAt(at + 1) !== c ||
      text.charCodeAt(at + 2) !== c
    ) {
      return false;
    }
    return this.blankOrEnd(at + 3) || text.charCodeAt(at + 3) === TAB;
  }

  private atMarker(c: number): boolean {
    return this.indent < 0 && this.pos < this.text.length && this.text.charCodeAt(this.pos) === c;
  }

  /** Whether the character at `at` is a space, a line break or the end. */
  private blankOrEnd(at: number): boolean {
    const c = this.text.charCodeAt(at);
    return c === SPACE || c === NL || at >= this.text.length;
  }

  /** Accepts only spaces and a comment up to the end of the line. */
  private endLine(): void {
    const text = this.text;
    const from = this.pos;
    let p = from;
    while (text.charCodeAt(p) === SPACE) p++;
    const c = text.charCodeAt(p);
    if (p >= text.length || c === NL) this.pos = p;
    else if (c === HASH && (p > from || p === this.lineStart)) this.pos = this.lineEnd(p);
    else decline();
  }

  /** Whether a plain scalar may start at `at` (in a flow collection when `flow`). */
  private plainStarts(at: number, flow: boolean): boolean {
    const text = this.text;
    const c = text.charCodeAt(at);
    if (c === DASH) {
      const next = text.charCodeAt(at + 1);
      return !(this.blankOrEnd(at + 1) || next === TAB || (flow && FLOW_INDICATORS.has(next)));
    }
    return !NOT_PLAIN_FIRST.has(c);
  }

  /** A node at the cursor; `inline` when it follows `- ` or `key: ` on the same line. */
  private blockNode(parentIndent: number, inline: boolean): unknown {
    const column = this.pos - this.lineStart;
    if (this.text.charCodeAt(this.pos) === DASH && this.blankOrEnd(this.pos + 1)) {
      return this.blockSeq(column);
    }
    if (this.readKey()) return this.blockMap(column);
    return this.leafNode(parentIndent, inline);
  }

  /** Reads an implicit key (`name:` followed by a space or the line end) at the cursor, if any. */
  private readKey(): boolean {
    const text = this.text;
    const start = this.pos;
    const c = text.charCodeAt(start);
    let key: Key;
    let p: number;
    if (c === DQUOTE || c === SQUOTE) {
      if (!this.quotedOnLine(start)) return false;
      key = c === DQUOTE ? this.doubleQuoted() : this.singleQuoted();
      p = this.pos;
      this.keyEnd = p;
      while (text.charCodeAt(p) === SPACE) p++;
      if (text.charCodeAt(p) !== COLON || !this.blankOrEnd(p + 1)) {
        this.pos = start;
        return false;
      }
    } else {
      if (!this.plainStarts(start, false)) return false;
      p = start;
      for (;;) {
        const ch = text.charCodeAt(p);
        if (ch === NL || p >= text.length) return false;
        if (ch === TAB) decline();
        if (ch === SPACE && text.charCodeAt(p + 1) === HASH) return false;
        if (ch === COLON && this.blankOrEnd(p + 1)) break;
        p++;
      }
      let end = p;
      while (text.charCodeAt(end - 1) === SPACE) end--;
      key = plainKey(text.slice(start, end));
      this.keyEnd = end;
    }
    if (p - start > MAX_KEY_LENGTH) decline();
    this.key = key;
    this.keyStart = start;
    this.keyNode = scalarAt(key, start, this.keyEnd);
    this.pos = p + 1;
    return true;
  }

  /** Whether the quoted scalar at `start` closes on its own line. */
  private quotedOnLine(start: number): boolean {
    const text = this.text;
    const quote = text.charCodeAt(start);
    for (let p = start + 1; p < text.length; p++) {
      const c = text.charCodeAt(p);
      if (c === NL) return false;
      if (quote === DQUOTE && c === BACKSLASH) p++;
      else if (c === quote) {
        if (quote === SQUOTE && text.charCodeAt(p + 1) === SQUOTE) p++;
        else return true;
      }
    }
    return false;
  }

  /** A block mapping whose first key `readKey` has just read; entries sit at `indent`. */
  private blockMap(indent: number): Record<string, unknown> {
    const text = this.text;
    const map: Record<string, unknown> = {};
    const node = new YAMLMap();
    const start = this.keyStart;
    for (;;) {
      const key = this.key;
      const keyNode = this.keyNode;
      const name = keyName(key);
      if (name === '<<' || Object.hasOwn(map, name)) decline();
      let p = this.pos;
      while (text.charCodeAt(p) === SPACE) p++;
      const c = text.charCodeAt(p);
      let value: unknown = null;
      if (p >= text.length || c === NL || c === HASH) {
        this.endLine();
        this.nextContent();
        if (this.indent > indent) value = this.blockNode(indent, false);
        else if (this.indent === indent && this.atSeqEntry()) value = this.blockSeq(indent);
        else this.node = scalarAt(null, p, p);
      } else {
        this.pos = p;
        value = this.leafNode(indent, true);
      }
      setKey(map, name, value);
      node.items.push(new Pair(keyNode, this.node));
      if (this.indent < indent) break;
      if (this.indent > indent || !this.readKey()) decline();
    }
    this.node = collectionNode(node, start);
    return map;
  }

  private atSeqEntry(): boolean {
    return this.text.charCodeAt(this.pos) === DASH && this.blankOrEnd(this.pos + 1);
  }

  /** A block sequence whose `-` indicators sit at `indent`. */
  private blockSeq(indent: number): unknown[] {
    const text = this.text;
    const items: unknown[] = [];
    const node = new YAMLSeq();
    const start = this.pos;
    for (;;) {
      const afterDash = this.pos + 1;
      let p = afterDash;
      while (text.charCodeAt(p) === SPACE) p++;
      const c = text.charCodeAt(p);
      this.pos = p;
      if (p >= text.length || c === NL || c === HASH) {
        this.pos = afterDash;
        this.endLine();
        this.nextContent();
        if (this.indent > indent) items.push(this.blockNode(indent, false));
        else {
          items.push(null);
          this.node = scalarAt(null, p, p);
        }
      } else if (c === TAB) decline();
      else items.push(this.blockNode(indent, true));
      node.items.push(this.node);
      if (this.indent < indent) break;
      if (this.indent > indent) decline();
      if (!this.atSeqEntry()) break;
    }
    this.node = collectionNode(node, start);
    return items;
  }

  /** A scalar or one-line flow collection, then the move to the next content line. */
  private leafNode(parentIndent: number, inline: boolean): unknown {
    const c = this.text.charCodeAt(this.pos);
    if (c === PIPE || c === GT) {
      if (!inline) decline();
      return this.blockScalar(parentIndent);
    }
    const value = c === LBRACKET || c === LBRACE ? this.flowCollection() : this.flowScalar(false);
    this.endLine();
    this.nextContent();
    return value;
  }

  /** A quoted or plain scalar on the current line. */
  private flowScalar(inFlow: boolean): unknown {
    const start = this.pos;
    const c = this.text.charCodeAt(start);
    let value: unknown;
    if (c === DQUOTE) value = this.doubleQuoted();
    else if (c === SQUOTE) value = this.singleQuoted();
    else value = this.plainScalar(inFlow);
    this.node = scalarAt(value, start, this.pos);
    return value;
  }

  /** A plain scalar on one line (ended by `,`, brackets and `:` too in a flow collection). */
  private plainScalar(flow: boolean): unknown {
    const text = this.text;
    const start = this.pos;
    if (!this.plainStarts(start, flow)) decline();
    let p = start;
    let end = start;
    for (;;) {
      const c = text.charCodeAt(p);
      if (c === NL || p >= text.length) break;
      if (c === SPACE) {
        if (text.charCodeAt(p + 1) === HASH) break;
      } else if (c === TAB) decline();
      else if (c === COLON) {
        const next = text.charCodeAt(p + 1);
        if (flow && !(this.blankOrEnd(p + 1) || FLOW_INDICATORS.has(next))) decline();
        if (flow || this.blankOrEnd(p + 1)) break;
        end = p + 1;
      } else if (flow && FLOW_INDICATORS.has(c)) break;
      else end = p + 1;
      p++;
    }
    this.pos = end;
    return resolvePlain(text.slice(start, end));
  }

  /** A double-quoted scalar closed on its line. */
  private doubleQuoted(): string {
    const text = this.text;
    let p = this.pos + 1;
    let chunk = p;
    let out = '';
    for (;;) {
      const c = text.charCodeAt(p);
      if (c === NL || p >= text.length) decline();
      if (c === DQUOTE) break;
      if (c !== BACKSLASH) {
        p++;
        continue;
      }
      out += text.slice(chunk, p);
      const escape = text.charAt(p + 1);
      const fixed = ESCAPES[escape];
      const hexLength = HEX_ESCAPE_LENGTH[escape];
      if (fixed !== undefined) {
        out += fixed;
        p += 2;
      } else if (hexLength !== undefined) {
        const hex = text.slice(p + 2, p + 2 + hexLength);
        const code = hex.length === hexLength && HEX.test(hex) ? parseInt(hex, 16) : NaN;
        if (!(code <= 0x10ffff)) decline();
        out += String.fromCodePoint(code);
        p += 2 + hexLength;
      } else decline();
      chunk = p;
    }
    this.pos = p + 1;
    return out + text.slice(chunk, p);
  }

  /** A single-quoted scalar closed on its line. */
  private singleQuoted(): string {
    const text = this.text;
    let p = this.pos + 1;
    let chunk = p;
    let out = '';
    for (;;) {
      const c = text.charCodeAt(p);
      if (c === NL || p >= text.length) decline();
      if (c === SQUOTE) {
        if (text.charCodeAt(p + 1) !== SQUOTE) break;
        out += text.slice(chunk, p + 1);
        p += 2;
        chunk = p;
      } else p++;
    }
    this.pos = p + 1;
    return out + text.slice(chunk, p);
  }

  /** `[...]` or `{...}` closed on the same line. */
  private flowCollection(): unknown {
    return this.text.charCodeAt(this.pos) === LBRACKET ? this.flowSeq() : this.flowMap();
  }

  private flowSeq(): unknown[] {
    const items: unknown[] = [];
    const node = new YAMLSeq();
    const start = this.pos;
    this.pos++;
    this.flowSpaces();
    if (this.text.charCodeAt(this.pos) !== RBRACKET) {
      for (;;) {
        items.push(this.flowValue());
        node.items.push(this.node);
        if (!this.flowSeparator(RBRACKET)) break;
      }
    }
    this.pos++;
    this.node = collectionNode(node, start, this.pos);
    return items;
  }

  private flowMap(): Record<string, unknown> {
    const text = this.text;
    const map: Record<string, unknown> = {};
    const node = new YAMLMap();
    const start = this.pos;
    this.pos++;
    this.flowSpaces();
    if (text.charCodeAt(this.pos) !== RBRACE) {
      for (;;) {
        const keyStart = this.pos;
        const c = text.charCodeAt(keyStart);
        let key: Key;
        if (c === DQUOTE || c === SQUOTE) {
          key = c === DQUOTE ? this.doubleQuoted() : this.singleQuoted();
        } else {
          this.plainScalar(true);
          key = plainKey(text.slice(keyStart, this.pos));
          if (!this.blankOrEnd(this.pos + 1)) decline();
        }
        const keyNode = scalarAt(key, keyStart, this.pos);
        this.flowSpaces();
        if (text.charCodeAt(this.pos) !== COLON) decline();
        this.pos++;
        this.flowSpaces();
        const name = keyName(key);
        if (name === '<<' || Object.hasOwn(map, name)) decline();
        const next = text.charCodeAt(this.pos);
        if (next === COMMA || next === RBRACE) decline();
        setKey(map, name, this.flowValue());
        node.items.push(new Pair(keyNode, this.node));
        if (!this.flowSeparator(RBRACE)) break;
      }
    }
    this.pos++;
    this.node = collectionNode(node, start, this.pos);
    return map;
  }

  /** A value inside a flow collection. */
  private flowValue(): unknown {
    const c = this.text.charCodeAt(this.pos);
    return c === LBRACKET || c === LBRACE ? this.flowCollection() : this.flowScalar(true);
  }

  /** After a flow entry: `,` (true when another entry follows) or the closing bracket (false). */
  private flowSeparator(close: number): boolean {
    this.flowSpaces();
    const c = this.text.charCodeAt(this.pos);
    if (c === close) return false;
    if (c !== COMMA) decline();
    this.pos++;
    this.flowSpaces();
    return this.text.charCodeAt(this.pos) !== close;
  }

  /** Spaces inside a flow collection; the collection must not continue on another line. */
  private flowSpaces(): void {
    const text = this.text;
    while (text.charCodeAt(this.pos) === SPACE) this.pos++;
    const c = text.charCodeAt(this.pos);
    if (c === NL || c === TAB || c === HASH || this.pos >= text.length) decline();
  }

  /** A literal (`|`) or folded (`>`) block scalar, clipped or stripped (`-`). */
  private blockScalar(parentIndent: number): string {
    const text = this.text;
    const start = this.pos;
    const folded = text.charCodeAt(start) === GT;
    const strip = text.charCodeAt(start + 1) === DASH;
    this.pos = start + (strip ? 2 : 1);
    this.endLine();
    let out = '';
    let hasContent = false;
    let contentIndent = -1;
    let emptyLines = 0;
    let widestLeading = 0;
    let lineEnd = this.pos;
    while (lineEnd < text.length) {
      const lineStart = lineEnd + 1;
      let p = lineStart;
      while (text.charCodeAt(p) === SPACE) p++;
      const width = p - lineStart;
      const c = text.charCodeAt(p);
      const blank = c === NL || p >= text.length;
      if (c === TAB) decline();
      if (blank && (contentIndent < 0 || width <= contentIndent)) {
        if (contentIndent < 0) widestLeading = Math.max(widestLeading, width);
        emptyLines++;
        lineEnd = p;
        continue;
      }
      if (contentIndent < 0) {
        if (width <= parentIndent) break;
        if (widestLeading > width) decline();
        contentIndent = width;
      } else if (width < contentIndent) break;
      if (folded && width > contentIndent) decline();
      lineEnd = blank ? p : this.lineEnd(p);
      out += hasContent ? lineJoint(folded, emptyLines) : '\n'.repeat(emptyLines);
      out += text.slice(lineStart + contentIndent, lineEnd);
      emptyLines = 0;
      hasContent = true;
    }
    if (!hasContent && widestLeading > 0) decline();
    const value = hasContent && !strip ? `${out}\n` : out;
    this.node = scalarAt(value, start, lineEnd);
    this.pos = lineEnd;
    this.nextContent();
    return value;
  }
}

/** What joins two lines of a block scalar that have `emptyLines` empty lines between them. */
function lineJoint(folded: boolean, emptyLines: number): string {
  if (!folded) return '\n'.repeat(emptyLines + 1);
  return emptyLines === 0 ? ' ' : '\n'.repeat(emptyLines);
}

/** A scalar node as the library composes it: the resolved value and its source range. */
function scalarAt(value: unknown, start: number, end: number): Scalar {
  const node = new Scalar(value);
  node.range = [start, end, end];
  return node;
}

/** Gives a filled collection node its range, up to `end` or the end of its last entry. */
function collectionNode<T extends YAMLMap | YAMLSeq>(node: T, start: number, end?: number): T {
  const last: unknown = node.items[node.items.length - 1];
  const lastNode = last instanceof Pair ? (last.value as FastNode) : (last as FastNode | undefined);
  const stop = end ?? lastNode?.range?.[1] ?? start;
  node.range = [start, stop, stop];
  return node;
}

/**
 * Parses a YAML stream in the manifest subset into documents with `yaml` library nodes, adding the
 * line starts to `lineCounter`; `undefined` (and `lineCounter` untouched) when any part is outside.
 */
export function parseYamlSubset(
  text: string,
  lineCounter?: LineCounter,
): FastDocument[] | undefined {
  if (text.includes('\r') || text.includes('\uFEFF')) return undefined;
  let docs: FastDocument[];
  try {
    docs = new SubsetParser(text).documents();
  } catch {
    return undefined;
  }
  if (lineCounter) {
    lineCounter.addNewLine(0);
    for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) {
      lineCounter.addNewLine(at + 1);
    }
  }
  return docs;
}

/**
 * `parseManifest`'s result when the fast path takes the text, `undefined` when the `yaml` library
 * reads it instead; for tests that compare the two paths.
 */
export function parseManifestFast(text: string, file: string): ParseResult | undefined {
  return parseYamlSubset(text) ? parseManifest(text, file) : undefined;
}
