/**
 * Path matchers: Kubernetes Exact and element-wise Prefix, Traefik's character-wise PathPrefix,
 * and ingress-nginx's case-insensitive `^path` regex locations. Built once, tested per request.
 */
import type { PathMatch } from './types.js';

/** The path part of a request target: everything before `?` or `#`, `/` when empty. */
export function pathOnly(target: string): string {
  let end = target.length;
  const q = target.indexOf('?');
  if (q >= 0) end = q;
  const h = target.indexOf('#');
  if (h >= 0 && h < end) end = h;
  const path = target.slice(0, end);
  return path === '' ? '/' : path;
}

/** The query string of a request target without `?` ('' when none). */
export function queryOf(target: string): string {
  const q = target.indexOf('?');
  if (q < 0) return '';
  const h = target.indexOf('#', q);
  return target.slice(q + 1, h < 0 ? undefined : h);
}

/** Kubernetes `Exact`: case-sensitive equality, a trailing slash is significant. */
export function exactPath(path: string): PathMatch {
  return { kind: 'exact', path };
}

/** Kubernetes `Prefix`: element-wise, a trailing slash on either side ignored, `/` matches all. */
export function elementPrefix(path: string): PathMatch {
  return { kind: 'prefix', path: path.replace(/\/+$/, '') };
}

/** Traefik `PathPrefix`: a plain character-wise prefix (`/v1` matches `/v11`). */
export function stringPrefix(path: string): PathMatch {
  return { kind: 'string-prefix', path };
}

/** A regex location; `undefined` when the pattern does not compile. */
export function regexPath(pattern: string, caseInsensitive: boolean): PathMatch | undefined {
  const regex = compileRegex(pattern, caseInsensitive);
  return regex ? { kind: 'regex', pattern, caseInsensitive, regex } : undefined;
}

/** ingress-nginx regex mode: `location ~* "^<path>"`. */
export function nginxRegexPath(path: string): PathMatch | undefined {
  return regexPath(`^${path}`, true);
}

/** Compiles a PCRE/RE2-style pattern for JavaScript, accepting a leading `(?i)`. */
export function compileRegex(pattern: string, caseInsensitive: boolean): RegExp | undefined {
  let source = pattern;
  let insensitive = caseInsensitive;
  if (source.startsWith('(?i)')) {
    source = source.slice(4);
    insensitive = true;
  }
  try {
    return new RegExp(source, insensitive ? 'i' : '');
  } catch {
    return undefined;
  }
}

/** Number of capture groups in a compiled pattern. */
export function captureGroups(regex: RegExp): number {
  const probe = new RegExp(`${regex.source}|`, regex.flags).exec('');
  return probe ? probe.length - 1 : 0;
}

/** Whether a request path matches. */
export function matchesPath(match: PathMatch, path: string): boolean {
  switch (match.kind) {
    case 'exact':
      return path === match.path;
    case 'prefix':
      return (
        match.path === '' ||
        (path.startsWith(match.path) &&
          (path.length === match.path.length || path.charCodeAt(match.path.length) === 47))
      );
    case 'string-prefix':
      return path.startsWith(match.path);
    case 'regex':
      return match.regex.test(path);
  }
}

/** Characters that make a path a regex for ingress-nginx's strict path validation. */
export function hasRegexChars(path: string): boolean {
  return /[\^$*+?()[\]{}|\\]/.test(path);
}

/** Applies an nginx `rewrite "(?i)<path>" <target> break;` to a path: `$n` become captures. */
export function rewritePath(regex: RegExp, target: string, path: string): string {
  const m = regex.exec(path);
  if (!m) return path;
  return target.replace(/\$(\d)/g, (_all, n: string) => m[Number(n)] ?? '');
}
