/**
 * cert-manager's ACME issuer, for real: for every Certificate of the model whose issuer is an ACME
 * Issuer or ClusterIssuer, obtain a certificate with acme-client (account per issuer, order, HTTP-01
 * presented through the shared responder the ingress proxy answers from, CSR from
 * `spec.privateKey`, finalize, chain download) and hand over the Secret; renew at `renewalTime`
 * with one timer per Certificate.
 *
 * Mode `lab` (default in `kwire up`) sends every ACME issuer to kwire's lab ACME CA; mode `live`
 * uses each issuer's own `spec.acme.server`.
 */
import { generateKeyPair, X509Certificate, type KeyObject } from 'node:crypto';
import acme from 'acme-client';
import {
  parseGoDuration,
  type CertManagerState,
  type CertificateState,
  type IssuerState,
} from '../../controllers/certmanager/index.js';
import { SILENT_LOGGER, type AcmeLogger, type Http01ResponderStore } from '../types.js';
import { createCsr, generatePrivateKey, privateKeyPem } from './keys.js';
import { trustForOrigin } from './trust.js';

/** Where ACME issuers get their certificates: kwire's lab CA, or each issuer's real directory. */
export type AcmeMode = 'lab' | 'live';

/** The running lab ACME CA as the issuer needs it. */
export interface LabDirectory {
  readonly directoryUrl: string;
  /** PEM root the lab server's TLS certificate chains to. */
  readonly rootPem: string;
}

/** Options of `createAcmeIssuer`. */
export interface AcmeIssuerOptions {
  /** @default 'lab' */
  readonly mode?: AcmeMode;
  /** Required in `lab` mode: the lab ACME CA to use. */
  readonly lab?: LabDirectory;
  /** The HTTP-01 tokens the ingress proxy answers from. */
  readonly responder: Http01ResponderStore;
  /** Called with each issued (or renewed) Secret. */
  readonly onIssued: (secret: IssuedSecret) => void;
  /** Called when an issuance fails; it is retried after `retryDelayMs`. @default log only */
  readonly onFailed?: (failure: IssueFailure) => void;
  /** @default silent */
  readonly logger?: AcmeLogger;
  /** Extra PEM roots trusted for ACME directories besides the system roots (and the lab root). @default none */
  readonly trustedCAs?: readonly string[];
  /** First poll delay while the server validates or issues (doubles up to 10 s). @default 1000 */
  readonly pollIntervalMs?: number;
  /** Delay before retrying a failed issuance (doubles per failure up to an hour). @default 60000 */
  readonly retryDelayMs?: number;
  /** The clock renewal times are compared with. @default () => new Date() */
  readonly now?: () => Date;
}

/** A `kubernetes.io/tls` Secret written for a Certificate, with what the Certificate status says. */
export interface IssuedSecret {
  readonly namespace: string;
  /** The Secret's name (`spec.secretName`). */
  readonly name: string;
  readonly type: 'kubernetes.io/tls';
  /** PEM: `tls.crt` is the leaf then the chain, without the root. */
  readonly data: { readonly 'tls.crt': string; readonly 'tls.key': string };
  /** The Certificate that asked for it. */
  readonly certificate: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly renewalTime: string;
  /** The ACME directory that signed it. */
  readonly directoryUrl: string;
  /** How many times it has been issued in this run (1 on first issuance). */
  readonly revision: number;
}

/** Why a Certificate could not be issued. */
export interface IssueFailure {
  readonly namespace: string;
  readonly certificate: string;
  readonly message: string;
  /** When it will be tried again, ISO. */
  readonly retryAt: string;
}

/** A Certificate the issuer looks after, and its next renewal. */
export interface ScheduledCertificate {
  readonly namespace: string;
  readonly certificate: string;
  readonly renewalTime?: string;
  readonly retryAt?: string;
}

/** kwire's ACME issuer. */
export interface AcmeIssuer {
  /**
   * Brings the issued set in line with the model: issues new or changed ACME Certificates, keeps
   * unchanged ones (and their timers), forgets removed ones. Resolves when this round is done.
   */
  sync(certManager: CertManagerState): Promise<readonly (IssuedSecret | IssueFailure)[]>;
  /** The directory an issuer is served by, for `get issuers`, `get certificates` and traces. */
  describe(issuer: IssuerState): string;
  /** The Certificates being looked after and their next timer. */
  scheduled(): readonly ScheduledCertificate[];
  /** Clears every timer; in-flight issuances finish but their results are dropped. */
  stop(): void;
}

/** The longest delay `setTimeout` takes (2^31−1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

interface Entry {
  readonly key: string;
  fingerprint: string;
  certificate: CertificateState;
  issuer: IssuerState;
  generation: number;
  revision: number;
  timer?: NodeJS.Timeout;
  renewalTime?: Date;
  retryAt?: Date;
  failures: number;
  privateKey?: KeyObject;
  /** Names the model's solvers answer with DNS-01, which this issuer does not present. */
  dns01Names: readonly string[];
}

/** Creates the ACME issuer; nothing happens until `sync` is called. */
export function createAcmeIssuer(options: AcmeIssuerOptions): AcmeIssuer {
  const mode = options.mode ?? 'lab';
  const logger = options.logger ?? SILENT_LOGGER;
  const now = options.now ?? (() => new Date());
  const pollMs = options.pollIntervalMs ?? 1000;
  const retryMs = options.retryDelayMs ?? 60_000;
  const entries = new Map<string, Entry>();
  const clients = new Map<string, Promise<acme.Client>>();
  let stopped = false;

  if (mode === 'lab' && !options.lab) {
    throw new Error('the ACME issuer in lab mode needs the lab ACME CA (options.lab)');
  }

  const directoryOf = (issuer: IssuerState): string => {
    if (mode === 'lab' && options.lab) return options.lab.directoryUrl;
    const server = issuer.acme?.server;
    if (server === undefined) throw new Error(`${issuerName(issuer)} has no spec.acme.server`);
    return server;
  };

  const clientFor = (issuer: IssuerState, directoryUrl: string): Promise<acme.Client> => {
    const id = `${issuerName(issuer)}|${directoryUrl}`;
    let client = clients.get(id);
    if (!client) {
      client = registerAccount(issuer, directoryUrl);
      clients.set(id, client);
      client.catch(() => clients.delete(id));
    }
    return client;
  };

  const registerAccount = async (
    issuer: IssuerState,
    directoryUrl: string,
  ): Promise<acme.Client> => {
    trustForOrigin(directoryUrl, [
      ...(mode === 'lab' && options.lab ? [options.lab.rootPem] : []),
      ...(options.trustedCAs ?? []),
    ]);
    const accountKey = await newAccountKey();
    const client = new acme.Client({
      directoryUrl,
      accountKey,
      backoffMin: pollMs,
      backoffMax: Math.max(pollMs, 10_000),
      backoffAttempts: 12,
    });
    const email = issuer.acme?.email;
    await client.createAccount({
      termsOfServiceAgreed: true,
      ...(email ? { contact: [`mailto:${email}`] } : {}),
    });
    logger.info(`ACME account for ${issuerName(issuer)} registered at ${directoryUrl}`);
    return client;
  };

  const obtain = async (entry: Entry): Promise<IssuedSecret> => {
    const { certificate: cert, issuer } = entry;
    const names = namesOf(cert);
    if (entry.dns01Names.length > 0) {
      throw new Error(
        `the solvers of ${issuerName(issuer)} pick DNS-01 for ${entry.dns01Names.join(', ')}; kwire's ACME issuer presents HTTP-01 only`,
      );
    }
    const directoryUrl = directoryOf(issuer);
    const client = await clientFor(issuer, directoryUrl);
    logger.info(
      `issuing ${cert.namespace}/${cert.name} (${names.join(', ')}) from ${directoryUrl}`,
    );
    const order = await client.createOrder({
      identifiers: names.map((value) => ({ type: 'dns', value })),
    });
    const authorizations = await client.getAuthorizations(order);
    const presented: string[] = [];
    try {
      await Promise.all(
        authorizations.map(async (authz) => {
          if (authz.status === 'valid') return;
          const challenge = authz.challenges.find((c) => c.type === 'http-01');
          if (!challenge) {
            throw new Error(
              `the ACME server offers no HTTP-01 challenge for ${authz.identifier.value}`,
            );
          }
          const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
          options.responder.set(challenge.token, keyAuthorization);
          presented.push(challenge.token);
          await client.completeChallenge(challenge);
          await client.waitForValidStatus(authz);
        }),
      );
    } finally {
      for (const token of presented) options.responder.delete(token);
    }
    const reuse = cert.privateKey.rotationPolicy === 'Never' ? entry.privateKey : undefined;
    const privateKey = reuse ?? (await generatePrivateKey(cert.privateKey));
    const csr = await createCsr(privateKey, names, cert.commonName);
    const finalized = await client.finalizeOrder(order, csr);
    const chain = await client.getCertificate(finalized);
    const leaf = new X509Certificate(chain);
    const notBefore = new Date(leaf.validFrom);
    const notAfter = new Date(leaf.validTo);
    entry.privateKey = privateKey;
    return {
      namespace: cert.namespace,
      name: cert.secretName,
      type: 'kubernetes.io/tls',
      data: {
        'tls.crt': chain.endsWith('\n') ? chain : `${chain}\n`,
        'tls.key': privateKeyPem(privateKey, cert.privateKey.encoding),
      },
      certificate: cert.name,
      notBefore: notBefore.toISOString(),
      notAfter: notAfter.toISOString(),
      renewalTime: renewalTimeOf(cert, notBefore, notAfter).toISOString(),
      directoryUrl,
      revision: entry.revision + 1,
    };
  };

  const arm = (entry: Entry, at: Date): void => {
    if (entry.timer) clearTimeout(entry.timer);
    const delay = Math.min(Math.max(at.getTime() - now().getTime(), 0), MAX_TIMER_MS);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (now() < at) arm(entry, at);
      else void run(entry);
    }, delay);
    entry.timer.unref();
  };

  const run = async (entry: Entry): Promise<IssuedSecret | IssueFailure> => {
    const generation = entry.generation;
    const current = (): boolean =>
      !stopped && entries.get(entry.key) === entry && entry.generation === generation;
    try {
      const secret = await obtain(entry);
      if (!current()) return secret;
      entry.revision = secret.revision;
      entry.failures = 0;
      entry.retryAt = undefined;
      entry.renewalTime = new Date(secret.renewalTime);
      arm(entry, entry.renewalTime);
      logger.info(
        `issued ${secret.namespace}/${secret.certificate} into Secret ${secret.name}, valid until ${secret.notAfter}, renewal at ${secret.renewalTime}`,
      );
      options.onIssued(secret);
      return secret;
    } catch (err) {
      const delay = Math.min(retryMs * 2 ** entry.failures, 3_600_000);
      const retryAt = new Date(now().getTime() + delay);
      const failure: IssueFailure = {
        namespace: entry.certificate.namespace,
        certificate: entry.certificate.name,
        message: err instanceof Error ? err.message : String(err),
        retryAt: retryAt.toISOString(),
      };
      if (!current()) return failure;
      entry.failures += 1;
      entry.retryAt = retryAt;
      arm(entry, retryAt);
      logger.warn(
        `issuing ${failure.namespace}/${failure.certificate} failed: ${failure.message}; retrying at ${failure.retryAt}`,
      );
      options.onFailed?.(failure);
      return failure;
    }
  };

  return {
    async sync(certManager) {
      const wanted = new Map<
        string,
        { certificate: CertificateState; issuer: IssuerState; dns01Names: string[] }
      >();
      for (const certificate of certManager.certificates) {
        const issuer = issuerOf(certManager, certificate);
        if (issuer?.type === 'ACME') {
          wanted.set(`${certificate.namespace}/${certificate.name}`, {
            certificate,
            issuer,
            dns01Names: dns01NamesOf(certManager, certificate),
          });
        }
      }
      for (const [key, entry] of entries) {
        if (wanted.has(key)) continue;
        if (entry.timer) clearTimeout(entry.timer);
        entries.delete(key);
      }
      const runs: Promise<IssuedSecret | IssueFailure>[] = [];
      for (const [key, { certificate, issuer, dns01Names }] of wanted) {
        const fingerprint =
          fingerprintOf(certificate, issuer, directoryOf(issuer)) + dns01Names.join();
        const existing = entries.get(key);
        if (existing?.fingerprint === fingerprint) {
          existing.certificate = certificate;
          existing.issuer = issuer;
          continue;
        }
        if (existing?.timer) clearTimeout(existing.timer);
        const entry: Entry = existing ?? {
          key,
          fingerprint,
          certificate,
          issuer,
          generation: 0,
          revision: 0,
          failures: 0,
          dns01Names,
        };
        entry.dns01Names = dns01Names;
        entry.fingerprint = fingerprint;
        entry.certificate = certificate;
        entry.issuer = issuer;
        entry.generation += 1;
        entry.failures = 0;
        entries.set(key, entry);
        runs.push(run(entry));
      }
      return Promise.all(runs);
    },

    describe(issuer) {
      const configured = issuer.acme?.server ?? '(no server)';
      if (mode === 'lab' && options.lab) {
        return `served by kwire lab ACME CA at ${options.lab.directoryUrl} instead of ${configured}`;
      }
      return `served by ${configured}`;
    },

    scheduled() {
      return [...entries.values()].map((e) => ({
        namespace: e.certificate.namespace,
        certificate: e.certificate.name,
        ...(e.renewalTime ? { renewalTime: e.renewalTime.toISOString() } : {}),
        ...(e.retryAt ? { retryAt: e.retryAt.toISOString() } : {}),
      }));
    },

    stop() {
      stopped = true;
      for (const entry of entries.values()) {
        if (entry.timer) clearTimeout(entry.timer);
        entry.timer = undefined;
      }
    },
  };
}

/**
 * When cert-manager renews: `renewBefore` before expiry when shorter than the lifetime, else
 * `renewBeforePercentage` of the lifetime, else a third of it; truncated to the second.
 */
export function renewalTimeOf(cert: CertificateState, notBefore: Date, notAfter: Date): Date {
  const lifetime = notAfter.getTime() - notBefore.getTime();
  let renewBeforeMs = Math.floor(lifetime / 3);
  const renewBefore =
    cert.renewBefore === undefined ? undefined : parseGoDuration(cert.renewBefore);
  if (renewBefore !== undefined && renewBefore < lifetime) renewBeforeMs = renewBefore;
  else if (cert.renewBeforePercentage !== undefined) {
    renewBeforeMs = Math.floor((lifetime * cert.renewBeforePercentage) / 100);
  }
  return new Date(Math.floor((notAfter.getTime() - renewBeforeMs) / 1000) * 1000);
}

/** The DNS names an order asks for: the common name (when not among them), then `dnsNames`. */
export function namesOf(cert: CertificateState): string[] {
  const extra =
    cert.commonName !== undefined && !cert.dnsNames.includes(cert.commonName)
      ? [cert.commonName]
      : [];
  const names = [...new Set([...extra, ...cert.dnsNames])];
  if (names.length === 0) {
    throw new Error(`Certificate ${cert.namespace}/${cert.name} has no dnsNames or commonName`);
  }
  if (cert.ipAddresses.length + cert.uris.length + cert.emailAddresses.length > 0) {
    throw new Error(
      `Certificate ${cert.namespace}/${cert.name} asks for IP, URI or email SANs; kwire's ACME issuer orders DNS names only`,
    );
  }
  return names;
}

function issuerOf(state: CertManagerState, cert: CertificateState): IssuerState | undefined {
  const ref = cert.issuerRef;
  if (ref.group !== 'cert-manager.io') return undefined;
  return state.issuers.find((i) =>
    ref.kind === 'ClusterIssuer'
      ? i.kind === 'ClusterIssuer' && i.name === ref.name
      : i.kind === 'Issuer' && i.namespace === cert.namespace && i.name === ref.name,
  );
}

function dns01NamesOf(state: CertManagerState, cert: CertificateState): string[] {
  const orders = new Set(
    state.orders
      .filter((o) => o.namespace === cert.namespace && o.certificate === cert.name)
      .map((o) => o.name),
  );
  return state.challenges
    .filter((c) => c.namespace === cert.namespace && orders.has(c.order) && c.type === 'DNS-01')
    .map((c) => c.dnsName);
}

function issuerName(issuer: IssuerState): string {
  return issuer.kind === 'ClusterIssuer'
    ? `ClusterIssuer ${issuer.name}`
    : `Issuer ${issuer.namespace}/${issuer.name}`;
}

function fingerprintOf(cert: CertificateState, issuer: IssuerState, directoryUrl: string): string {
  return JSON.stringify([
    cert.secretName,
    cert.commonName ?? null,
    cert.dnsNames,
    cert.ipAddresses,
    cert.privateKey,
    cert.renewBefore ?? null,
    cert.renewBeforePercentage ?? null,
    issuerName(issuer),
    issuer.acme?.email ?? null,
    directoryUrl,
  ]);
}

function newAccountKey(): Promise<string> {
  return new Promise((resolve, reject) => {
    generateKeyPair('ec', { namedCurve: 'prime256v1' }, (err, _publicKey, privateKey) => {
      if (err) reject(err);
      else resolve(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    });
  });
}
