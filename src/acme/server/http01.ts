/** HTTP-01 validation (RFC 8555 §8.3) as an ACME server does it, with a resolver instead of DNS. */
import { request } from 'node:http';
import { HTTP01_PATH_PREFIX } from '../types.js';

/** Where the lab CA connects to reach a domain's port 80 (the ingress proxy's HTTP listener). */
export interface Http01Target {
  readonly host: string;
  readonly port: number;
}

/** Maps a domain to the address HTTP-01 validation connects to. */
export type Http01Resolver = (domain: string) => Http01Target;

/** The outcome of one validation attempt: ok, or the ACME error type and detail. */
export type Http01Outcome =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly type: 'connection' | 'unauthorized' | 'incorrectResponse';
      readonly detail: string;
    };

const MAX_BODY_BYTES = 8192;

/** What one HTTP-01 fetch got: the response, or why there was none. */
export type Http01Response = { readonly status: number; readonly body: string; readonly via: string } | { readonly error: string };

/**
 * Fetches `path` from `domain` on port 80 the way the CA reaches it: over a resolver to a local
 * listener (the L7 plane), or from the Linux plane's outside world through the cluster's real path.
 */
export type Http01Fetch = (domain: string, path: string, timeoutMs: number) => Promise<Http01Response>;

/** A fetch that connects to the address the resolver gives for a domain, with the domain as Host header. */
export function resolverFetch(resolve: Http01Resolver): Http01Fetch {
  return (domain, path, timeoutMs) => {
    const target = resolve(domain);
    const via = `${target.host}:${target.port}`;
    return new Promise((settle) => {
      const req = request({ host: target.host, port: target.port, path, method: 'GET', headers: { host: domain, 'user-agent': 'kwire-lab-acme/1 (HTTP-01 validation)' }, timeout: timeoutMs, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            res.destroy();
            settle({ error: `the response is larger than ${MAX_BODY_BYTES} bytes` });
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          settle({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), via });
        });
        res.on('error', (err) => {
          settle({ error: `reading the response: ${err.message}` });
        });
      });
      req.on('timeout', () => {
        req.destroy(new Error(`no answer within ${timeoutMs} ms`));
      });
      req.on('error', (err) => {
        settle({ error: `could not fetch it from ${via}: ${err.message}` });
      });
      req.end();
    });
  };
}

/**
 * Fetches `http://<domain>/.well-known/acme-challenge/<token>` and checks the body (trailing
 * whitespace removed) is `expected`.
 */
export async function validateHttp01(domain: string, token: string, expected: string, fetch: Http01Fetch, timeoutMs: number): Promise<Http01Outcome> {
  const url = `http://${domain}${HTTP01_PATH_PREFIX}${token}`;
  const got = await fetch(domain, `${HTTP01_PATH_PREFIX}${token}`, timeoutMs);
  if ('error' in got) return { ok: false, type: 'connection', detail: `${url}: ${got.error}` };
  if (got.status !== 200) return { ok: false, type: 'unauthorized', detail: `invalid response from ${url} (reached at ${got.via}): HTTP ${got.status}` };
  const body = got.body.replace(/\s+$/, '');
  return body === expected ? { ok: true } : { ok: false, type: 'incorrectResponse', detail: `the key authorization at ${url} was ${JSON.stringify(body.slice(0, 200))}, expected ${JSON.stringify(expected)}` };
}
