import fc from 'fast-check';
import { stringify, type ToStringOptions } from 'yaml';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { FieldPath } from '../api/types.js';
import { parseYamlSubset } from './fast-yaml.js';
import { parseManifest, type ParseResult } from './parse.js';

const head = 'apiVersion: v1\nkind: ConfigMap\n';

/** `parseManifest` with the fast path switched off: the `yaml` library alone. */
let libraryParse: (text: string, file: string) => ParseResult;

beforeAll(async () => {
  let declined = 0;
  vi.resetModules();
  vi.doMock('./fast-yaml.js', async (original) => ({
    ...(await original<typeof import('./fast-yaml.js')>()),
    parseYamlSubset: () => {
      declined++;
      return undefined;
    },
  }));
  libraryParse = (await import('./parse.js')).parseManifest;
  vi.doUnmock('./fast-yaml.js');
  libraryParse(head, 'in.yaml');
  expect(declined).toBe(1);
});

/** Every field path of a value, in key order, with probes for absent fields below each one. */
function pathsOf(value: unknown, prefix: FieldPath = []): FieldPath[] {
  const out: FieldPath[] = [prefix];
  if (Array.isArray(value)) {
    value.forEach((item, i) => out.push(...pathsOf(item, [...prefix, i])));
    out.push([...prefix, value.length], [...prefix, 'absent']);
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      out.push(...pathsOf(v, [...prefix, k]));
      if (/^-?\d+$/.test(k)) out.push([...prefix, Number(k)]);
    }
    out.push([...prefix, 'absent'], [...prefix, 0]);
  } else out.push([...prefix, 'absent'], [...prefix, 0]);
  return out;
}

/** A value as text, keeping key order, -0, NaN and the infinities (own `constructor` keys too). */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value instanceof Date) return `Date(${value.getTime()})`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`;
  }
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  return JSON.stringify(value);
}

/** A comparable picture of a parse: values, problems and the position of every field. */
function picture(result: ParseResult): string {
  const objects = result.objects.map((o) => ({
    value: canonical(o.value),
    source: o.source,
    positions: pathsOf(o.value).map((p) => `${p.join('.')} ${JSON.stringify(o.locate(p))}`),
  }));
  return JSON.stringify({ problems: result.problems, objects }, null, 1);
}

/** Asserts the fast path took the text and agrees with the library on it. */
function expectFastEqualsLibrary(text: string): void {
  expect(parseYamlSubset(text), 'declined').toBeDefined();
  const fast = parseManifest(text, 'in.yaml');
  expect(picture(fast)).toBe(picture(libraryParse(text, 'in.yaml')));
}

/** Asserts the fast path declined and the result is the library's, problems included. */
function expectDeclined(text: string): void {
  expect(parseYamlSubset(text)).toBeUndefined();
  expect(picture(parseManifest(text, 'in.yaml'))).toBe(picture(libraryParse(text, 'in.yaml')));
}

describe('fast YAML path: constructs of the subset', () => {
  const cases: [string, string][] = [
    ['block mapping', `${head}metadata:\n  name: a\n  namespace: b\n`],
    ['sequence indented under its key', `${head}data:\n  items:\n    - a\n    - b\n`],
    [
      'sequence at the indent of its key',
      `${head}spec:\n  ports:\n  - port: 80\n    name: http\n  - port: 443\nz: 1\n`,
    ],
    ['compact mapping with extra spaces', `${head}x:\n-   a: 1\n    b: 2\n-\n  c: 3\n`],
    ['nested compact sequences', `${head}x:\n- - 1\n  - 2\n- - 3\n`],
    ['empty items and values', `${head}x:\n-\n- # c\n-   \n- b\ny:\nz: ~\n`],
    [
      'plain scalars of YAML 1.1',
      `${head}v: [yes, No, ON, off, y, n, "y", ~, null, NULL, Null, true, FALSE]\n`,
    ],
    [
      'integers',
      `${head}v: [0755, 0o17, 0x1F, 0b101, 1_000, -12, +7, 0, -0, 007, 08]\nb: 1:30\nc: -1:30:00\n`,
    ],
    [
      'floats',
      `${head}v: [1.5, -2., .5, 1e3, 1.5e-3, 12.50, .inf, -.Inf, +.INF, .nan, .NaN, 1_0.5]\nb: 190:20:30.15\n`,
    ],
    [
      'timestamps',
      `${head}a: 2001-12-14\nb: 2001-12-14t21:59:43.10-05:00\nc: 2001-12-14 21:59:43.10\n`,
    ],
    ['typed keys', `${head}data:\n  80: http\n  yes: y\n  ~: n\n  1.0: f\n  0x10: h\n  "80x": q\n`],
    [
      'plain scalars with indicators inside',
      `${head}v: a:b\nw: a#b\nx: a, b [c] {d}\ny: http://x.y/z?a=b#f\nz: -x\n`,
    ],
    [
      'comments everywhere',
      `# top\n${head}# between\nmetadata: # after key\n    # deeper\n  name: a # after value\n# low\n  labels: {} # flow\n`,
    ],
    [
      'double-quoted escapes',
      `${head}v: "tab\\tnl\\n q\\" bs\\\\ sl\\/ \\x41\\u00e9\\U0001F600 \\0\\a\\b\\e\\f\\r\\v\\N\\_\\L\\P\\ \\\t"\n`,
    ],
    ['single-quoted', `${head}v: 'it''s # not a comment: really'\nw: ''\n'k: x': 1\n`],
    ['quoted keys', `${head}"a.b/c": 1\n'd e': 2\n"": 3\n"#": 4\n`],
    [
      'flow collections',
      `${head}a: {}\nb: []\nc: {x: 1, "y": [a, "b", 'c'], z: {}}\nd: [ {a: b}, [1, 2,], ]\ne: {"j":1,'k': v}\n`,
    ],
    [
      'literal block scalars',
      `${head}a: |\n  one\n   two\n\n  # not a comment\nb: |-\n    x\n\n\nc: |\n\n  lead\n`,
    ],
    [
      'folded block scalars',
      `${head}a: >\n  one\n  two\n\n  three\n\n\n  four  \nb: >-\n  x\n  y\nc: >\n\n  z\n`,
    ],
    ['block scalars in sequences', `${head}a:\n- |\n  x\n- >-\n  y\n- k: |\n    z\n`],
    ['empty block scalars', `${head}a: |\nb: >-\n\nc: 1\n`],
    ['whitespace lines in a literal', `${head}a: |\n  x\n   \n  \n\n  y\n   \n`],
    ['block scalar at the end without newline', `${head}a: |\n  x`],
    [
      'documents and markers',
      `--- # first\n${head}...\n---\n${head}---\n\n---\n# only a comment\n--- \n${head}`,
    ],
    [
      'kind: List',
      'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n- apiVersion: v1\n  kind: PodList\n  items:\n  - {apiVersion: v1, kind: Pod}\n',
    ],
    ['root indented', `  apiVersion: v1\n  kind: X\n  a:\n  - 1\n`],
    ['root flow mapping', `--- # flow\n{apiVersion: v1, kind: X, a: [1, 2]}\n`],
    ['prototype keys', `${head}__proto__: x\nconstructor: y\ntoString: z\n`],
    ['unicode', `${head}ключ: значение\nemoji: "😀"\nnel: a\u0085b\n`],
    ['tabs inside scalars', `${head}a: "x\ty"\nb: 'x\ty'\nc: |\n  x\ty\n`],
    ['a scalar document', 'hello\n'],
    ['a document without kind', 'apiVersion: v1\nmetadata: {}\n'],
    ['List with a bad item', 'apiVersion: v1\nkind: List\nitems:\n- 1\n'],
    [
      'typed list items without kind',
      'apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: a}\n',
    ],
    ['known kind without apiVersion', 'kind: Service\nmetadata:\n  name: a\n'],
    ['date-like key', `${head}2001-01-01: x\n`],
    ['long plain key', `${head}${'k'.repeat(1000)}: v\n`],
  ];
  it.each(cases)('%s', (_name, text) => {
    expectFastEqualsLibrary(text);
  });
});

describe('fast YAML path: input outside the subset goes to the library', () => {
  const cases: [string, string][] = [
    ['anchors and aliases', `${head}a: &x 1\nb: *x\n`],
    ['tags', `${head}a: !!str 1\n`],
    ['merge keys', `${head}a: {x: 1}\nb:\n  <<: {y: 2}\n`],
    ['complex keys', `${head}? a\n: b\n`],
    ['multi-line plain scalar', `${head}a: one\n  two\n`],
    ['multi-line double-quoted scalar', `${head}a: "one\n  two"\n`],
    ['multi-line single-quoted scalar', `${head}a: 'one\n  two'\n`],
    ['multi-line flow collection', `${head}a: [1,\n  2]\n`],
    ['JSON document', '{\n  "apiVersion": "v1",\n  "kind": "X"\n}\n'],
    ['tab in indentation', `${head}a:\n\tb: 1\n`],
    ['tab after a key', `${head}a:\tb\n`],
    ['directive', `%YAML 1.1\n---\n${head}`],
    ['duplicate keys', `${head}a: 1\na: 2\n`],
    ['keys equal after resolution', `${head}yes: 1\ntrue: 2\n`],
    ['block scalar indentation indicator', `${head}a: |2\n   x\n`],
    ['keep chomping', `${head}a: |+\n  x\n\n`],
    ['bad indentation', `${head}a:\n  b: 1\n c: 2\n`],
    ['nested mapping on one line', `${head}a: b: c\n`],
    ['comment without a space', `${head}a: "b"#c\n`],
    ['unclosed quote', `${head}a: "b\n`],
    ['bad escape', `${head}a: "\\q"\n`],
    ['reserved character', `${head}a: @b\n`],
    ['CRLF line ends', `apiVersion: v1\r\nkind: X\r\n`],
    ['content after the document end', `${head}...\nb: 1\n`],
    ['content on the --- line', `--- ${head}`],
    ['too long key', `${head}${'k'.repeat(1100)}: v\n`],
    ['leading more-indented empty line', `${head}a: |\n    \n  x\n`],
    ['more-indented folded line', `${head}a: >\n  x\n    y\n  z\n`],
  ];
  it.each(cases)('%s', (_name, text) => {
    expectDeclined(text);
  });
});

/** Strings that look like other YAML 1.1 types or hold indicators, quotes and escapes. */
const trickyStrings = fc.constantFrom(
  ...['yes', 'No', 'ON', 'off', 'y', 'N', '~', 'null', 'NULL', '', '0755', '0o17', '0x1F', '1_000'],
  ...['1:30', '-1:30:00', '.inf', '-.Inf', '.NaN', '1e3', '1.5e-3', '2001-12-14', '+12', '-0', '0'],
  ...['12.50', '1.', 'a: b', 'a #b', '#x', '- x', '-x', '[x]', '{x}', '"q"', "'s'", 'tab\tin'],
  ...[
    'back\\slash',
    'new\nline',
    'two\n\nlines\n',
    'x\n  y\n',
    ' lead',
    'trail ',
    'ü',
    '😀',
    '\u0007',
  ],
  ...['\u0085', 'x\u2028y', '@at', '`tick', '%pct', '!bang', '&amp', '*star', '|pipe', '>gt', '?q'],
  ...[':c', ',comma', 'a,b', 'http://x.y/z?a=b#f', '--- ', '---', '...', '-', '<<', 'app-1', 'C'],
);

const keys = fc.oneof(
  fc.constantFrom(
    ...['name', 'app.kubernetes.io/name', 'a.b', 'x/y', 'port', '80', 'yes', 'true', 'null', '~'],
    ...[
      '0755',
      '1.5',
      '-dash',
      'with space',
      'q"uote',
      "it's",
      '#hash',
      'colon:in',
      'ключ',
      'constructor',
    ],
  ),
  fc.string({ maxLength: 6 }),
);

const scalars = fc.oneof(
  trickyStrings,
  fc.string({ maxLength: 12 }),
  fc.stringMatching(/^[a-z][a-z0-9.-]{0,10}$/),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);

const values = fc.letrec<{ tree: unknown }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalars,
    fc.array(tie('tree'), { maxLength: 4 }),
    fc.dictionary(keys, tie('tree'), { maxKeys: 4 }),
  ),
})).tree;

/** A manifest-like object: apiVersion and kind first, then random fields. */
const manifests = fc
  .tuple(
    fc.constantFrom('v1', 'apps/v1', 'networking.k8s.io/v1'),
    fc.constantFrom('Service', 'Pod', 'X'),
  )
  .chain(([apiVersion, kind]) =>
    fc.dictionary(keys, values, { maxKeys: 5 }).map((rest) => ({ apiVersion, kind, ...rest })),
  );

const libraryStyles: ToStringOptions[] = [
  {},
  { indentSeq: false },
  { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' },
  { defaultStringType: 'QUOTE_SINGLE' },
  { indent: 4 },
  { collectionStyle: 'flow', lineWidth: 0 },
  { defaultStringType: 'BLOCK_FOLDED' },
];

/** A serializer with the styles people write by hand: compact sequences, flow leaves, comments. */
function handWritten(value: unknown, seed: number): string {
  let n = seed;
  const pick = (k: number): number => (n = (Math.imul(n, 1103515245) + 12345) >>> 0) % k;
  const scalar = (v: unknown): string => {
    if (typeof v === 'string') {
      const plainOk = /^[^\s\-?:,[\]{}#&*!|>'"%@`][^\n\t]*$/.test(v) && !/(: | #|:$|\s$)/.test(v);
      if (plainOk && pick(2) === 0) return v;
      return pick(2) === 0 || v.includes('\n') ? JSON.stringify(v) : `'${v.replaceAll("'", "''")}'`;
    }
    if (typeof v === 'number')
      return Object.is(v, -0)
        ? '-0'
        : Number.isNaN(v)
          ? '.nan'
          : String(v).replace('Infinity', '.inf');
    if (typeof v === 'boolean') return String(v);
    return pick(2) === 0 ? '~' : 'null';
  };
  const key = (k: string): string => {
    const s = scalar(k);
    return s === '' ? '""' : s;
  };
  const flow = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map(flow).join(', ')}]`;
    if (typeof v === 'object' && v !== null) {
      return `{${Object.entries(v)
        .map(([k, x]) => `${key(k)}: ${flow(x)}`)
        .join(', ')}}`;
    }
    return scalar(v);
  };
  const isLeaf = (v: unknown): boolean =>
    typeof v !== 'object' || v === null || Object.keys(v).length === 0 || pick(4) === 0;
  const comment = (): string => (pick(5) === 0 ? ' # note' : '');
  const leaf = (v: unknown, indent: number): string => {
    if (typeof v !== 'string' || !v.includes('\n') || pick(3) === 0)
      return `${flow(v)}${comment()}`;
    const header = `${pick(2) === 0 ? '|' : '>'}${pick(2) === 0 ? '-' : ''}${comment()}`;
    const pad = ' '.repeat(indent + 2);
    const keepPad = pick(2) === 0;
    return [
      header,
      ...v.split('\n').map((line) => (line === '' && !keepPad ? '' : pad + line)),
    ].join('\n');
  };
  const lines: string[] = [];
  const emit = (v: unknown, indent: number, first: string): void => {
    const pad = ' '.repeat(indent);
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        const dash = `${i === 0 ? first : pad}-${' '.repeat(1 + pick(2))}`;
        if (isLeaf(item)) lines.push(`${dash}${leaf(item, indent)}`);
        else emit(item, dash.length, dash);
      });
    } else {
      Object.entries(v as object).forEach(([k, x], i) => {
        const lead = `${i === 0 ? first : pad}${key(k)}:`;
        if (pick(6) === 0) lines.push(`${pad}${pick(2) ? '' : '  '}# comment`);
        if (isLeaf(x)) lines.push(`${lead} ${leaf(x, indent)}`);
        else {
          lines.push(`${lead}${comment()}`);
          const sameIndent = Array.isArray(x) && pick(2) === 0;
          emit(
            x,
            sameIndent ? indent : indent + 2 + pick(2) * 2,
            ' '.repeat(sameIndent ? indent : indent + 2),
          );
        }
      });
    }
  };
  emit(value, 0, '');
  return `${lines.join('\n')}\n`;
}

/** Fixed seeds keep runs reproducible; FAST_YAML_RUNS=n explores n random cases per property. */
function runs(numRuns: number): fc.Parameters<unknown> {
  const explore = Number(process.env.FAST_YAML_RUNS ?? 0);
  return explore > 0 ? { numRuns: explore } : { numRuns, seed: 20240601 };
}

describe('fast YAML path against the yaml library on random manifests', () => {
  it('gives the same values and positions, or declines', () => {
    let taken = 0;
    let total = 0;
    fc.assert(
      fc.property(fc.array(manifests, { minLength: 1, maxLength: 3 }), fc.nat(), (docs, seed) => {
        const start = seed % 2 === 0 ? '' : '---\n';
        const texts = [
          ...libraryStyles.map(
            (style) =>
              start + docs.map((d) => stringify(d, { version: '1.1', ...style })).join('---\n'),
          ),
          docs
            .map((d, i) => handWritten(d, seed + i))
            .join(['---\n', '--- # next\n', '...\n---\n'][seed % 3]),
        ];
        for (const text of texts) {
          total++;
          if (parseYamlSubset(text) === undefined) continue;
          taken++;
          expect(picture(parseManifest(text, 'in.yaml'))).toBe(
            picture(libraryParse(text, 'in.yaml')),
          );
        }
      }),
      runs(300),
    );
    if (process.env.FAST_YAML_RUNS) console.log(`fast path took ${taken} of ${total}`);
    expect(taken / total).toBeGreaterThan(0.4);
  });

  it('takes every block-style manifest of plain words, numbers and flags', () => {
    const tame = fc.letrec<{ tree: unknown }>((tie) => ({
      tree: fc.oneof(
        { depthSize: 'small' },
        fc.oneof(
          fc.stringMatching(/^[a-z][a-z0-9./-]{0,10}$/),
          fc.integer(),
          fc.boolean(),
          fc.constant(null),
        ),
        fc.array(tie('tree'), { maxLength: 3 }),
        fc.dictionary(fc.stringMatching(/^[a-z][a-zA-Z0-9./-]{0,10}$/), tie('tree'), {
          maxKeys: 3,
        }),
      ),
    })).tree;
    fc.assert(
      fc.property(
        fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), tame, { maxKeys: 4 }),
        fc.nat(),
        (rest, seed) => {
          const doc = { apiVersion: 'v1', kind: 'X', ...rest };
          for (const text of [
            stringify(doc, { version: '1.1' }),
            stringify(doc, { version: '1.1', indentSeq: false }),
            handWritten(doc, seed),
          ]) {
            expectFastEqualsLibrary(text);
          }
        },
      ),
      runs(150),
    );
  });

  it('agrees with the library on mutated text, or declines', () => {
    const edits = fc.array(
      fc.tuple(
        fc.constantFrom('insert', 'delete', 'indent', 'dedent', 'duplicate'),
        fc.nat(),
        fc.constantFrom(...Array.from(':-#\'"[]{},|>&*!?%@` \t\n.~0aZ\\')),
      ),
      { minLength: 1, maxLength: 3 },
    );
    let taken = 0;
    fc.assert(
      fc.property(manifests, fc.nat(), edits, (doc, seed, changes) => {
        let text = seed % 2 === 0 ? stringify(doc, { version: '1.1' }) : handWritten(doc, seed);
        for (const [edit, at, char] of changes) {
          const i = at % (text.length + 1);
          const lineStart = text.lastIndexOf('\n', i - 1) + 1;
          const lineEnd = text.indexOf('\n', i) < 0 ? text.length : text.indexOf('\n', i);
          if (edit === 'insert') text = text.slice(0, i) + char + text.slice(i);
          else if (edit === 'delete') text = text.slice(0, i) + text.slice(i + 1);
          else if (edit === 'indent') text = `${text.slice(0, lineStart)} ${text.slice(lineStart)}`;
          else if (edit === 'dedent' && text[lineStart] === ' ') {
            text = text.slice(0, lineStart) + text.slice(lineStart + 1);
          } else if (edit === 'duplicate') {
            text =
              text.slice(0, lineEnd) + '\n' + text.slice(lineStart, lineEnd) + text.slice(lineEnd);
          }
        }
        if (parseYamlSubset(text) === undefined) return;
        taken++;
        expect(picture(parseManifest(text, 'in.yaml'))).toBe(
          picture(libraryParse(text, 'in.yaml')),
        );
      }),
      runs(400),
    );
    expect(taken).toBeGreaterThan(0);
  });

  it('declines when an exotic document joins the stream', () => {
    const exotic = fc.constantFrom(
      `${head}a: &x 1\nb: *x\n`,
      `${head}a: !!str 1\n`,
      `${head}<<: {a: 1}\n`,
      `${head}? a\n: b\n`,
      `${head}a: b\n  c\n`,
      `${head}a: |1\n  x\n`,
      `${head}a: 1\na: 2\n`,
      `${head}a: [\n]\n`,
      `${head}\ta: 1\n`,
    );
    fc.assert(
      fc.property(manifests, exotic, fc.boolean(), (doc, odd, before) => {
        const plain = stringify(doc, { version: '1.1' });
        expectDeclined(before ? `${odd}---\n${plain}` : `${plain}---\n${odd}`);
      }),
      runs(60),
    );
  });
});
