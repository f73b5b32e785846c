/**
 * kwire's lab ACME CA: an RFC 8555 server on loopback HTTPS that does what cert-manager needs —
 * directory, nonces, accounts (ES256/ES384/ES512/RS256 JWS), orders, authorizations, HTTP-01
 * validated for real through a resolver (the ingress proxy), finalize and the PEM chain signed by
 * the model's lab intermediate. Errors are RFC 7807 problem documents.
 */
import 'reflect-metadata';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { SILENT_LOGGER, type AcmeLogger } from '../types.js';
import { labSigner, serverCertificate } from './certs.js';
import { resolverFetch, type Http01Fetch, type Http01Resolver } from './http01.js';
import { requestListener } from './router.js';
import { DAY_MS, url, type LabState } from './state.js';

export type { Http01Fetch, Http01Outcome, Http01Resolver, Http01Response, Http01Target } from './http01.js';
export type { AcmeErrorType, AcmeProblem } from './state.js';

/** Options of `startLabAcmeServer`. */
export interface LabAcmeServerOptions {
  /** Where HTTP-01 validation connects for a domain: the ingress proxy's HTTP listener. */
  readonly resolve?: Http01Resolver;
  /** How HTTP-01 validation fetches a challenge instead (the Linux plane's outside world). @default over `resolve` */
  readonly fetch?: Http01Fetch;
  /** Listen address. @default '127.0.0.1' */
  readonly host?: string;
  /** Listen port. @default 0 (a free port) */
  readonly port?: number;
  /** Lifetime of issued certificates unless the order asks for a shorter `notAfter`. @default 90 days */
  readonly certificateLifetimeMs?: number;
  /** How long one HTTP-01 fetch may take. @default 10000 */
  readonly validationTimeoutMs?: number;
  /** The clock. @default () => new Date() */
  readonly now?: () => Date;
  /** @default silent */
  readonly logger?: AcmeLogger;
}

/** A running lab ACME CA. */
export interface LabAcmeServer {
  /** `https://127.0.0.1:PORT/directory`. */
  readonly directoryUrl: string;
  /** The lab root (PEM) that clients trust for this server's TLS and for issued chains. */
  readonly rootPem: string;
  /** The lab intermediate (PEM) that signs issued leaves. */
  readonly intermediatePem: string;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/** Starts the lab ACME CA on loopback HTTPS; resolves once it listens. */
export async function startLabAcmeServer(options: LabAcmeServerOptions): Promise<LabAcmeServer> {
  const host = options.host ?? '127.0.0.1';
  const now = options.now ?? (() => new Date());
  const signer = await labSigner();
  const tls = await serverCertificate(host, now());
  const lab: LabState = {
    now,
    logger: options.logger ?? SILENT_LOGGER,
    fetch: options.fetch ?? resolverFetch(options.resolve ?? (() => ({ host: '127.0.0.1', port: 80 }))),
    lifetimeMs: options.certificateLifetimeMs ?? 90 * DAY_MS,
    validationTimeoutMs: options.validationTimeoutMs ?? 10_000,
    intermediatePem: signer.intermediatePem,
    origin: '',
    nonces: new Set(),
    accounts: new Map(),
    accountByThumbprint: new Map(),
    orders: new Map(),
    authzs: new Map(),
    challenges: new Map(),
    certificates: new Map(),
  };
  const server: Server = createServer(
    { cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' },
    requestListener(lab),
  );
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const address = server.address() as AddressInfo;
  lab.origin = `https://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  lab.logger.info(`lab ACME CA listening at ${url(lab, 'directory')}`);
  return {
    directoryUrl: url(lab, 'directory'),
    rootPem: signer.rootPem,
    intermediatePem: signer.intermediatePem,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => {
          done();
        });
        server.closeAllConnections();
      }),
  };
}
