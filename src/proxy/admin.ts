/**
 * The admin endpoint of a running L7 plane: `/metrics` (Prometheus text, merged from every
 * process that proxies) and `/healthz`.
 */
import { createServer, type Server } from 'node:http';
import { renderMetrics, type MetricsSnapshot } from './metrics.js';

/** A listening admin endpoint. */
export interface AdminEndpoint {
  readonly url: string;
  readonly close: () => Promise<void>;
}

/** Starts the admin endpoint; `metrics` collects the snapshots to merge on every scrape. */
export async function startAdmin(address: string, port: number, metrics: () => Promise<readonly MetricsSnapshot[]>): Promise<AdminEndpoint> {
  const server: Server = createServer({ requireHostHeader: false }, (req, res) => {
    if (req.url === '/metrics') {
      metrics().then(
        (snapshots) => {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
          res.end(renderMetrics(snapshots));
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`${err instanceof Error ? err.message : String(err)}\n`);
        },
      );
      return;
    }
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => {
      resolve();
    });
  });
  const a = server.address();
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${typeof a === 'object' && a ? a.port : port}`,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => {
          done();
        });
        server.closeAllConnections();
      }),
  };
}
