import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { UpstreamPool, type UpstreamHandler } from './upstream.js';

/** A raw TCP upstream: `answer` gets each request head and the connection's number. */
async function rawUpstream(answer: (socket: Socket, head: string, connection: number) => void): Promise<{ server: Server; port: number; connections: () => number }> {
  let count = 0;
  const server = createServer((socket) => {
    const n = ++count;
    let buffered = '';
    socket.on('data', (b: Buffer) => {
      buffered += b.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n\r\n')) >= 0) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        answer(socket, head, n);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const a = server.address();
  return { server, port: typeof a === 'object' && a ? a.port : 0, connections: () => count };
}

interface Got {
  status: number;
  headers: string[];
  body: string;
  error?: string;
  timedOut?: boolean;
}

function exchange(pool: UpstreamPool, port: number, head = 'GET / HTTP/1.1\r\nhost: x\r\n\r\n', noBody = false): Promise<Got> {
  return new Promise((resolve) => {
    const got: Got = { status: 0, headers: [], body: '' };
    const handler: UpstreamHandler = {
      head: (status, headers) => {
        got.status = status;
        got.headers = headers;
      },
      data: (chunk) => {
        got.body += chunk.toString('latin1');
        return true;
      },
      end: (last) => {
        if (last) got.body += last.toString('latin1');
        resolve(got);
      },
      fail: (err, timedOut) => {
        resolve({ ...got, error: err.code ?? err.message, timedOut });
      },
    };
    pool.request('127.0.0.1', port, head, handler, noBody);
  });
}

const servers: Server[] = [];
const pools: UpstreamPool[] = [];
afterEach(() => {
  for (const p of pools.splice(0)) p.close();
  for (const s of servers.splice(0)) s.close();
});

async function setup(answer: (socket: Socket, head: string, connection: number) => void, timeoutMs = 5000): Promise<{ pool: UpstreamPool; port: number; connections: () => number }> {
  const up = await rawUpstream(answer);
  servers.push(up.server);
  const pool = new UpstreamPool(timeoutMs);
  pools.push(pool);
  return { pool, port: up.port, connections: up.connections };
}

describe('UpstreamPool', () => {
  it.each([
    { name: 'Content-Length', response: ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Kwire-Pod: a/b\r\n\r\nhel', 'lo'], body: 'hello', status: 200 },
    { name: 'chunked, split anywhere, with an extension and a trailer', response: ['HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r', '\nabc\r\n', '4\r\ndefg\r\n0\r\nX-T: 1\r\n', '\r\n'], body: 'abcdefg', status: 201 },
    { name: 'an interim 100 Continue before the answer', response: ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'], body: 'ok', status: 200 },
    { name: '204 without a body', response: ['HTTP/1.1 204 No Content\r\n\r\n'], body: '', status: 204 },
  ])('reads a response framed by $name and reuses the connection', async ({ response, body, status }) => {
    const { pool, port, connections } = await setup((socket) => {
      let i = 0;
      const next = (): void => {
        const part = response[i++];
        if (part === undefined) return;
        socket.write(part);
        setImmediate(next);
      };
      next();
    });
    for (let round = 0; round < 2; round++) {
      const got = await exchange(pool, port);
      expect(got).toMatchObject({ status, body });
      expect(got.error).toBeUndefined();
    }
    expect(connections()).toBe(1);
  });

  it('passes end-to-end headers on with their case and drops hop-by-hop ones', async () => {
    const { pool, port } = await setup((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n');
    });
    expect((await exchange(pool, port)).headers).toEqual(['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Content-Length', '0']);
  });

  it('reads a body up to the close when there is no framing (HTTP/1.0), and does not reuse', async () => {
    const { pool, port, connections } = await setup((socket) => {
      socket.end('HTTP/1.0 200 OK\r\n\r\nuntil close');
    });
    expect(await exchange(pool, port)).toMatchObject({ status: 200, body: 'until close' });
    expect(await exchange(pool, port)).toMatchObject({ status: 200, body: 'until close' });
    expect(connections()).toBe(2);
  });

  it('expects no body after HEAD even with a Content-Length', async () => {
    const { pool, port } = await setup((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n');
    });
    expect(await exchange(pool, port, 'HEAD / HTTP/1.1\r\nhost: x\r\n\r\n', true)).toMatchObject({ status: 200, body: '' });
    expect(await exchange(pool, port, 'HEAD / HTTP/1.1\r\nhost: x\r\n\r\n', true)).toMatchObject({ status: 200, body: '' });
  });

  it('sends again on a new connection when a kept-alive one closes without answering', async () => {
    const seen = new Map<number, number>();
    const { pool, port, connections } = await setup((socket, _head, n) => {
      const count = (seen.get(n) ?? 0) + 1;
      seen.set(n, count);
      if (n === 1 && count === 2) socket.destroy();
      else socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${n}`);
    });
    expect((await exchange(pool, port)).body).toBe('1');
    expect(await exchange(pool, port)).toMatchObject({ status: 200, body: '2' });
    expect(connections()).toBe(2);
  });

  it('does not reuse a kept-alive connection the upstream closed while idle', async () => {
    const { pool, port, connections } = await setup((socket, _head, n) => {
      socket.end(`HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${n}`);
    });
    expect((await exchange(pool, port)).body).toBe('1');
    expect((await exchange(pool, port)).body).toBe('2');
    expect(connections()).toBe(2);
  });

  it('fails with the socket error when nothing listens', async () => {
    const { pool, port, server } = await (async () => {
      const up = await rawUpstream(() => undefined);
      const p = up.port;
      await new Promise((done) => up.server.close(done));
      const created = new UpstreamPool(1000);
      pools.push(created);
      return { pool: created, port: p, server: up.server };
    })();
    expect(server.listening).toBe(false);
    expect(await exchange(pool, port)).toMatchObject({ status: 0, error: 'ECONNREFUSED', timedOut: false });
  });

  it('fails as timed out when the upstream stays silent', async () => {
    const { pool, port } = await setup(() => undefined, 50);
    expect(await exchange(pool, port)).toMatchObject({ status: 0, error: 'ETIMEDOUT', timedOut: true });
  });

  it('pauses the upstream while the handler is full, and resumes on request', async () => {
    const big = 'x'.repeat(1 << 20);
    const { pool, port } = await setup((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n${big}`);
    });
    const got = await new Promise<number>((resolve) => {
      let n = 0;
      let paused = 0;
      const ex = pool.request('127.0.0.1', port, 'GET / HTTP/1.1\r\nhost: x\r\n\r\n', {
        head: () => undefined,
        data: (chunk) => {
          n += chunk.length;
          paused++;
          setTimeout(() => {
            ex.resume();
          }, 1);
          return false;
        },
        end: (last) => {
          resolve(paused > 1 ? n + (last?.length ?? 0) : -1);
        },
        fail: () => {
          resolve(-2);
        },
      });
    });
    expect(got).toBe(big.length);
  });
});
