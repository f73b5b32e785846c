/**
 * The ingress proxy's data path: one HTTP and one HTTPS listener per ingress controller, routing
 * every request through the model's compiled routes (`routeRequest`, `tlsFor`) and the model's
 * endpoint choice, then proxying with keep-alive upstream pools, streaming bodies both ways.
 */
import { randomBytes } from 'node:crypto';
import { Agent as HttpAgent, createServer as createHttpServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type Server } from 'node:http';
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2';
import { Server as TlsServer } from 'node:tls';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { StringMap } from '../api/types.js';
import { routeRequest, tlsFor, normalizeHost, type RouteDecision } from '../model/routing/index.js';
import { Metrics } from './metrics.js';
import { normalizeTarget } from './normalize.js';
import type { Snapshot, ControllerView, UpstreamChoice } from './snapshot.js';
import { CertificateStore, type PemPair } from './tls.js';
import { HOP_BY_HOP, UpstreamPool, type UpstreamExchange, type UpstreamHandler } from './upstream.js';
import type { AccessRecord, Http01Responder, ListenerAddress, Logger, ProxyLimits, TlsSecret } from './types.js';

/** Options of the proxy listeners. */
export interface ProxyOptions {
  /** @default '127.0.0.1' */
  readonly address?: string;
  /** First HTTP port; controller i listens on `httpPort + i` (0: ephemeral). @default 8080 */
  readonly httpPort?: number;
  /** @default 8443 */
  readonly httpsPort?: number;
  readonly limits: ProxyLimits;
  readonly logger: Logger;
  readonly accessLog?: (record: AccessRecord) => void;
  readonly http01?: Http01Responder;
  readonly defaultCertificate: PemPair;
  /** Listen only for this controller, on exactly `httpPort` and `httpsPort` (a controller pod's own proxy). */
  readonly only?: string;
}

/** Request headers the proxy sets itself (a client's values are replaced, as ingress-nginx does). */
const SET_BY_PROXY = new Set(['x-request-id', 'x-real-ip', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-proto', 'x-forwarded-scheme']);
const ACME_PREFIX = '/.well-known/acme-challenge/';
const REASONS: Readonly<Record<number, string>> = { 301: 'Moved Permanently', 302: 'Found', 307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 413: 'Request Entity Too Large', 502: 'Bad Gateway', 503: 'Service Temporarily Unavailable', 504: 'Gateway Time-out' };

/** The parts of an HTTP/1 or HTTP/2 (compat) request the proxy reads. */
interface Req {
  readonly headers: IncomingHttpHeaders;
  readonly method?: string;
  readonly url?: string;
  readonly httpVersion: string;
  readonly socket: Socket;
  on(event: 'data', fn: (chunk: Buffer) => void): unknown;
  on(event: 'end' | 'close', fn: () => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

/** The parts of an HTTP/1 or HTTP/2 (compat) response the proxy writes. */
interface Res {
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  writeHead(status: number, headers?: OutgoingHttpHeaders): unknown;
  write(chunk: Buffer): boolean;
  end(body?: string | Buffer): unknown;
  destroy(): unknown;
  on(event: 'drain' | 'close' | 'finish', fn: () => void): unknown;
  once(event: 'drain', fn: () => void): unknown;
}

function clientAddress(socket: Socket): string {
  const a = socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

function hostOf(req: Req): string {
  const h = req.headers.host ?? req.headers[':authority'];
  return typeof h === 'string' ? h : '';
}

function answerBody(status: number): string {
  const text = `${status} ${REASONS[status] ?? ''}`.trim();
  return `<html>\r\n<head><title>${text}</title></head>\r\n<body>\r\n<center><h1>${text}</h1></center>\r\n<hr><center>kwire</center>\r\n</body>\r\n</html>\r\n`;
}

/** Request IDs like nginx's `$request_id` (32 hex digits): a random per-process prefix and a counter. */
class RequestIds {
  private readonly prefix = randomBytes(8).toString('hex');
  private count = 0;

  next(): string {
    this.count++;
    return this.prefix + this.count.toString(16).padStart(16, '0');
  }
}

/** Callbacks of one proxied request. */
interface Outcome {
  readonly answer: (status: number, reason: string, headers?: OutgoingHttpHeaders) => void;
  readonly sent: (status: number, bytes: number) => void;
}

/**
 * One body-less request on the lean upstream client: the response head and body are passed to
 * the client as they come, with the upstream paused while the client is slow.
 */
class FastExchange implements UpstreamHandler {
  private status = 502;
  private bytes = 0;
  exchange: UpstreamExchange | undefined;

  constructor(
    private readonly res: Res,
    private readonly h2: boolean,
    private readonly upstream: string,
    private readonly timeoutMs: number,
    private readonly outcome: Outcome,
  ) {}

  head(status: number, headers: string[]): void {
    this.status = status;
    if (!this.h2) {
      this.res.writeHead(status, headers as unknown as OutgoingHttpHeaders);
      return;
    }
    const out: OutgoingHttpHeaders = {};
    for (let i = 0; i < headers.length; i += 2) {
      const k = (headers[i] ?? '').toLowerCase();
      const v = headers[i + 1] ?? '';
      const had = out[k];
      out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [String(had), v];
    }
    this.res.writeHead(status, out);
  }

  data(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    if (this.res.write(chunk)) return true;
    this.res.once('drain', () => this.exchange?.resume());
    return false;
  }

  end(last?: Buffer): void {
    if (last) {
      this.bytes += last.length;
      this.res.end(last);
    } else this.res.end();
    this.outcome.sent(this.status, this.bytes);
  }

  fail(err: NodeJS.ErrnoException, timedOut: boolean): void {
    if (this.res.headersSent) {
      this.res.destroy();
      return;
    }
    if (timedOut) this.outcome.answer(504, `upstream ${this.upstream} timed out after ${this.timeoutMs}ms`);
    else this.outcome.answer(502, `upstream ${this.upstream}: ${err.code ?? err.message}`);
  }
}

/** Whether a request carries no body (the lean upstream client's case). */
function bodyless(req: Req): boolean {
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined || h.expect !== undefined) return false;
  const length = h['content-length'];
  if (length !== undefined && length !== '0') return false;
  return req.httpVersion !== '2.0' || req.method === 'GET' || req.method === 'HEAD';
}

/** The proxy of every ingress controller of the cluster. */
export class IngressProxy {
  readonly metrics = new Metrics();
  readonly certificates: CertificateStore;
  private snapshot: Snapshot;
  private http01: Http01Responder | undefined;
  private readonly servers: (Server | Http2SecureServer)[] = [];
  private readonly inner: Server[] = [];
  private readonly agent = new HttpAgent({ keepAlive: true, maxFreeSockets: 1024, scheduling: 'lifo' });
  private readonly tlsAgent = new HttpsAgent({ keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo', rejectUnauthorized: false });
  private readonly pending = new Set<NodeJS.Timeout>();
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly tunnels = new Set<Duplex>();
  private readonly pool: UpstreamPool;
  private readonly ids = new RequestIds();
  addresses: ListenerAddress[] = [];

  private constructor(
    snapshot: Snapshot,
    private readonly options: ProxyOptions,
  ) {
    this.snapshot = snapshot;
    this.http01 = options.http01;
    this.certificates = new CertificateStore(options.defaultCertificate);
    this.pool = new UpstreamPool(options.limits.upstreamTimeoutMs, 256, options.limits.connectTimeoutMs);
    this.certificates.setModelSecrets(snapshot.state.certManager?.secrets ?? []);
  }

  /** Starts the listeners of every controller of the snapshot. */
  static async start(snapshot: Snapshot, options: ProxyOptions): Promise<IngressProxy> {
    const proxy = new IngressProxy(snapshot, options);
    try {
      await proxy.listen();
    } catch (err) {
      await proxy.close(0);
      throw err;
    }
    return proxy;
  }

  /** Swaps the running configuration; in-flight requests finish with the one they started with. */
  setSnapshot(snapshot: Snapshot): void {
    const known = new Set(this.addresses.map((a) => a.controller));
    for (const c of snapshot.controllers) if (!known.has(c.name)) this.options.logger.warn(`ingress controller ${c.name} appeared: restart kwire up to give it listeners`);
    this.certificates.setModelSecrets(snapshot.state.certManager?.secrets ?? []);
    this.snapshot = snapshot;
  }

  /** The running configuration. */
  get current(): Snapshot {
    return this.snapshot;
  }

  /** Hot-swaps certificates issued or renewed at runtime; new handshakes get them at once. */
  setCertificates(secrets: readonly TlsSecret[]): void {
    this.certificates.setCertificates(secrets);
  }

  /** Plugs in (or removes) the ACME HTTP-01 responder. */
  setHttp01Responder(responder: Http01Responder | undefined): void {
    this.http01 = responder;
  }

  private async listen(): Promise<void> {
    const address = this.options.address ?? '127.0.0.1';
    const httpBase = this.options.httpPort ?? 8080;
    const httpsBase = this.options.httpsPort ?? 8443;
    const addresses: ListenerAddress[] = [];
    const only = this.options.only;
    const controllers = only === undefined ? this.snapshot.controllers : this.snapshot.controllers.filter((c) => c.name === only);
    if (only !== undefined && controllers.length === 0) throw new Error(`the state installs no ingress controller named ${only}`);
    for (let i = 0; i < controllers.length; i++) {
      const name = controllers[i]?.name ?? '';
      const plain = this.httpServer(name, 'http');
      const secure = this.tlsServer(name);
      const httpPort = await listenOn(plain, address, httpBase === 0 ? 0 : httpBase + i);
      const httpsPort = await listenOn(secure, address, httpsBase === 0 ? 0 : httpsBase + i);
      const host = address.includes(':') ? `[${address}]` : address;
      addresses.push({ controller: name, http: `http://${host}:${httpPort}`, https: `https://${host}:${httpsPort}` });
    }
    this.addresses = addresses;
  }

  private httpServer(controller: string, scheme: 'http' | 'https'): Server {
    const l = this.options.limits;
    const server = createHttpServer({
      maxHeaderSize: l.maxHeaderBytes,
      requireHostHeader: false,
      headersTimeout: l.headersTimeoutMs,
      requestTimeout: l.requestTimeoutMs,
      keepAliveTimeout: l.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(l.headersTimeoutMs / 4))),
    });
    server.on('request', (req: IncomingMessage, res) => {
      this.handle(controller, scheme, req, res);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.upgrade(controller, scheme, req, socket, head);
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (!socket.writable) return socket.destroy();
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const text = status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
    this.servers.push(server);
    return server;
  }

  /** HTTPS: node:http2 with HTTP/1 fallback; HTTP/1 connections go to a hardened HTTP/1 server. */
  private tlsServer(controller: string): Http2SecureServer {
    const h1 = this.httpServer(controller, 'https');
    this.servers.pop();
    this.inner.push(h1);
    h1.emit('listening');
    const server = createSecureServer({
      allowHTTP1: true,
      minVersion: 'TLSv1.2',
      cert: this.options.defaultCertificate.cert,
      key: this.options.defaultCertificate.key,
      ALPNProtocols: ['h2', 'http/1.1'],
      maxSessionMemory: 32,
      settings: { maxHeaderListSize: this.options.limits.maxHeaderBytes },
      SNICallback: (servername, cb) => {
        cb(null, this.contextFor(controller, servername));
      },
    });
    const [h2Listener] = server.listeners('secureConnection') as ((s: TLSSocket) => void)[];
    server.removeAllListeners('secureConnection');
    server.on('secureConnection', (socket: TLSSocket) => {
      if (socket.alpnProtocol === 'h2' && h2Listener) h2Listener.call(server, socket);
      else h1.emit('connection', socket);
    });
    server.on('request', (req, res) => {
      this.handle(controller, 'https', req, res as unknown as Res);
    });
    server.on('sessionError', () => undefined);
    server.on('session', (session: ServerHttp2Session) => {
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
    });
    server.setTimeout(this.options.limits.keepAliveTimeoutMs);
    this.servers.push(server);
    return server;
  }

  private contextFor(controller: string, servername: string): import('node:tls').SecureContext {
    try {
      const choice = tlsFor(this.snapshot.routing, controller, servername);
      if (choice?.secretName) return this.certificates.contextFor(choice.namespace, choice.secretName) ?? this.certificates.defaultContext;
    } catch {
      return this.certificates.defaultContext;
    }
    return this.certificates.defaultContext;
  }

  private route(controller: ControllerView | undefined, scheme: 'http' | 'https', req: Req, host: string, target: string, client: string, requestId: string): RouteDecision {
    if (!controller) return { kind: 'answer', status: 404, reason: 'the ingress controller is no longer installed', by: 'kwire' };
    return routeRequest(this.snapshot.routing, controller.name, {
      scheme,
      host,
      path: target,
      method: req.method ?? 'GET',
      // Request header values are strings (only set-cookie is a list, and it is a response header).
      headers: req.headers as unknown as StringMap,
      clientIP: client,
      requestId,
      ...(scheme === 'https' ? { sni: sniOf(req.socket) } : {}),
    });
  }

  private handle(controllerName: string, scheme: 'http' | 'https', req: Req, res: Res): void {
    const started = performance.now();
    const snapshot = this.snapshot;
    const controller = snapshot.controller(controllerName);
    const peer = clientAddress(req.socket);
    const client = snapshot.clientOf(controllerName, peer);
    const rawHost = hostOf(req);
    const host = normalizeHost(rawHost);
    const incomingId = req.headers['x-request-id'];
    const requestId = typeof incomingId === 'string' && incomingId.length <= 128 ? incomingId : this.ids.next();
    const url = req.url ?? '/';
    const log: { -readonly [K in keyof AccessRecord]?: AccessRecord[K] } = { controller: controllerName, scheme, method: req.method ?? 'GET', host, path: url, client, ...(peer === client ? {} : { peer }), requestId };
    let bytes = 0;
    const finish = (status: number): void => {
      const seconds = (performance.now() - started) / 1000;
      this.metrics.record(controllerName, log.ingress ?? '', log.service ?? '', status, seconds);
      this.options.accessLog?.({ ...(log as AccessRecord), time: new Date().toISOString(), status, bytes, durationMs: Math.round(seconds * 1e6) / 1000 });
    };
    const answer = (status: number, reason: string, headers: OutgoingHttpHeaders = {}): void => {
      log.reason = reason;
      const body = status === 200 ? '' : answerBody(status);
      res.writeHead(status, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(body), ...headers });
      res.end(body);
      bytes = Buffer.byteLength(body);
      finish(status);
    };
    if (this.http01 && scheme === 'http' && url.startsWith(ACME_PREFIX)) {
      this.challenge(url.slice(ACME_PREFIX.length), res, finish);
      return;
    }
    const target = normalizeTarget(url);
    if (!target) { answer(400, `request target ${JSON.stringify(url)} is not a path`); return; }
    const path = target.query ? `${target.path}?${target.query}` : target.path;
    log.path = path;
    const d = this.route(controller, scheme, req, rawHost, path, client, requestId);
    if (d.kind === 'answer') { answer(d.status, d.reason, d.location ? { location: d.location } : {}); return; }
    log.ingress = `${d.ingress.namespace}/${d.ingress.name}`;
    log.service = `${d.service.namespace}/${d.service.name}`;
    const choice = controller ? snapshot.upstreamFor(controller, d, client, host, path) : undefined;
    if (!choice) { answer(404, 'no controller'); return; }
    if (choice.kind === 'unavailable' || choice.kind === 'refused') {
      if (choice.kind === 'refused' && choice.pod) log.upstream = `${choice.pod.namespace}/${choice.pod.name}`;
      answer(choice.status, choice.reason); return;
    }
    if (choice.kind === 'denied') {
      log.upstream = `${choice.pod.namespace}/${choice.pod.name}`;
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        if (!res.writableEnded) answer(504, `upstream timed out: ${choice.reason}`);
      }, this.options.limits.deniedTimeoutMs);
      this.pending.add(timer);
      res.on('close', () => {
        clearTimeout(timer);
        this.pending.delete(timer);
      });
      req.resume();
      return;
    }
    log.upstream = choice.upstream;
    const length = Number(req.headers['content-length'] ?? 0);
    if (d.maxBodyBytes !== undefined && length > d.maxBodyBytes) {
      answer(413, `body of ${length} bytes exceeds proxy-body-size ${d.maxBodyBytes}`, { connection: 'close' }); return;
    }
    const upstreamPath = d.rewrittenPath ?? path;
    const outcome: Outcome = {
      answer,
      sent: (status, n) => {
        bytes = n;
        finish(status);
      },
    };
    if (choice.url.protocol === 'http:' && bodyless(req)) {
      this.forwardFast(req, res, choice, upstreamPath, rawHost, scheme, client, requestId, outcome);
      return;
    }
    const headers = this.upstreamHeaders(req, rawHost, scheme, client, requestId);
    this.forward(req, res, choice, upstreamPath, headers, d.maxBodyBytes, outcome);
  }

  /** A body-less request to a plain-HTTP upstream, on the lean pooled client. */
  private forwardFast(req: Req, res: Res, choice: Extract<UpstreamChoice, { kind: 'upstream' }>, path: string, rawHost: string, scheme: 'http' | 'https', client: string, requestId: string, outcome: Outcome): void {
    const method = req.method ?? 'GET';
    let head = `${method} ${path} HTTP/1.1\r\nhost: ${rawHost}\r\n`;
    const src = req.headers;
    for (const k in src) {
      if (k.charCodeAt(0) === 58 || HOP_BY_HOP.has(k) || SET_BY_PROXY.has(k)) continue;
      const v = src[k];
      if (typeof v === 'string') head += `${k}: ${v}\r\n`;
      else if (v) for (const one of v) head += `${k}: ${one}\r\n`;
    }
    head += `x-request-id: ${requestId}\r\nx-real-ip: ${client}\r\nx-forwarded-for: ${client}\r\nx-forwarded-host: ${rawHost}\r\nx-forwarded-port: ${req.socket.localPort ?? ''}\r\nx-forwarded-proto: ${scheme}\r\nx-forwarded-scheme: ${scheme}\r\n\r\n`;
    const handler = new FastExchange(res, req.httpVersion === '2.0', choice.upstream, this.options.limits.upstreamTimeoutMs, outcome);
    const exchange = this.pool.request(choice.url.hostname, choice.url.port, head, handler, method === 'HEAD');
    handler.exchange = exchange;
    res.on('close', () => {
      if (!res.writableEnded) exchange.cancel();
    });
  }

  private challenge(token: string, res: Res, finish: (status: number) => void): void {
    const reply = (key: string | undefined): void => {
      const status = key === undefined ? 404 : 200;
      const body = key ?? '404 Not Found\n';
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      finish(status);
    };
    try {
      const got = this.http01?.get(decodeURIComponent(token.split('?')[0] ?? ''));
      if (got instanceof Promise) got.then(reply, () => { reply(undefined); });
      else reply(got);
    } catch {
      reply(undefined);
    }
  }

  private upstreamHeaders(req: Req, rawHost: string, scheme: 'http' | 'https', client: string, requestId: string): OutgoingHttpHeaders {
    const out: OutgoingHttpHeaders = {};
    const src = req.headers;
    for (const k in src) {
      if (k.charCodeAt(0) === 58 || HOP_BY_HOP.has(k)) continue;
      out[k] = src[k];
    }
    out.host = rawHost;
    out['x-request-id'] = requestId;
    out['x-real-ip'] = client;
    out['x-forwarded-for'] = client;
    out['x-forwarded-host'] = rawHost;
    out['x-forwarded-port'] = String(req.socket.localPort ?? '');
    out['x-forwarded-proto'] = scheme;
    out['x-forwarded-scheme'] = scheme;
    return out;
  }

  private forward(
    req: Req,
    res: Res,
    choice: Extract<UpstreamChoice, { kind: 'upstream' }>,
    path: string,
    headers: OutgoingHttpHeaders,
    maxBody: number | undefined,
    done: Outcome,
  ): void {
    const limits = this.options.limits;
    const tls = choice.url.protocol === 'https:';
    const upreq = (tls ? httpsRequest : httpRequest)({
      agent: tls ? this.tlsAgent : this.agent,
      hostname: choice.url.hostname,
      port: choice.url.port,
      method: req.method ?? 'GET',
      path,
      headers,
    });
    let timedOut = false;
    let failed = false;
    upreq.setTimeout(limits.upstreamTimeoutMs, () => {
      timedOut = true;
      upreq.destroy();
    });
    upreq.on('socket', (socket: Socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => {
        timedOut = true;
        upreq.destroy();
      }, limits.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
      });
      socket.once('close', () => {
        clearTimeout(timer);
      });
    });
    upreq.on('error', (err: NodeJS.ErrnoException) => {
      if (failed) return;
      failed = true;
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (timedOut) done.answer(504, `upstream ${choice.upstream} timed out after ${limits.upstreamTimeoutMs}ms`);
      else done.answer(502, `upstream ${choice.upstream}: ${err.code ?? err.message}`);
    });
    upreq.on('response', (upres: IncomingMessage) => {
      const status = upres.statusCode ?? 502;
      const out: OutgoingHttpHeaders = {};
      const h = upres.headers;
      for (const k in h) if (!HOP_BY_HOP.has(k)) out[k] = h[k];
      res.writeHead(status, out);
      let n = 0;
      upres.on('data', (chunk: Buffer) => {
        n += chunk.length;
        if (!res.write(chunk)) upres.pause();
      });
      res.on('drain', () => upres.resume());
      upres.on('end', () => {
        res.end();
        done.sent(status, n);
      });
      upres.on('error', () => res.destroy());
    });
    res.on('close', () => {
      if (!res.writableEnded) upreq.destroy();
    });
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (maxBody !== undefined && received > maxBody) {
        if (failed) return;
        failed = true;
        upreq.destroy();
        req.pause();
        if (!res.headersSent) done.answer(413, `body exceeds proxy-body-size ${maxBody} bytes (stopped after ${received})`, { connection: 'close' });
        return;
      }
      if (!upreq.write(chunk)) req.pause();
    });
    upreq.on('drain', () => req.resume());
    req.on('end', () => {
      if (!failed) upreq.end();
    });
  }

  /** WebSocket (and other Upgrade) requests: routed like any request, then spliced both ways. */
  private upgrade(controllerName: string, scheme: 'http' | 'https', req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    this.tunnels.add(socket);
    socket.on('close', () => this.tunnels.delete(socket));
    const snapshot = this.snapshot;
    const controller = snapshot.controller(controllerName);
    const client = snapshot.clientOf(controllerName, clientAddress(req.socket));
    const rawHost = hostOf(req);
    const requestId = this.ids.next();
    const fail = (status: number, extra = ''): void => {
      socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? ''}\r\n${extra}Connection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const target = normalizeTarget(req.url ?? '/');
    if (!target) { fail(400); return; }
    const path = target.query ? `${target.path}?${target.query}` : target.path;
    const d = this.route(controller, scheme, req, rawHost, path, client, requestId);
    if (d.kind === 'answer') { fail(d.status, d.location ? `Location: ${d.location}\r\n` : ''); return; }
    const choice = controller ? snapshot.upstreamFor(controller, d, client, normalizeHost(rawHost), path) : undefined;
    if (!choice || choice.kind !== 'upstream') {
      const status = choice?.status ?? 404;
      if (choice?.kind === 'denied') {
        setTimeout(() => { fail(504); }, this.options.limits.deniedTimeoutMs).unref();
        return;
      }
      fail(status); return;
    }
    const headers = this.upstreamHeaders(req, rawHost, scheme, client, requestId);
    headers.connection = 'Upgrade';
    headers.upgrade = req.headers.upgrade ?? 'websocket';
    const tls = choice.url.protocol === 'https:';
    const upreq = (tls ? httpsRequest : httpRequest)({ hostname: choice.url.hostname, port: choice.url.port, method: req.method ?? 'GET', path: d.rewrittenPath ?? path, headers, ...(tls ? { rejectUnauthorized: false } : {}) });
    upreq.on('upgrade', (upres: IncomingMessage, upsocket: Duplex, uphead: Buffer) => {
      let head101 = `HTTP/1.1 101 Switching Protocols\r\n`;
      for (let i = 0; i < upres.rawHeaders.length; i += 2) head101 += `${upres.rawHeaders[i] ?? ''}: ${upres.rawHeaders[i + 1] ?? ''}\r\n`;
      socket.write(`${head101}\r\n`);
      if (uphead.length) socket.write(uphead);
      if (head.length) upsocket.write(head);
      upsocket.on('error', () => socket.destroy());
      socket.on('close', () => upsocket.destroy());
      upsocket.on('close', () => socket.destroy());
      upsocket.pipe(socket);
      socket.pipe(upsocket);
    });
    upreq.on('response', (upres: IncomingMessage) => {
      fail(upres.statusCode ?? 502);
      upres.resume();
    });
    upreq.on('error', () => { fail(502); });
    upreq.end();
  }

  /** Stops accepting, lets in-flight requests end (up to a grace period), then closes upstream pools. */
  async close(graceMs = 2000): Promise<void> {
    for (const t of this.pending) clearTimeout(t);
    const closed = Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((done) => {
            s.close(() => {
              done();
            });
          }),
      ),
    );
    const plain = [...this.inner, ...this.servers.filter((s): s is Server => !(s instanceof TlsServer))];
    for (const s of plain) s.closeIdleConnections();
    for (const session of this.sessions) session.close();
    for (const t of this.tunnels) t.destroy();
    const grace = setTimeout(() => {
      for (const s of plain) s.closeAllConnections();
      for (const session of this.sessions) session.destroy();
    }, graceMs);
    await closed;
    clearTimeout(grace);
    this.agent.destroy();
    this.tlsAgent.destroy();
    this.pool.close();
  }
}

function sniOf(socket: Socket): string | undefined {
  const name: unknown = (socket as { servername?: unknown }).servername;
  return typeof name === 'string' && name ? name : undefined;
}

function listenOn(server: Server | Http2SecureServer, address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(err);
    };
    server.once('error', onError);
    server.listen(port, address, () => {
      server.off('error', onError);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : port);
    });
  });
}
