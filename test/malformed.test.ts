/**
 * The malformed-input corpus: every file in `test/corpus/malformed/` is a realistic mistake, and
 * `cases.json` says what kwire must answer (exit code, `file:line:column`, field path, message).
 * Binary data, non-UTF-8 text and oversized inputs are generated at test time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Io } from '../src/cli/context.js';
import { main } from '../src/cli/main.js';
import { MAX_FILE_BYTES } from '../src/store/index.js';

/** One entry of `cases.json`. */
interface MalformedCase {
  readonly file: string;
  /** The mistake the file makes, in a few words. */
  readonly mistake: string;
  /** Exit code of `kwire get pods`. @default 2 */
  readonly expectCode?: number;
  /** Prefix of the expected stderr line. @default 'error' (or 'warning' when expectCode is 0) */
  readonly severity?: 'error' | 'warning';
  readonly expectMessage: string;
  readonly expectLine: number;
  readonly expectColumn?: number;
  readonly expectPath?: string;
  /** Set while kwire gets this case wrong: the case is skipped with this reason. */
  readonly bug?: string;
  /** The bug is an internal error (exit 4): `lint` and the whole-corpus run leave the file out too. */
  readonly crash?: boolean;
}

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CORPUS_DIR = 'test/corpus/malformed';
const CORPUS = join(ROOT, CORPUS_DIR);
const cases = JSON.parse(readFileSync(join(CORPUS, 'cases.json'), 'utf8')) as MalformedCase[];
const STACK_TRACE = /\n\s+at /;

async function run(argv: readonly string[], cwd: string, stdin = ''): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    readStdin: () => Promise.resolve(stdin),
    cwd,
    color: false,
  };
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function expectNoCrash(r: Run): void {
  const all = `${r.out}\n${r.err}`;
  expect(all).not.toMatch(STACK_TRACE);
  expect(all).not.toContain('internal error');
  expect(r.code).not.toBe(4);
}

/** The stderr line that carries the case's position, path and message, if any. */
function reportedLine(r: Run, c: MalformedCase, file: string): string | undefined {
  const severity = c.severity ?? ((c.expectCode ?? 2) === 0 ? 'warning' : 'error');
  const at = `${severity}: ${file}:${c.expectLine}:${c.expectColumn === undefined ? '' : `${c.expectColumn}:`}`;
  return r.err
    .split('\n')
    .find((l) => l.startsWith(at) && l.includes(c.expectMessage) && (c.expectPath === undefined || l.includes(`: ${c.expectPath}: `)));
}

describe('corpus', () => {
  it('holds at least 45 mistakes, each file listed once in cases.json', () => {
    const files = readdirSync(CORPUS).filter((f) => f !== 'cases.json').sort();
    expect(files.length).toBeGreaterThanOrEqual(45);
    expect(cases.map((c) => c.file).sort()).toEqual(files);
  });
});

describe('kwire get on a malformed file', () => {
  for (const c of cases) {
    const title = `${c.file}: ${c.mistake}`;
    const test = c.bug === undefined ? it : it.skip;
    test(c.bug === undefined ? title : `${title} (bug: ${c.bug})`, async () => {
      const rel = `${CORPUS_DIR}/${c.file}`;
      const r = await run(['get', 'pods', '-f', join(CORPUS, c.file)], ROOT);
      expectNoCrash(r);
      expect(r.code).toBe(c.expectCode ?? 2);
      expect(r.err).toContain(`${rel}:${c.expectLine}:${c.expectColumn ?? ''}`);
      expect(r.err).toContain(c.expectMessage);
      if (c.expectPath !== undefined) expect(r.err).toContain(`: ${c.expectPath}: `);
      expect(reportedLine(r, c, rel), r.err).toBeDefined();
    });
  }
});

describe('kwire lint on a malformed file', () => {
  for (const c of cases) {
    const test = c.crash ? it.skip : it;
    test(`${c.file}: never an internal error${c.crash ? ` (bug: ${c.bug ?? ''})` : ''}`, async () => {
      const r = await run(['lint', '-f', join(CORPUS, c.file)], ROOT);
      expectNoCrash(r);
      expect([0, 1, 2]).toContain(r.code);
    });
  }
});

describe('the whole corpus at once', () => {
  it('reports every mistake in one run (-f repeated, one per file)', async () => {
    const first = (c: MalformedCase): number => (c.file === 'duplicate-objects.yaml' ? 0 : 1);
    const ordered = cases.filter((c) => !c.crash).sort((a, b) => first(a) - first(b));
    const files = ordered.flatMap((c) => ['-f', join(CORPUS, c.file)]);
    const r = await run(['get', 'svc', ...files], ROOT);
    expectNoCrash(r);
    expect(r.code).toBe(2);
    // A reconcile refusal needs the object to load; in one run with the whole corpus another file's
    // Service "web" comes first, so service-nodeport-80.yaml is refused as a duplicate instead.
    for (const c of cases.filter((k) => k.bug === undefined && k.file !== 'service-nodeport-80.yaml')) {
      expect(reportedLine(r, c, `${CORPUS_DIR}/${c.file}`), `${c.file}\n${r.err}`).toBeDefined();
    }
  });

  it('fixed: -f DIR on the corpus exits 4 (the crash cases above); it should report them all and exit 2', async () => {
    const r = await run(['get', 'svc', '-f', CORPUS], ROOT);
    expectNoCrash(r);
    expect(r.code).toBe(2);
  });

  it('reports a kind it does not model once, however many objects have it', async () => {
    const r = await run(['get', 'pods', '-f', join(CORPUS, 'unknown-kind.yaml'), '-f', join(CORPUS, 'unknown-kind.yaml')], ROOT);
    expect(r.err.split('\n').filter((l) => l.includes('"ServiceMonitor"'))).toHaveLength(1);
  });
});

describe('inputs that are not text manifests (generated)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kwire-malformed-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a gzipped chart passed with -f: not a text manifest, at the first NUL byte', async () => {
    const gz = gzipSync(Buffer.from('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n'));
    await writeFile(join(dir, 'chart.tgz'), gz);
    const r = await run(['get', 'pods', '-f', join(dir, 'chart.tgz')], dir);
    expectNoCrash(r);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: chart\.tgz:1:\d+: not a text manifest \(NUL byte at byte 3\)/m);
  });

  it('random binary garbage: a clean error, for get and lint', async () => {
    let seed = 42;
    const bytes = Buffer.alloc(64 * 1024);
    for (let i = 0; i < bytes.length; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      bytes[i] = seed >> 16 & 0xff;
    }
    await writeFile(join(dir, 'garbage.yaml'), bytes);
    for (const verb of ['get', 'lint']) {
      const r = await run(verb === 'get' ? ['get', 'pods', '-f', join(dir, 'garbage.yaml')] : ['lint', '-f', join(dir, 'garbage.yaml')], dir);
      expectNoCrash(r);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^error: garbage\.yaml:\d+:\d+: not a text manifest/m);
    }
  });

  it('a manifest saved as Latin-1: invalid UTF-8, at its line', async () => {
    const text = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: menu\ndata:\n  dish: café\n';
    await writeFile(join(dir, 'latin1.yaml'), Buffer.from(text, 'latin1'));
    const r = await run(['get', 'pods', '-f', join(dir, 'latin1.yaml')], dir);
    expectNoCrash(r);
    expect(r.code).toBe(2);
    expect(r.err).toContain('error: latin1.yaml:6:12: not a text manifest (invalid UTF-8');
  });

  it('a 50 MB file: refused as too large, without reading it', async () => {
    const doc = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: v\n---\n';
    const big = Buffer.alloc(50 * 1024 * 1024, doc);
    expect(big.length).toBeGreaterThan(MAX_FILE_BYTES);
    await writeFile(join(dir, 'big.yaml'), big);
    const r = await run(['get', 'pods', '-f', join(dir, 'big.yaml')], dir);
    expectNoCrash(r);
    expect(r.code).toBe(2);
    expect(r.err).toContain('error: big.yaml:1:1: file is too large (50.0 MiB; kwire reads at most 32 MiB per file)');
    await rm(join(dir, 'big.yaml'));
  });

  it('fixed: 50 MB on stdin (-f -) is not size-checked like a file and takes minutes to parse; it should be refused like a file', async () => {
    const doc = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: v\n---\n';
    const r = await run(['get', 'pods', '-f', '-'], dir, doc.repeat(Math.ceil((50 * 1024 * 1024) / doc.length)));
    expectNoCrash(r);
    expect(r.code).toBe(2);
    expect(r.err).toContain('error: <stdin>:1:1: stdin is too large');
  });

  it('a path that does not exist: exit 2 with the -f hint', async () => {
    const r = await run(['get', 'pods', '-f', join(dir, 'nope.yaml')], dir);
    expectNoCrash(r);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`the path "${join(dir, 'nope.yaml')}" does not exist; check the -f argument`);
  });
});
