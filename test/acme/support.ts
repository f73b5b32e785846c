/**
 * Test support for ACME: a model with ACME Certificates, a tiny HTTP server standing in for the
 * ingress proxy's HTTP-01 path, and `openssl verify` over an issued chain.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../src/api/types.js';
import {
  reconcileCertificates,
  type CertManagerState,
} from '../../src/controllers/certmanager/index.js';
import { HTTP01_PATH_PREFIX, type Http01Responder } from '../../src/acme/index.js';

/** One Certificate to put in the model. */
export interface CertSpec {
  readonly name: string;
  readonly dnsNames: readonly string[];
  readonly privateKey?: Record<string, unknown>;
  readonly renewBefore?: string;
  readonly commonName?: string;
}

/** The cert-manager part of a model: an ACME Issuer pointing at `server` and the given Certificates. */
export function acmeModel(
  server: string,
  certs: readonly CertSpec[],
  now = new Date(),
  solvers: readonly unknown[] = [{ http01: { ingress: { ingressClassName: 'nginx' } } }],
): CertManagerState {
  const meta = (name: string) => ({ name, namespace: 'default', labels: {}, annotations: {} });
  const objects: KubeObject[] = [
    {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Issuer',
      metadata: meta('letsencrypt-prod'),
      spec: {
        acme: {
          server,
          email: 'admin@example.com',
          privateKeySecretRef: { name: 'letsencrypt-prod' },
          solvers,
        },
      },
    },
    ...certs.map((c) => ({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: meta(c.name),
      spec: {
        secretName: `${c.name}-tls`,
        dnsNames: c.dnsNames,
        issuerRef: { name: 'letsencrypt-prod' },
        ...(c.privateKey ? { privateKey: c.privateKey } : {}),
        ...(c.renewBefore ? { renewBefore: c.renewBefore } : {}),
        ...(c.commonName ? { commonName: c.commonName } : {}),
      },
    })),
  ];
  return reconcileCertificates({ objects, ingresses: [], now });
}

/** A stand-in for the ingress proxy's HTTP listener: answers the challenge path from a responder. */
export async function startChallengeServer(
  responder: Http01Responder,
  port = 0,
): Promise<{ port: number; hosts: string[]; close: () => Promise<void> }> {
  const hosts: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    hosts.push(req.headers.host ?? '');
    const path = req.url ?? '';
    const answer = path.startsWith(HTTP01_PATH_PREFIX)
      ? responder.get(path.slice(HTTP01_PATH_PREFIX.length))
      : undefined;
    if (answer === undefined) {
      res.writeHead(404).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end(answer);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    hosts,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

/** `openssl verify -CAfile root -untrusted intermediate leaf`: its stdout, or the error output. */
export function opensslVerify(rootPem: string, intermediatePem: string, leafPem: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kwire-acme-verify-'));
  try {
    writeFileSync(join(dir, 'root.pem'), rootPem);
    writeFileSync(join(dir, 'intermediate.pem'), intermediatePem);
    writeFileSync(join(dir, 'leaf.pem'), leafPem);
    return execFileSync(
      'openssl',
      ['verify', '-CAfile', 'root.pem', '-untrusted', 'intermediate.pem', 'leaf.pem'],
      { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } catch (err) {
    const failed = err as { stderr?: string; stdout?: string };
    return `${failed.stdout ?? ''}${failed.stderr ?? String(err)}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The PEM blocks of a bundle. */
export function pemBlocks(pem: string): string[] {
  return pem.match(/-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----\n?/g) ?? [];
}

/** A raw HTTPS request trusting `ca`; resolves with status, headers and body text. */
export function httpsCall(
  url: string,
  ca: string,
  init: { method?: string; body?: string; contentType?: string } = {},
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: init.method ?? 'GET',
        ca,
        headers:
          init.body === undefined
            ? {}
            : { 'content-type': init.contentType ?? 'application/jose+json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}
