/**
 * The SRC and DST syntax of `kwire trace` (and of `demo`), parsed into the structured connection
 * every plane takes. Only the CLI reads these strings; the UI and the differential suite build
 * `Connection`s directly.
 */
import { InputError } from '../../api/problems.js';
import { isIp } from '../../model/ip.js';
import type { ConnectionSource, ConnectionTarget, ResolveOverride } from '../../model/dataplane.js';

function usage(message: string, hint?: string): InputError {
  return new InputError([{ code: 'KW-USAGE', severity: 'error', message, ...(hint ? { hint } : {}) }]);
}

const WORKLOAD_PREFIXES: Readonly<Record<string, 'Deployment' | 'StatefulSet' | 'DaemonSet'>> = {
  deploy: 'Deployment',
  deployment: 'Deployment',
  sts: 'StatefulSet',
  statefulset: 'StatefulSet',
  ds: 'DaemonSet',
  daemonset: 'DaemonSet',
};

/** SRC: `pod/NS/NAME`, `NS/NAME`, `deploy|sts|ds/NS/NAME`, `node/NAME`, `external`, `ip/A.B.C.D`. */
export function parseSource(text: string): ConnectionSource {
  if (text === 'external') return { kind: 'external' };
  const parts = text.split('/');
  const [head = '', a = '', b = ''] = parts;
  if (head === 'ip' && parts.length === 2) {
    if (!isIp(a)) throw usage(`source "${text}": "${a}" is not an IP address`, 'e.g. ip/203.0.113.7');
    return { kind: 'ip', ip: a };
  }
  if (head === 'node' && parts.length === 2 && a !== '') return { kind: 'node', name: a };
  if (head === 'pod' && parts.length === 3) return { kind: 'pod', namespace: a, name: b };
  const workloadKind = WORKLOAD_PREFIXES[head];
  if (workloadKind && parts.length === 3) return { kind: 'workload', workloadKind, namespace: a, name: b };
  if (parts.length === 2 && head !== '' && a !== '') return { kind: 'pod', namespace: head, name: a };
  throw usage(`source "${text}" is not understood`, 'use pod/NS/NAME, NS/NAME, deploy/NS/NAME, node/NAME, external or ip/A.B.C.D');
}

function splitPort(text: string): [string, string | undefined] {
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    return [text.slice(1, end), text.slice(end + 2) || undefined];
  }
  const i = text.lastIndexOf(':');
  if (i < 0 || text.indexOf(':') !== i) return [text, undefined];
  return [text.slice(0, i), text.slice(i + 1)];
}

function parsePort(text: string | undefined, what: string): number | string {
  if (text === undefined || text === '') throw usage(`${what}: a port is needed`, `e.g. ${what}:80`);
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < 1 || n > 65535) throw usage(`${what}: port ${n} is out of range 1-65535`);
    return n;
  }
  return text;
}

/** DST: a URL, `svc/NS/NAME:PORT`, `pod/NS/NAME:PORT`, `A.B.C.D:PORT` or `NAME:PORT`. */
export function parseTarget(text: string): ConnectionTarget {
  if (/^https?:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw usage(`"${text}" is not a valid URL`);
    }
    const scheme = url.protocol === 'https:' ? 'https' : 'http';
    const host = url.hostname.replace(/^\[|\]$/g, '');
    return { kind: 'url', scheme, host, port: url.port ? Number(url.port) : scheme === 'https' ? 443 : 80, path: `${url.pathname}${url.search}` };
  }
  const parts = text.split('/');
  if ((parts[0] === 'svc' || parts[0] === 'service') && parts.length === 3) {
    const [name, port] = splitPort(parts[2] ?? '');
    return { kind: 'service', namespace: parts[1] ?? '', name, port: parsePort(port, text) };
  }
  if (parts[0] === 'pod' && parts.length === 3) {
    const [name, port] = splitPort(parts[2] ?? '');
    return { kind: 'pod', namespace: parts[1] ?? '', name, port: parsePort(port, text) };
  }
  if (parts.length > 1) throw usage(`destination "${text}" is not understood`, 'use a URL, svc/NS/NAME:PORT, pod/NS/NAME:PORT, A.B.C.D:PORT or NAME:PORT');
  const [host, port] = splitPort(text);
  if (isIp(host)) {
    const p = parsePort(port, text);
    if (typeof p !== 'number') throw usage(`${text}: an IP destination needs a port number`);
    return { kind: 'ip', ip: host, port: p };
  }
  return { kind: 'name', name: host.toLowerCase().replace(/\.$/, ''), port: parsePort(port, text) };
}

/** `--resolve NAME[:PORT]:ADDR`, as curl takes it. */
export function parseResolve(text: string): ResolveOverride {
  const m = /^([^:]+)(?::(\d+))?:(.+)$/.exec(text);
  if (!m) throw usage(`--resolve "${text}": expected NAME[:PORT]:ADDR`, 'e.g. --resolve example.com:443:198.51.100.10');
  const address = (m[3] ?? '').replace(/^\[|\]$/g, '');
  if (!isIp(address)) throw usage(`--resolve "${text}": "${address}" is not an IP address`, 'e.g. --resolve example.com:443:198.51.100.10');
  return { name: (m[1] ?? '').toLowerCase(), ...(m[2] === undefined ? {} : { port: Number(m[2]) }), address };
}

/** `-H 'Name: value'` flags as lower-case header names. */
export function parseHeaders(values: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const h of values) {
    const i = h.indexOf(':');
    if (i <= 0) throw usage(`-H "${h}": expected "Name: value"`, 'e.g. -H "X-Canary: always"');
    headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  return headers;
}
