/**
 * The object store: reads manifests from files, directories and stdin, normalizes and validates
 * them, and keeps each object with its source position.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { KINDS } from '../api/kinds.js';
import type { Problem } from '../api/problems.js';
import type { FieldPath, KubeObject, SourcePos } from '../api/types.js';
import { normalizeMetadata, validateObject, type LocatedObject } from '../api/validate.js';
import { MAX_FILE_BYTES, parseManifest } from './parse.js';

export { parseManifest, MAX_FILE_BYTES } from './parse.js';
export type { LocatedObject } from '../api/validate.js';

/** Where to read from: a path (file or directory) or `-` for stdin. */
export interface LoadOptions {
  readonly files: readonly string[];
  readonly recursive?: boolean;
  /** Namespace for namespaced objects that name none (`-n`); `default` otherwise. */
  readonly namespace?: string;
  /** Reads stdin when `-` is given. */
  readonly readStdin?: () => Promise<string>;
  /** Base directory for the file names in positions (paths are shown relative to it). */
  readonly cwd?: string;
}

/** The store's content after loading. */
export interface Store {
  readonly objects: readonly LocatedObject[];
  /** Every problem met; loading failed when any has severity `error`. */
  readonly problems: readonly Problem[];
  /** Source of an object by identity. */
  readonly sourceOf: (o: KubeObject) => SourcePos | undefined;
  /** Source of a field of an object. */
  readonly locate: (o: KubeObject, path: FieldPath) => SourcePos | undefined;
}

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

async function listFiles(path: string, recursive: boolean, top: boolean): Promise<string[]> {
  const st = await stat(path);
  if (!st.isDirectory()) return [path];
  if (!top && !recursive) return [];
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const e of entries) {
    const full = join(path, e.name);
    if (e.isDirectory()) {
      if (recursive) out.push(...(await listFiles(full, recursive, false)));
    } else if (MANIFEST_EXT.test(e.name)) out.push(full);
  }
  return out;
}

/** Reads every source into text, reporting missing or oversized files as problems. */
async function readSources(opts: LoadOptions): Promise<{ texts: { file: string; text: string }[]; problems: Problem[] }> {
  const texts: { file: string; text: string }[] = [];
  const problems: Problem[] = [];
  const cwd = opts.cwd ?? process.cwd();
  const display = (p: string): string => {
    const rel = relative(cwd, p);
    return rel.startsWith('..') ? p : rel;
  };
  for (const spec of opts.files) {
    if (spec === '-') {
      const text = opts.readStdin ? await opts.readStdin() : '';
      if (text.length > MAX_FILE_BYTES) {
        problems.push({
          code: 'KW-LOAD006',
          severity: 'error',
          message: `stdin is too large (${(text.length / 1048576).toFixed(1)} MiB; kwire reads at most ${MAX_FILE_BYTES / 1048576} MiB per input)`,
          source: { file: '<stdin>', line: 1, column: 1 },
          hint: 'split it into several files; the apiserver itself refuses requests over 3 MiB',
        });
        continue;
      }
      texts.push({ file: '<stdin>', text });
      continue;
    }
    let files: string[];
    try {
      files = await listFiles(resolve(cwd, spec), opts.recursive ?? false, true);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problems.push({
        code: 'KW-LOAD001',
        severity: 'error',
        message: code === 'ENOENT' ? `the path "${spec}" does not exist` : `cannot read "${spec}": ${code ?? 'error'}`,
        hint: code === 'ENOENT' ? 'check the -f argument' : undefined,
      });
      continue;
    }
    if (files.length === 0) {
      problems.push({ code: 'KW-LOAD005', severity: 'warning', message: `no manifests (*.yaml, *.yml, *.json) in "${spec}"`, hint: opts.recursive ? undefined : 'use -R to read subdirectories' });
    }
    for (const f of files) {
      const size = (await stat(f)).size;
      if (size > MAX_FILE_BYTES) {
        problems.push({
          code: 'KW-LOAD006',
          severity: 'error',
          message: `file is too large (${(size / 1048576).toFixed(1)} MiB; kwire reads at most ${MAX_FILE_BYTES / 1048576} MiB per file)`,
          source: { file: display(f), line: 1, column: 1 },
          hint: 'split it into several files; the apiserver itself refuses requests over 3 MiB',
        });
        continue;
      }
      const buf = await readFile(f);
      texts.push({ file: display(f), text: new TextDecoder('utf-8', { fatal: false }).decode(buf) });
    }
  }
  return { texts, problems };
}

/** Builds a store from already-read texts (also used for tests and stdin). */
export function storeFromTexts(texts: readonly { file: string; text: string }[], namespace = 'default'): Store {
  const problems: Problem[] = [];
  const objects: LocatedObject[] = [];
  const unknownKinds = new Set<string>();
  const seen = new Map<string, LocatedObject>();
  const byObject = new Map<KubeObject, LocatedObject>();
  for (const { file, text } of texts) {
    const parsed = parseManifest(text, file);
    problems.push(...parsed.problems);
    for (const raw of parsed.objects) {
      const body = raw.value as Record<string, unknown>;
      const kind = String(body.kind);
      const info = KINDS.get(kind);
      if (!info) {
        const key = `${String(body.apiVersion)}/${kind}`;
        if (!unknownKinds.has(key)) {
          unknownKinds.add(key);
          problems.push({
            code: 'KW-LOAD007',
            severity: 'warning',
            message: `kind "${kind}" (${String(body.apiVersion)}) is not modelled by kwire; objects of this kind are skipped`,
            source: raw.source,
          });
        }
        continue;
      }
      const object = normalizeMetadata(body, namespace, info.namespaced);
      const item: LocatedObject = { object, source: raw.source, locate: raw.locate };
      const found = validateObject(item, body);
      problems.push(...found);
      if (found.some((p) => p.severity === 'error')) continue;
      const key = `${kind}/${object.metadata.namespace}/${object.metadata.name}`;
      const prev = seen.get(key);
      if (prev) {
        problems.push({
          code: 'KW-LOAD008',
          severity: 'error',
          message: `duplicate object: ${kind} "${object.metadata.name}" is already defined at ${prev.source.file}:${prev.source.line}:${prev.source.column}`,
          source: raw.source,
          object: { kind, namespace: object.metadata.namespace || undefined, name: object.metadata.name },
          hint: 'rename one of them or remove the copy',
        });
        continue;
      }
      seen.set(key, item);
      objects.push(item);
      byObject.set(object, item);
    }
  }
  return {
    objects,
    problems,
    sourceOf: (o) => byObject.get(o)?.source,
    locate: (o, path) => byObject.get(o)?.locate(path),
  };
}

/** Loads every source of the options into a store. Never throws for bad input. */
export async function loadStore(opts: LoadOptions): Promise<Store> {
  const { texts, problems } = await readSources(opts);
  const store = storeFromTexts(texts, opts.namespace ?? 'default');
  return { ...store, problems: [...problems, ...store.problems] };
}
