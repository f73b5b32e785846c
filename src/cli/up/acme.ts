/**
 * ACME for `kwire up`: the lab ACME CA (or the Issuers' real directories with `--acme live`)
 * issues the Certificates of ACME Issuers for real; HTTP-01 challenges are answered by the
 * ingress proxy, and issued certificates are swapped into its SNI map as they arrive.
 */
import { createAcmeIssuer, createHttp01Responder, startLabAcmeServer, type AcmeIssuer, type Http01Fetch, type IssuedSecret, type LabAcmeServer } from '../../acme/index.js';
import type { CertManagerState } from '../../model/certmanager.js';
import type { NetworkState } from '../../model/types.js';
import type { Http01Responder, Logger, TlsSecret } from '../../proxy/index.js';

/** Where ACME plugs in: the proxies that answer challenges and serve issued certificates, and how the CA reaches them. */
export interface AcmeTarget {
  readonly target: {
    setCertificates(secrets: readonly TlsSecret[]): void;
    setHttp01Responder(responder: Http01Responder | undefined): void;
  };
  /** How the lab CA's HTTP-01 validation fetches a challenge: the plane's path from outside. */
  readonly fetch: Http01Fetch;
}

/** The ACME part of a running `up`. */
export interface AcmeRun {
  readonly sync: (cm: CertManagerState) => Promise<void>;
  readonly stop: () => Promise<void>;
}

/** Starts issuance; resolves once every ACME Certificate has been issued or has failed. */
export async function startAcme(state: NetworkState, where: AcmeTarget, mode: 'lab' | 'live', logger: Logger): Promise<AcmeRun> {
  const up = where.target;
  const responder = createHttp01Responder();
  up.setHttp01Responder(responder);
  let lab: LabAcmeServer | undefined;
  if (mode === 'lab') {
    lab = await startLabAcmeServer({ fetch: where.fetch, logger });
    logger.info(`lab ACME CA at ${lab.directoryUrl}: it stands in for the Issuers' ACME servers (use --acme live for the real ones)`);
  }
  const issued = new Map<string, IssuedSecret>();
  const issuer: AcmeIssuer = createAcmeIssuer({
    mode,
    ...(lab ? { lab: { directoryUrl: lab.directoryUrl, rootPem: lab.rootPem } } : {}),
    responder,
    logger,
    onIssued: (secret) => {
      issued.set(`${secret.namespace}/${secret.name}`, secret);
      up.setCertificates([...issued.values()]);
      logger.info(`certificate ${secret.namespace}/${secret.certificate} issued into Secret ${secret.name}, valid until ${secret.notAfter}, renewal at ${secret.renewalTime}`);
    },
    onFailed: (f) => {
      logger.warn(`certificate ${f.namespace}/${f.certificate} not issued: ${f.message}; retry at ${f.retryAt}`);
    },
  });
  const sync = async (cm: CertManagerState): Promise<void> => {
    const pending = cm.certificates.filter((c) => cm.issuers.some((i) => i.type === 'ACME' && i.name === c.issuerRef.name)).length;
    if (pending) logger.info(`issuing ${pending} ACME certificate(s) with HTTP-01 through the ingress proxy…`);
    await issuer.sync(cm);
  };
  if (state.certManager) await sync(state.certManager);
  return {
    sync,
    stop: async () => {
      issuer.stop();
      up.setHttp01Responder(undefined);
      await lab?.close();
    },
  };
}
