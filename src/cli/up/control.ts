/**
 * The control socket of a running `up` (a Unix socket in the cluster's runtime directory): other
 * kwire commands ask it to stop or start a node. One JSON request per connection, one JSON reply.
 */
import { createConnection, createServer, type Server } from 'node:net';
import { rmSync } from 'node:fs';

/** A request to the running cluster. */
export type ControlRequest = { readonly op: 'node'; readonly action: 'stop' | 'start'; readonly node: string };

/** Its answer. */
export type ControlReply = { readonly ok: true; readonly message: string } | { readonly ok: false; readonly error: string };

/** Serves the control socket until closed. */
export async function serveControl(path: string, handle: (r: ControlRequest) => Promise<ControlReply>): Promise<{ close: () => Promise<void> }> {
  rmSync(path, { force: true });
  const server: Server = createServer((conn) => {
    let text = '';
    conn.on('error', () => undefined);
    conn.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (!text.includes('\n')) return;
      let request: ControlRequest;
      try {
        request = JSON.parse(text) as ControlRequest;
      } catch {
        conn.end(`${JSON.stringify({ ok: false, error: 'not a JSON request' })}\n`);
        return;
      }
      handle(request).then(
        (reply) => conn.end(`${JSON.stringify(reply)}\n`),
        (err: unknown) => conn.end(`${JSON.stringify({ ok: false, error: err instanceof Error ? err.message : String(err) })}\n`),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          rmSync(path, { force: true });
          resolve();
        });
      }),
  };
}

/** Sends one request to a running cluster's control socket. */
export function sendControl(path: string, request: ControlRequest, timeoutMs = 60_000): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(path);
    let text = '';
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error(`no answer from ${path} within ${String(timeoutMs)} ms`));
    }, timeoutMs);
    conn.on('connect', () => conn.write(`${JSON.stringify(request)}\n`));
    conn.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    conn.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(text) as ControlReply);
      } catch {
        reject(new Error(`a bad answer from ${path}: ${text.slice(0, 200)}`));
      }
    });
    conn.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
