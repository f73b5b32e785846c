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

/**
 * Fetches `http://<domain>/.well-known/acme-challenge/<token>` from the resolved address with the
 * domain as Host header, and checks the body (trailing whitespace removed) is `expected`.
 */
export function validateHttp01(
  domain: string,
  token: string,
  expected: string,
  resolve: Http01Resolver,
  timeoutMs: number,
): Promise<Http01Outcome> {
  const url = `http://${domain}${HTTP01_PATH_PREFIX}${token}`;
  const target = resolve(domain);
  return new Promise((settle) => {
    const req = request(
      {
        host: target.host,
        port: target.port,
        path: `${HTTP01_PATH_PREFIX}${token}`,
        method: 'GET',
        headers: { host: domain, 'user-agent': 'kwire-lab-acme/1 (HTTP-01 validation)' },
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            res.destroy();
            settle({
              ok: false,
              type: 'unauthorized',
              detail: `the response from ${url} is larger than ${MAX_BODY_BYTES} bytes`,
            });
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          if (res.statusCode !== 200) {
            settle({
              ok: false,
              type: 'unauthorized',
              detail: `invalid response from ${url} (reached at ${target.host}:${target.port}): HTTP ${res.statusCode ?? 0}`,
            });
            return;
          }
          const body = Buffer.concat(chunks).toString('utf8').replace(/\s+$/, '');
          settle(
            body === expected
              ? { ok: true }
              : {
                  ok: false,
                  type: 'incorrectResponse',
                  detail: `the key authorization at ${url} was ${JSON.stringify(body.slice(0, 200))}, expected ${JSON.stringify(expected)}`,
                },
          );
        });
        res.on('error', (err) => {
          settle({ ok: false, type: 'connection', detail: `reading ${url}: ${err.message}` });
        });
      },
    );
    req.on('timeout', () => {
      req.destroy(new Error(`no answer within ${timeoutMs} ms`));
    });
    req.on('error', (err) => {
      settle({
        ok: false,
        type: 'connection',
        detail: `could not fetch ${url} from ${target.host}:${target.port}: ${err.message}`,
      });
    });
    req.end();
  });
}
