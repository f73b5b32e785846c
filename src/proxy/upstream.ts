/**
 * A lean HTTP/1.1 upstream client for the proxy's common case (a request without a body to a
 * plain-HTTP upstream): keep-alive connections pooled per target (LIFO), the request head written
 * in one syscall, the response head parsed by hand and the body (Content-Length, chunked, or up to
 * close) handed on in the chunks the socket delivers. No per-request ClientRequest, Agent
 * bookkeeping or listener churn. Anything else goes through node:http.
 */
import { connect, type Socket } from 'node:net';

/** Receives one exchange's response; `data` returns false to pause the upstream. */
export interface UpstreamHandler {
  /** The response head; `headers` is a flat name/value list (names as sent). */
  head(status: number, headers: string[]): void;
  data(chunk: Buffer): boolean;
  /** The response is complete; `last` is its final piece of body, if it came with the end. */
  end(last?: Buffer): void;
  /** The exchange failed; `timedOut` when the upstream was silent for the timeout. */
  fail(err: NodeJS.ErrnoException, timedOut: boolean): void;
}

const CRLF2 = Buffer.from('\r\n\r\n');

/** Headers of one connection only (RFC 9110 §7.6.1), never passed on. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'http2-settings']);

const enum Body {
  None,
  Length,
  Chunked,
  UntilClose,
}

const enum Chunk {
  Size,
  Data,
  DataEnd,
  Trailer,
}

/** One pooled connection and the exchange on it. */
class Connection {
  private handler: UpstreamHandler | undefined;
  private head: Buffer | undefined;
  private body = Body.None;
  private remaining = 0;
  private chunk = Chunk.Size;
  private line = '';
  private reusable = true;
  private received = 0;
  private noBody = false;
  /** The connection a retried exchange moved to. */
  private movedTo: Connection | undefined;
  uses = 0;

  constructor(
    readonly socket: Socket,
    private readonly pool: UpstreamPool,
    readonly key: string,
    timeoutMs: number,
  ) {
    socket.setNoDelay(true);
    socket.setTimeout(timeoutMs);
    socket.on('data', (b: Buffer) => {
      this.onData(b);
    });
    socket.on('timeout', () => {
      this.abort(Object.assign(new Error('upstream timed out'), { code: 'ETIMEDOUT' }), true);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.abort(err, false);
    });
    socket.on('close', () => {
      this.abort(Object.assign(new Error('upstream closed the connection'), { code: 'ECONNRESET' }), false);
    });
  }

  /** Starts an exchange: the whole request head goes out in one write. */
  send(head: string, handler: UpstreamHandler, noBody: boolean): void {
    this.handler = handler;
    this.head = undefined;
    this.received = 0;
    this.noBody = noBody;
    this.uses++;
    this.socket.write(head, 'latin1');
  }

  /** Resumes a paused upstream once the client drained. */
  resume(): void {
    if (this.movedTo) this.movedTo.resume();
    else this.socket.resume();
  }

  /** Abandons the exchange (the client went away); the connection is not reused. */
  cancel(): void {
    this.movedTo?.cancel();
    this.handler = undefined;
    this.socket.destroy();
  }

  /** Records the connection a retried exchange moved to. */
  moved(to: Connection | undefined): void {
    this.movedTo = to;
  }

  private abort(err: NodeJS.ErrnoException, timedOut: boolean): void {
    this.pool.forget(this);
    const h = this.handler;
    this.handler = undefined;
    if (!this.socket.destroyed) this.socket.destroy();
    if (!h) return;
    if (this.body === Body.UntilClose && this.head !== undefined && !timedOut && err.code === 'ECONNRESET') h.end();
    else if (this.received === 0 && this.uses > 1 && !timedOut) this.pool.retry(this, h);
    else h.fail(err, timedOut);
  }

  private onData(b: Buffer): void {
    const h = this.handler;
    if (!h) {
      this.socket.destroy();
      return;
    }
    this.received += b.length;
    if (this.head === undefined || this.body === Body.None) {
      const buf = this.head ? Buffer.concat([this.head, b]) : b;
      const end = buf.indexOf(CRLF2);
      if (end < 0) {
        if (buf.length > 65_536) this.abort(Object.assign(new Error('upstream sent too large a header'), { code: 'HPE_HEADER_OVERFLOW' }), false);
        else this.head = buf;
        return;
      }
      this.head = buf;
      const parsed = this.parseHead(buf.toString('latin1', 0, end), h);
      const rest = buf.subarray(end + 4);
      if (parsed === 'interim') {
        this.received = 0;
        if (rest.length) this.onData(rest);
        return;
      }
      if (parsed === 'failed') return;
      if (this.body === Body.None) {
        this.finish(h);
        return;
      }
      if (rest.length) this.onBody(rest, h);
      return;
    }
    this.onBody(b, h);
  }

  /** Parses the status line and headers (1xx responses are skipped as `interim`). */
  private parseHead(text: string, h: UpstreamHandler): 'final' | 'interim' | 'failed' {
    const lines = text.split('\r\n');
    const status = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0] ?? '');
    if (!status) {
      this.abort(Object.assign(new Error('upstream sent a malformed response'), { code: 'HPE_INVALID_CONSTANT' }), false);
      return 'failed';
    }
    const code = Number(status[2]);
    if (code >= 100 && code < 200) {
      this.head = undefined;
      this.body = Body.None;
      return 'interim';
    }
    const headers: string[] = [];
    let length = -1;
    let chunked = false;
    let close = status[1] === '0';
    for (let i = 1; i < lines.length; i++) {
      const l = lines[i] ?? '';
      const colon = l.indexOf(':');
      if (colon <= 0) continue;
      const name = l.slice(0, colon);
      const value = l.slice(colon + 1).trim();
      const lower = name.toLowerCase();
      if (lower === 'content-length') length = Number(value);
      else if (lower === 'transfer-encoding') chunked = value.toLowerCase().endsWith('chunked');
      else if (lower === 'connection') close = value.toLowerCase().includes('close');
      if (HOP_BY_HOP.has(lower)) continue;
      headers.push(name, value);
    }
    this.reusable = !close;
    if (this.noBody || code === 204 || code === 304) this.body = Body.None;
    else if (chunked) {
      this.body = Body.Chunked;
      this.chunk = Chunk.Size;
      this.line = '';
    } else if (length >= 0) {
      this.body = length === 0 ? Body.None : Body.Length;
      this.remaining = length;
    } else {
      this.body = Body.UntilClose;
      this.reusable = false;
    }
    h.head(code, headers);
    return 'final';
  }

  private onBody(b: Buffer, h: UpstreamHandler): void {
    switch (this.body) {
      case Body.Length: {
        const take = b.length <= this.remaining ? b : b.subarray(0, this.remaining);
        this.remaining -= take.length;
        if (this.remaining === 0) this.finish(h, take);
        else if (!h.data(take)) this.socket.pause();
        return;
      }
      case Body.UntilClose:
        if (!h.data(b)) this.socket.pause();
        return;
      case Body.Chunked:
        this.onChunked(b, h);
        return;
      case Body.None:
        return;
    }
  }

  private onChunked(b: Buffer, h: UpstreamHandler): void {
    let i = 0;
    let more = true;
    while (i < b.length) {
      if (this.chunk === Chunk.Data) {
        const take = Math.min(this.remaining, b.length - i);
        more = h.data(b.subarray(i, i + take)) && more;
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) {
          this.chunk = Chunk.DataEnd;
          this.line = '';
        }
        continue;
      }
      const nl = b.indexOf(10, i);
      if (nl < 0) {
        this.line += b.toString('latin1', i);
        break;
      }
      const line = (this.line + b.toString('latin1', i, nl)).trimEnd();
      this.line = '';
      i = nl + 1;
      if (this.chunk === Chunk.DataEnd) {
        this.chunk = Chunk.Size;
        continue;
      }
      if (this.chunk === Chunk.Trailer) {
        if (line === '') {
          this.finish(h);
          return;
        }
        continue;
      }
      const size = parseInt(line, 16);
      if (!Number.isFinite(size) || size < 0) {
        this.abort(Object.assign(new Error('upstream sent a malformed chunk'), { code: 'HPE_INVALID_CHUNK_SIZE' }), false);
        return;
      }
      if (size === 0) this.chunk = Chunk.Trailer;
      else {
        this.chunk = Chunk.Data;
        this.remaining = size;
      }
    }
    if (!more) this.socket.pause();
  }

  private finish(h: UpstreamHandler, last?: Buffer): void {
    this.handler = undefined;
    this.head = undefined;
    this.body = Body.None;
    if (this.reusable) this.pool.release(this);
    else this.socket.destroy();
    h.end(last);
  }
}

/** An exchange in flight, as the caller holds it. */
export interface UpstreamExchange {
  /** Resumes a paused upstream. */
  resume(): void;
  /** Abandons the exchange. */
  cancel(): void;
}

/** Keep-alive connections to upstreams, reused LIFO per `host:port`. */
export class UpstreamPool {
  private readonly idle = new Map<string, Connection[]>();
  private readonly heads = new WeakMap<Connection, { head: string; host: string; port: number; noBody: boolean }>();
  private closed = false;

  constructor(
    private readonly timeoutMs: number,
    private readonly maxIdlePerTarget = 256,
    /** Time to connect (nginx `proxy_connect_timeout`); a dropped SYN ends as a timeout (504). @default timeoutMs */
    private readonly connectTimeoutMs = timeoutMs,
  ) {}

  /** Sends a body-less request (its full head, ending in an empty line) to `host:port`. */
  request(host: string, port: number, head: string, handler: UpstreamHandler, noBody = false): UpstreamExchange {
    const key = `${host}:${port}`;
    const free = this.idle.get(key);
    const c = free?.pop() ?? this.open(host, port, key);
    this.heads.set(c, { head, host, port, noBody });
    c.moved(undefined);
    c.send(head, handler, noBody);
    return c;
  }

  private open(host: string, port: number, key: string): Connection {
    const socket = connect({ host, port });
    const c = new Connection(socket, this, key, Math.min(this.connectTimeoutMs, this.timeoutMs));
    if (this.connectTimeoutMs < this.timeoutMs) socket.once('connect', () => socket.setTimeout(this.timeoutMs));
    return c;
  }

  /** A connection finished its exchange and may carry the next. */
  release(c: Connection): void {
    let free = this.idle.get(c.key);
    if (!free) {
      free = [];
      this.idle.set(c.key, free);
    }
    if (this.closed || free.length >= this.maxIdlePerTarget) c.socket.destroy();
    else free.push(c);
  }

  /** A connection is gone. */
  forget(c: Connection): void {
    const free = this.idle.get(c.key);
    const i = free ? free.indexOf(c) : -1;
    if (free && i >= 0) free.splice(i, 1);
  }

  /** A reused connection closed before answering (the upstream's keep-alive ended): once more on a new one. */
  retry(c: Connection, handler: UpstreamHandler): void {
    const r = this.heads.get(c);
    if (!r || this.closed) {
      handler.fail(Object.assign(new Error('upstream closed the connection'), { code: 'ECONNRESET' }), false);
      return;
    }
    const fresh = this.open(r.host, r.port, c.key);
    c.moved(fresh);
    this.heads.set(fresh, r);
    fresh.send(r.head, handler, r.noBody);
  }

  /** Closes every idle connection; later releases close theirs. */
  close(): void {
    this.closed = true;
    for (const free of this.idle.values()) for (const c of free) c.socket.destroy();
    this.idle.clear();
  }
}
