/**
 * Connection probes from inside namespaces: each probe has a client socket opened in its source
 * namespace (binder.ts), and one more UDP socket there when it must resolve a name first — through
 * the resolver the namespace really has (a pod's kube-dns, the outside world's DNS), so a
 * NetworkPolicy that drops the query drops the probe. A TCP probe connects and asks `whoami` or
 * sends an HTTP(S) request; a UDP probe sends and waits for the reply.
 * Usage: node probe-agent.js PROBES.json → prints one JSON array of outcomes.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { closeSync, readFileSync } from 'node:fs';
import { isIP, Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { inheritedFds } from './binder.js';
import { decodeAnswer, encodeQuery, queryNames, RR } from './dns.js';

/** How a probe resolves a name: the namespace's resolv.conf. */
export interface ProbeResolver {
  readonly nameserver: string;
  readonly search: readonly string[];
  readonly ndots: number;
}

/** An HTTP request a probe sends once connected. */
export interface ProbeHttp {
  readonly scheme: 'http' | 'https';
  readonly method: string;
  readonly path: string;
  /** The Host header (and the TLS SNI). */
  readonly host: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** One probe as the agent reads it. */
export interface AgentProbe {
  readonly protocol: 'tcp' | 'udp';
  /** An IPv4 address, or a name resolved with `resolver` first. */
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  /** What to send: `whoami`, `hostname`, `clientip`, any text to echo, or `b64:…` bytes. */
  readonly send: string;
  /** Present when `host` is a name: a DNS socket follows the probe's socket. */
  readonly resolver?: ProbeResolver;
  readonly http?: ProbeHttp;
}

/** An HTTP response as a probe saw it. */
export interface ProbeHttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly certificate?: { readonly subject: string; readonly san: string };
}

/** The outcome of one probe. */
export interface ProbeOutcome {
  readonly connected: boolean;
  readonly reply?: string;
  /** `timeout`, an errno code (`ECONNREFUSED`, `EHOSTUNREACH`…), `nxdomain` or `dns-timeout`. */
  readonly error?: string;
  /** The address a name resolved to. */
  readonly resolved?: string;
  readonly http?: ProbeHttpResponse;
}

/** The sockets a probe needs, in binder order: its own, then a DNS socket when it resolves a name. */
export function socketsOf(p: AgentProbe): ('main' | 'dns')[] {
  return p.resolver && isIP(p.host) === 0 ? ['main', 'dns'] : ['main'];
}

/** Resolves a name over a UDP socket: each candidate of the search path in turn, as a stub resolver does. */
async function resolveName(dns: UdpSocket, name: string, r: ProbeResolver, deadline: number): Promise<{ ip?: string; error?: string }> {
  let id = 1;
  for (const candidate of queryNames(name, r)) {
    const answer = await new Promise<Buffer | undefined>((done) => {
      const left = deadline - Date.now();
      if (left <= 0) {
        done(undefined);
        return;
      }
      const timer = setTimeout(() => {
        dns.off('message', onMessage);
        done(undefined);
      }, left);
      const query = encodeQuery(id++, candidate, RR.A);
      const onMessage = (msg: Buffer): void => {
        if (msg.readUInt16BE(0) !== query.readUInt16BE(0)) return;
        clearTimeout(timer);
        dns.off('message', onMessage);
        done(msg);
      };
      dns.on('message', onMessage);
      dns.send(query, 53, r.nameserver);
    });
    if (!answer) return { error: 'dns-timeout' };
    const decoded = decodeAnswer(answer);
    if (decoded.rcode === 0 && decoded.a[0] !== undefined) return { ip: decoded.a[0] };
  }
  return { error: 'nxdomain' };
}

function parseHttp(raw: Buffer): { status: number; headers: Record<string, string>; body: string } | undefined {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const status = Number(statusLine.split(' ')[1]);
  if (!Number.isInteger(status)) return undefined;
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status, headers, body: raw.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1')).toString('utf8') };
}

function httpRequest(h: ProbeHttp): string {
  const extra = Object.entries(h.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `${h.method} ${h.path} HTTP/1.1\r\nHost: ${h.host}\r\nUser-Agent: kwire-probe\r\nAccept: */*\r\n${extra}Connection: close\r\n\r\n`;
}

function probeTcp(fd: number, p: AgentProbe, host: string, deadline: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = new Socket({ fd });
    let stream: Socket | TLSSocket = socket;
    const chunks: Buffer[] = [];
    let connected = false;
    let certificate: ProbeHttpResponse['certificate'];
    const finish = (outcome: ProbeOutcome): void => {
      clearTimeout(timer);
      stream.destroy();
      socket.destroy();
      resolve(outcome);
    };
    const answer = (): ProbeOutcome => {
      const raw = Buffer.concat(chunks);
      if (!p.http) return { connected: true, reply: raw.toString('latin1').trim() };
      const parsed = parseHttp(raw);
      return parsed ? { connected: true, http: { ...parsed, ...(certificate ? { certificate } : {}) } } : { connected: true, error: raw.length > 0 ? 'bad-http' : 'no-response' };
    };
    const timer = setTimeout(() => {
      finish(connected ? { ...answer(), ...(chunks.length === 0 ? { error: 'timeout' } : {}) } : { connected: false, error: 'timeout' });
    }, Math.max(1, deadline - Date.now()));
    const talk = (): void => {
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (!p.http && Buffer.concat(chunks).includes(10)) finish(answer());
      });
      stream.on('end', () => {
        finish(answer());
      });
      stream.write(p.http ? httpRequest(p.http) : `${p.send}\n`);
    };
    socket.on('error', (e: NodeJS.ErrnoException) => {
      finish(connected ? answer() : { connected: false, error: e.code ?? e.message });
    });
    socket.connect(p.port, host, () => {
      connected = true;
      if (p.http?.scheme !== 'https') {
        talk();
        return;
      }
      const tls = tlsConnect({ socket, servername: p.http.host, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
        const c = tls.getPeerCertificate();
        certificate = { subject: Object.entries(c.subject).map(([k, v]) => `${k}=${String(v)}`).join(', '), san: c.subjectaltname ?? '' };
        talk();
      });
      tls.on('error', (e: NodeJS.ErrnoException) => {
        finish({ connected: true, error: `tls: ${e.code ?? e.message}` });
      });
      stream = tls;
    });
  });
}

function probeUdp(fd: number, p: AgentProbe, host: string, deadline: number): Promise<ProbeOutcome> {
  const binary = p.send.startsWith('b64:');
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const finish = (outcome: ProbeOutcome): void => {
      clearTimeout(timer);
      socket.close();
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      finish({ connected: false, error: 'timeout' });
    }, Math.max(1, deadline - Date.now()));
    socket.on('message', (msg) => {
      finish({ connected: true, reply: binary ? `b64:${msg.toString('base64')}` : msg.toString('latin1').trim() });
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      finish({ connected: false, error: e.code ?? e.message });
    });
    socket.bind({ fd }, () => {
      socket.send(binary ? Buffer.from(p.send.slice(4), 'base64') : p.send, p.port, host);
    });
  });
}

async function runProbe(p: AgentProbe, fds: readonly number[]): Promise<ProbeOutcome> {
  const [main, dnsFd] = fds;
  if (main === undefined) return { connected: false, error: 'no descriptor' };
  const deadline = Date.now() + p.timeoutMs;
  let host = p.host;
  let resolved: string | undefined;
  if (p.resolver && isIP(host) === 0) {
    if (dnsFd === undefined) return { connected: false, error: 'no descriptor' };
    const dns = createSocket('udp4');
    await new Promise<void>((done) => dns.bind({ fd: dnsFd }, done));
    const r = await resolveName(dns, host, p.resolver, deadline);
    dns.close();
    if (!r.ip) {
      closeSync(main);
      return { connected: false, error: r.error ?? 'nxdomain' };
    }
    host = r.ip;
    resolved = r.ip;
  }
  const outcome = await (p.protocol === 'tcp' ? probeTcp(main, p, host, deadline) : probeUdp(main, p, host, deadline));
  return resolved ? { ...outcome, resolved } : outcome;
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: probe-agent PROBES.json');
  const probes = JSON.parse(readFileSync(file, 'utf8')) as AgentProbe[];
  const fds = inheritedFds(process.env);
  let next = 0;
  const results = await Promise.all(
    probes.map((p) => {
      const count = socketsOf(p).length;
      const mine = fds.slice(next, next + count);
      next += count;
      return runProbe(p, mine);
    }),
  );
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

if (process.argv[1]?.endsWith('probe-agent.js')) {
  main().catch((e: unknown) => {
    process.stderr.write(`probe-agent: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
