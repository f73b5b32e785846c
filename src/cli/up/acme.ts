/**
 * ACME for `kwire up`: the lab ACME CA (or the Issuers' real directories with `--acme live`)
 * issues the Certificates of ACME Issuers for real; HTTP-01 challenges are answered by the
 * ingress proxy, and issued certificates are swapped into its SNI map as they arrive.
 */
import { createAcmeIssuer, createHttp01Responder, startLabAcmeServer, type AcmeIssuer, type IssuedSecret, type LabAcmeServer } from '../../acme/index.js';
import type { CertManagerState } from '../../model/certmanager.js';
import type { NetworkState } from '../../model/types.js';
import type { L7Plane, Logger } from '../../proxy/index.js';

/** The ACME part of a running `up`. */
export interface AcmeRun {
  readonly sync: (cm: CertManagerState) => Promise<void>;
  readonly stop: () => Promise<void>;
}

/** Starts issuance; resolves once every ACME Certificate has been issued or has failed. */
export async function startAcme(state: NetworkState, up: L7Plane, mode: 'lab' | 'live', logger: Logger): Promise<AcmeRun> {
  const responder = createHttp01Responder();
  up.setHttp01Responder(responder);
  const first = up.addresses[0];
  const httpPort = first ? Number(new URL(first.http).port) : 80;
  let lab: LabAcmeServer | undefined;
  if (mode === 'lab') {
    lab = await startLabAcmeServer({ resolve: () => ({ host: '127.0.0.1', port: httpPort }), logger });
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
