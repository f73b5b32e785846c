/**
 * kwire's built-in pod program, like agnhost netexec / echoserver: every container port of every
 * pod gets a listener on 127.0.0.1 with a local port of its own (pods cannot all bind their real
 * port on one host), answering with the pod's identity and the request it saw. TCP ports speak
 * HTTP (and WebSocket), UDP ports echo datagrams.
 */
import { createHash } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Protocol } from '../api/types.js';
import { listeningPorts } from '../model/endpoints.js';
import type { NetworkState, PodState } from '../model/types.js';

/** `ip:port/PROTOCOL` of a pod port. */
export function podKey(ip: string, port: number, protocol: Protocol): string {
  return `${ip}:${port}/${protocol}`;
}

/** Pod IP:port → the local port its program listens on. */
export type PodPortTable = ReadonlyMap<string, number>;

/** Header the echo program adds so clients see which pod answered. */
export const POD_HEADER = 'x-kwire-pod';

/** Request header asking the echo program to wait before answering (for timeout tests). */
export const DELAY_HEADER = 'x-echo-delay-ms';

/** What the echo program answers (JSON). */
export interface EchoReply {
  readonly pod: { readonly namespace: string; readonly name: string; readonly ip: string; readonly node: string };
  readonly container: string;
  readonly port: number;
  readonly request: {
    readonly method: string;
    readonly path: string;
    readonly httpVersion: string;
    readonly headers: Readonly<Record<string, string | string[] | undefined>>;
    readonly remoteAddress: string;
    readonly bodyBytes: number;
  };
}

interface Listener {
  readonly key: string;
  readonly localPort: number;
  readonly close: () => Promise<void>;
}

function identity(pod: PodState): EchoReply['pod'] {
  return { namespace: pod.namespace, name: pod.name, ip: pod.ip, node: pod.node };
}

function answer(pod: PodState, container: string, port: number, req: IncomingMessage, res: ServerResponse): void {
  let bodyBytes = 0;
  req.on('data', (chunk: Buffer) => {
    bodyBytes += chunk.length;
  });
  req.on('end', () => {
    const reply: EchoReply = {
      pod: identity(pod),
      container,
      port,
      request: {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        httpVersion: req.httpVersion,
        headers: req.headers,
        remoteAddress: req.socket.remoteAddress ?? '',
        bodyBytes,
      },
    };
    const body = JSON.stringify(reply);
    const delay = Number(req.headers[DELAY_HEADER] ?? 0);
    const send = (): void => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), [POD_HEADER]: `${pod.namespace}/${pod.name}` });
      res.end(body);
    };
    if (delay > 0) setTimeout(send, Math.min(delay, 120_000)).unref();
    else send();
  });
}

/** Minimal RFC 6455 server: handshake, a hello frame with the pod identity, then echo of text/binary frames. */
function websocket(pod: PodState, req: IncomingMessage, socket: Duplex): void {
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    return;
  }
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC11B65`).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${POD_HEADER}: ${pod.namespace}/${pod.name}\r\n\r\n`);
  socket.write(wsFrame(0x1, Buffer.from(JSON.stringify({ pod: identity(pod) }))));
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      const frame = readFrame(buffered);
      if (!frame) break;
      buffered = buffered.subarray(frame.size);
      if (frame.opcode === 0x8) {
        socket.end(wsFrame(0x8, Buffer.alloc(0)));
        return;
      }
      if (frame.opcode === 0x9) socket.write(wsFrame(0xa, frame.payload));
      else if (frame.opcode === 0x1 || frame.opcode === 0x2) socket.write(wsFrame(frame.opcode, frame.payload));
    }
  });
  socket.on('error', () => undefined);
}

/** An unmasked server frame. */
export function wsFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, len]) : len < 65536 ? Buffer.from([0x80 | opcode, 126, len >> 8, len & 0xff]) : Buffer.concat([Buffer.from([0x80 | opcode, 127]), bigLength(len)]);
  return Buffer.concat([head, payload]);
}

function bigLength(len: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(len));
  return b;
}

/** Parses one (possibly masked) frame from the start of a buffer. */
export function readFrame(buf: Buffer): { opcode: number; payload: Buffer; size: number } | undefined {
  if (buf.length < 2) return undefined;
  const b0 = buf[0] ?? 0;
  const b1 = buf[1] ?? 0;
  let len = b1 & 0x7f;
  let offset = 2;
  if (len === 126) {
    if (buf.length < 4) return undefined;
    len = buf.readUInt16BE(2);
    offset = 4;
  } else if (len === 127) {
    if (buf.length < 10) return undefined;
    len = Number(buf.readBigUInt64BE(2));
    offset = 10;
  }
  const masked = (b1 & 0x80) !== 0;
  const maskAt = offset;
  if (masked) offset += 4;
  if (buf.length < offset + len) return undefined;
  const payload = Buffer.from(buf.subarray(offset, offset + len));
  if (masked) for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] ?? 0) ^ (buf[maskAt + (i % 4)] ?? 0);
  return { opcode: b0 & 0x0f, payload, size: offset + len };
}

function listenTcp(pod: PodState, container: string, port: number): Promise<Listener> {
  const server: Server = createServer((req, res) => {
    answer(pod, container, port, req, res);
  });
  server.keepAliveTimeout = 120_000;
  const tunnels = new Set<Duplex>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    tunnels.add(socket);
    socket.on('close', () => tunnels.delete(socket));
    websocket(pod, req, socket);
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const localPort = typeof addr === 'object' && addr ? addr.port : 0;
      resolve({
        key: podKey(pod.ip, port, 'TCP'),
        localPort,
        close: () =>
          new Promise((done) => {
            server.close(() => {
              done();
            });
            server.closeAllConnections();
            for (const t of tunnels) t.destroy();
          }),
      });
    });
  });
}

function listenUdp(pod: PodState, container: string, port: number): Promise<Listener> {
  const socket: UdpSocket = createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    const reply = JSON.stringify({ pod: identity(pod), container, port, request: { bytes: msg.length, text: msg.toString('utf8').slice(0, 512), remoteAddress: rinfo.address } });
    socket.send(reply, rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      resolve({
        key: podKey(pod.ip, port, 'UDP'),
        localPort: socket.address().port,
        close: () =>
          new Promise((done) => {
            socket.close(() => {
              done();
            });
          }),
      });
    });
  });
}

/** Whether kwire runs its echo program for a pod (not for the ingress controllers it plays itself). */
export function runsEcho(state: NetworkState, pod: PodState): boolean {
  if (!pod.ip || pod.hostNetwork || pod.phase !== 'Running') return false;
  const instance = pod.labels['app.kubernetes.io/instance'];
  return !(pod.addon && state.cluster.ingressControllers.some((c) => c.name === instance));
}

/** The pods' programs: a table of local ports, kept in step with the state. */
export class PodPrograms {
  private readonly listeners = new Map<string, Listener>();
  private table = new Map<string, number>();

  /** The current pod IP:port → local port table. */
  get ports(): PodPortTable {
    return this.table;
  }

  /** Starts listeners for new pod ports and stops the ones of pods that are gone. */
  async sync(state: NetworkState): Promise<void> {
    const wanted = new Map<string, { pod: PodState; container: string; port: number; protocol: Protocol }>();
    const listening = listeningPorts(state);
    for (const pod of state.pods) {
      if (!runsEcho(state, pod)) continue;
      for (const p of listening.get(pod) ?? []) {
        if (p.protocol === 'SCTP') continue;
        const key = podKey(pod.ip, p.port, p.protocol);
        wanted.set(`${key}|${pod.namespace}/${pod.name}`, { pod, container: p.container, port: p.port, protocol: p.protocol });
      }
    }
    const stale = [...this.listeners.keys()].filter((k) => !wanted.has(k));
    await Promise.all(stale.map((k) => this.listeners.get(k)?.close() ?? Promise.resolve()));
    for (const k of stale) this.listeners.delete(k);
    const fresh = [...wanted].filter(([k]) => !this.listeners.has(k));
    const started = await Promise.all(fresh.map(([, w]) => (w.protocol === 'UDP' ? listenUdp(w.pod, w.container, w.port) : listenTcp(w.pod, w.container, w.port))));
    fresh.forEach(([k], i) => {
      const l = started[i];
      if (l) this.listeners.set(k, l);
    });
    const table = new Map<string, number>();
    for (const l of this.listeners.values()) {
      if (!table.has(l.key)) table.set(l.key, l.localPort);
    }
    this.table = table;
  }

  /** Stops every listener. */
  async close(): Promise<void> {
    await Promise.all([...this.listeners.values()].map((l) => l.close()));
    this.listeners.clear();
    this.table = new Map();
  }
}
