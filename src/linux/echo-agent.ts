/**
 * The built-in pod program of the Linux plane: one process per node serving every pod of that
 * node on sockets opened in the pods' namespaces (see binder.ts), and the node's own listeners
 * (the API server on control-plane nodes). TCP and UDP echo, with three requests answered instead
 * of echoed (`whoami` → `{"pod","client"}`, `hostname` → `ns/name`, `clientip` → the peer
 * address), an HTTP reply for HTTP requests, and DNS on the DNS pods' port 53.
 * Usage: node echo-agent.js SPEC.json (descriptors in KWIRE_FDS, in the spec's socket order).
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { createSecureContext, TLSSocket } from 'node:tls';
import { inheritedFds } from './binder.js';
import { serveDnsTcp, serveDnsUdp, type DnsRecords } from './dns.js';

/** One socket of the agent. */
export interface AgentSocket {
  readonly pod: string;
  readonly protocol: 'tcp' | 'udp';
  readonly port: number;
  /** `tls`: an HTTPS endpoint (the API server stand-in on control-plane nodes) answering like `echo`'s HTTP. */
  readonly role: 'echo' | 'dns' | 'tls';
}

/** What the agent reads from its spec file. */
export interface AgentSpec {
  readonly sockets: readonly AgentSocket[];
  /** File of the DNS records (re-read on SIGHUP). */
  readonly records?: string;
  /** Certificate and key (PEM) of the `tls` sockets. */
  readonly tls?: { readonly cert: string; readonly key: string };
}

/** The reply to one request line, or `undefined` to echo it. */
export function echoReply(pod: string, clientIp: string, text: string): string | undefined {
  const line = text.trim();
  if (line === 'whoami') return JSON.stringify({ pod, client: clientIp });
  if (line === 'hostname') return pod;
  if (line === 'clientip') return clientIp;
  return undefined;
}

/** Answers one connection: HTTP if it starts with a request line, else echo (`whoami`, `hostname`, `clientip`). */
function answer(conn: Duplex & { readonly localPort?: number }, pod: string, client: string): void {
  conn.on('error', () => undefined);
  let first = true;
  conn.on('data', (chunk: Buffer) => {
    const text = chunk.toString('latin1');
    if (first && /^[A-Z]+ \S+ HTTP\/1\.[01]\r?\n/.test(text)) {
      const forwardedFor = /\r\nx-forwarded-for:\s*([^\r\n]*)/i.exec(text)?.[1];
      const body = `${JSON.stringify({ pod, client, port: conn.localPort, ...(forwardedFor ? { forwardedFor } : {}) })}\n`;
      conn.end(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-kwire-pod: ${pod}\r\ncontent-length: ${String(Buffer.byteLength(body))}\r\nconnection: close\r\n\r\n${body}`);
      return;
    }
    first = false;
    const reply = echoReply(pod, client, text);
    conn.write(reply === undefined ? chunk : `${reply}\n`);
  });
}

/**
 * Serves TCP on an inherited socket. With `tls`, a connection that opens with a TLS handshake
 * record (0x16) is answered over TLS, any other as plain TCP: the API server speaks TLS, while a
 * plain probe of its port still learns who answers.
 */
function serveTcp(fd: number, pod: string, tls?: AgentSpec['tls']): Promise<void> {
  const context = tls ? createSecureContext({ cert: tls.cert, key: tls.key }) : undefined;
  return new Promise((resolve) => {
    const server = createServer((conn: Socket) => {
      const client = conn.remoteAddress ?? '';
      if (!context) {
        answer(conn, pod, client);
        return;
      }
      conn.on('error', () => undefined);
      conn.once('data', (chunk: Buffer) => {
        conn.pause();
        // A stream over the socket, replaying the first chunk: TLS reads it through the stream API.
        const replay = new Duplex({
          read: () => conn.resume(),
          write: (c: Buffer, _e, cb) => conn.write(c, cb),
          final: (cb) => {
            conn.end();
            cb();
          },
          destroy: (err, cb) => {
            conn.destroy();
            cb(err);
          },
        });
        replay.push(chunk);
        conn.on('data', (more: Buffer) => {
          if (!replay.push(more)) conn.pause();
        });
        conn.on('end', () => replay.push(null));
        if (chunk[0] === 0x16) answer(new TLSSocket(replay, { isServer: true, secureContext: context }), pod, client);
        else answer(replay, pod, client);
      });
    });
    server.on('error', (e) => process.stderr.write(`${pod}: ${e.message}\n`));
    server.listen({ fd }, resolve);
  });
}

function serveUdp(fd: number, pod: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.on('message', (msg, rinfo) => {
      const reply = echoReply(pod, rinfo.address, msg.toString('latin1'));
      socket.send(reply === undefined ? msg : reply, rinfo.port, rinfo.address);
    });
    socket.on('error', (e) => process.stderr.write(`${pod}: ${e.message}\n`));
    socket.bind({ fd }, resolve);
  });
}

function readRecords(file: string | undefined): DnsRecords {
  if (file === undefined) return { domain: 'cluster.local', names: {} };
  return JSON.parse(readFileSync(file, 'utf8')) as DnsRecords;
}

async function main(): Promise<void> {
  const specFile = process.argv[2];
  if (specFile === undefined) throw new Error('usage: echo-agent SPEC.json');
  const spec = JSON.parse(readFileSync(specFile, 'utf8')) as AgentSpec;
  let records = readRecords(spec.records);
  process.on('SIGHUP', () => {
    records = readRecords(spec.records);
  });
  const fds = inheritedFds(process.env);
  const started: Promise<void>[] = [];
  spec.sockets.forEach((s, i) => {
    const fd = fds[i];
    if (fd === undefined) throw new Error(`no descriptor for socket ${String(i)} (${s.pod} ${s.protocol}/${String(s.port)})`);
    if (s.role === 'dns') {
      if (s.protocol === 'udp') {
        const socket = createSocket('udp4');
        serveDnsUdp(socket, () => records);
        started.push(new Promise((resolve) => socket.bind({ fd }, resolve)));
      } else {
        const server = createServer();
        serveDnsTcp(server, () => records);
        started.push(new Promise((resolve) => server.listen({ fd }, resolve)));
      }
    } else started.push(s.protocol === 'tcp' ? serveTcp(fd, s.pod, s.role === 'tls' ? spec.tls : undefined) : serveUdp(fd, s.pod));
  });
  await Promise.all(started);
  process.stdout.write('ready\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`echo-agent: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
