/**
 * Request-target normalization before matching, as nginx does: percent-decoding of unreserved
 * characters only (so `%2F` never becomes a separator), merged slashes, and dot segments removed,
 * so `/public/../admin` is routed (and sent upstream) as `/admin`.
 */

/** A normalized request target. */
export interface NormalizedTarget {
  readonly path: string;
  /** The query without `?`, as sent ('' when none). */
  readonly query: string;
}

const HEX = /^[0-9A-Fa-f]{2}$/;

function isUnreserved(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x2d ||
    code === 0x2e ||
    code === 0x5f ||
    code === 0x7e
  );
}

/** Decodes `%XX` of unreserved characters, upper-cases the others; undefined for a bad escape. */
function decodeUnreserved(path: string): string | undefined {
  if (!path.includes('%')) return path;
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i] ?? '';
    if (c !== '%') {
      out += c;
      continue;
    }
    const hex = path.slice(i + 1, i + 3);
    if (!HEX.test(hex)) return undefined;
    const code = parseInt(hex, 16);
    out += isUnreserved(code) ? String.fromCharCode(code) : `%${hex.toUpperCase()}`;
    i += 2;
  }
  return out;
}

/** RFC 3986 §5.2.4 on a path whose slashes are already merged; never climbs above `/`. */
function removeDotSegments(path: string): string {
  const segments = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i] ?? '';
    const last = i === segments.length - 1;
    if (seg === '.' || seg === '..') {
      if (seg === '..') out.pop();
      if (last) out.push('');
      continue;
    }
    out.push(seg);
  }
  return `/${out.join('/')}`;
}

/**
 * Normalizes a request target (origin-form `/p?q` or absolute-form `http://h/p?q`); undefined
 * when it cannot be a path (the caller answers 400).
 */
export function normalizeTarget(target: string): NormalizedTarget | undefined {
  let raw = target;
  if (!raw.startsWith('/')) {
    const m = /^https?:\/\/[^/?#]*/i.exec(raw);
    if (!m) return undefined;
    raw = raw.slice(m[0].length) || '/';
    if (!raw.startsWith('/')) raw = `/${raw}`;
  }
  const hash = raw.indexOf('#');
  if (hash >= 0) raw = raw.slice(0, hash);
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  const query = q < 0 ? '' : raw.slice(q + 1);
  const decoded = decodeUnreserved(rawPath);
  if (decoded === undefined) return undefined;
  const merged = decoded.replace(/\/{2,}/g, '/');
  const path = merged.includes('.') ? removeDotSegments(merged) : merged;
  return { path, query };
}
