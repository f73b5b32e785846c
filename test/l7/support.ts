/**
 * Helpers of the real-socket tests: a state from manifests, a running cluster on ephemeral
 * loopback ports, and raw HTTP/1, TLS and HTTP/2 clients.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { storeFromTexts } from '../../src/store/index.js';
import { buildNetworkState, type BuildOptions } from '../../src/controllers/index.js';
import type { NetworkState } from '../../src/model/types.js';
import { makeDefaultCertificate, RunningCluster, type ClusterOptions, type PemPair } from '../../src/proxy/index.js';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');

/** The state of YAML texts. */
export function stateOf(texts: readonly string[], opts: BuildOptions = {}): NetworkState {
  const store = storeFromTexts(texts.map((text, i) => ({ file: `input-${i}.yaml`, text })));
  const errors = store.problems.filter((p) => p.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => e.message).join('\n'));
  return buildNetworkState({ objects: store.objects.map((o) => o.object), sourceOf: store.sourceOf }, { now: '2026-01-01T00:00:00Z', seed: 'l7', ...opts });
}

/** The course example's manifests. */
export function courseTexts(): string[] {
  const dir = join(ROOT, 'examples', 'course');
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => readFileSync(join(dir, f), 'utf8'));
}

const quiet = { info: () => undefined, warn: () => undefined };

let defaultCertificate: Promise<PemPair> | undefined;

/** Starts a cluster on ephemeral loopback ports. */
export async function start(state: NetworkState, opts: Partial<ClusterOptions> = {}): Promise<RunningCluster> {
  defaultCertificate ??= makeDefaultCertificate();
  return RunningCluster.start(state, { httpPort: 0, httpsPort: 0, logger: quiet, limits: { deniedTimeoutMs: 100, connectTimeoutMs: 100 }, defaultCertificate: await defaultCertificate, ...opts });
}

/** A response as the tests read it. */
export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A plain HTTP/1.1 request to a listener URL with a given Host header (curl --resolve). */
export function get(base: string, host: string | null, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname: u.hostname, port: Number(u.port), path, method, headers: { ...(host === null ? {} : { host }), ...headers }, setHost: host !== null, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** HTTPS over HTTP/1.1 with SNI; resolves the reply and the served certificate. */
export function getTls(base: string, host: string, path: string, alpn = ['http/1.1']): Promise<Reply & { cert: PeerCertificate; protocol: string | false | null }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: u.hostname, port: Number(u.port), servername: host, rejectUnauthorized: false, ALPNProtocols: alpn }, () => {
      const cert = socket.getPeerCertificate();
      const protocol = socket.alpnProtocol;
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      let raw = '';
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => (raw += c));
      socket.on('end', () => {
        const [head = '', ...rest] = raw.split('\r\n\r\n');
        const [line = '', ...lines] = head.split('\r\n');
        const headers: IncomingHttpHeaders = {};
        for (const l of lines) {
          const i = l.indexOf(':');
          headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
        }
        let body = rest.join('\r\n\r\n');
        if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
        resolve({ status: Number(line.split(' ')[1]), headers, body, cert, protocol });
      });
    });
    socket.on('error', reject);
  });
}

function dechunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const i = rest.indexOf('\r\n');
    const n = parseInt(rest.slice(0, i), 16);
    if (!n) return out;
    out += rest.slice(i + 2, i + 2 + n);
    rest = rest.slice(i + 4 + n);
  }
}

/** One HTTP/2 request over TLS with SNI. */
export function getH2(base: string, host: string, path: string): Promise<Reply & { protocol: string }> {
  return new Promise((resolve, reject) => {
    const session = h2connect(base, { servername: host, rejectUnauthorized: false });
    session.on('error', reject);
    const req = session.request({ ':path': path, ':authority': host });
    let body = '';
    let headers: IncomingHttpHeaders = {};
    req.setEncoding('utf8');
    req.on('response', (h) => (headers = h as IncomingHttpHeaders));
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const protocol = session.alpnProtocol ?? '';
      session.close();
      resolve({ status: Number(headers[':status']), headers, body, protocol });
    });
    req.on('error', reject);
    req.end();
  });
}
