/**
 * The cert-manager controller in one pure step: Issuers, ClusterIssuers, Certificates (written or
 * made by ingress-shim) and Secrets in; issuer readiness, issued certificates, their Secrets and
 * ACME Orders/Challenges out. Issuers backed by a Secret another Certificate writes are resolved in
 * dependency order (a SelfSigned `isCA` Certificate can back a CA issuer in the same inputs).
 */
import { createHash, createPrivateKey, X509Certificate as NodeX509 } from 'node:crypto';
import type { Problem } from '../../api/problems.js';
import { quote } from '../../api/problems.js';
import type { KubeObject, SourcePos } from '../../api/types.js';
import { acmeOrder, LAB_ACME, labCA } from './acme.js';
import { formatGoDuration } from './duration.js';
import { keyFor, keyPairOf, privateKeyPem, specOfKey, type KeyPair } from './keys.js';
import { stringMap, text } from './read.js';
import { SHIM_FIELD_PATHS, shimCertificates } from './shim.js';
import {
  GROUP,
  parseCertificate,
  parseIssuer,
  specProblem,
  type CertificateSpec,
  type IssuerSpec,
  type SpecError,
} from './spec.js';
import type {
  CertManagerInput,
  CertManagerState,
  CertificateState,
  ChallengeState,
  Condition,
  IssuerState,
  LeafSummary,
  OrderState,
  SecretState,
} from './types.js';
import {
  certificatesOfPem,
  isCACertificate,
  isSelfSigned,
  issuingCert,
  makeCertificate,
  summarizeLeaf,
  toPem,
  type IssuingCert,
} from './x509.js';

/** Where ClusterIssuers read Secrets unless told otherwise. */
export const DEFAULT_CLUSTER_RESOURCE_NAMESPACE = 'cert-manager';

interface InputSecret {
  readonly object: KubeObject;
  readonly type: string;
  readonly data: Readonly<Record<string, string>>;
}

/** A signing key pair and what goes around the leaf it signs. */
interface Signer {
  readonly issuer?: IssuingCert;
  /** Certificates after the leaf in `tls.crt` (never the root). */
  readonly chainTail: readonly Buffer[];
  readonly caCrt?: Buffer;
  /** The leaf may not outlive its issuer. */
  readonly notAfterCap?: Date;
}

type SignerResult =
  | { readonly state: 'ready'; readonly signer: Signer }
  | { readonly state: 'waiting'; readonly on: Entry }
  | {
      readonly state: 'failed';
      readonly reason: string;
      readonly message: string;
      readonly hint?: string;
    };

interface Issued {
  readonly leaf: Buffer;
  readonly summary: LeafSummary;
  readonly chain: readonly Buffer[];
  readonly caCrt?: Buffer;
  readonly key: KeyPair;
}

interface Entry {
  readonly object: KubeObject;
  readonly spec: CertificateSpec;
  readonly errors: readonly SpecError[];
  readonly source?: SourcePos;
  readonly createdBy?: {
    readonly kind: 'Ingress';
    readonly namespace: string;
    readonly name: string;
    readonly tlsIndex: number;
  };
  status: 'pending' | 'issued' | 'failed';
  conditions: Condition[];
  issued?: Issued;
  certStatus?: CertificateState['status'];
}

const key = (namespace: string, name: string): string => `${namespace}/${name}`;

/** Runs cert-manager over the inputs once. */
export function reconcileCertificates(input: CertManagerInput): CertManagerState {
  const crn = input.clusterResourceNamespace ?? DEFAULT_CLUSTER_RESOURCE_NAMESPACE;
  const now = new Date(Math.floor(input.now.getTime() / 1000) * 1000);
  const sourceOf = input.sourceOf ?? (() => undefined);
  const problems: Problem[] = [];
  const at = (p: Omit<Problem, 'source'>, source: SourcePos | undefined): void => {
    problems.push(source ? { ...p, source } : p);
  };

  const inputSecrets = new Map<string, InputSecret>();
  const issuerSpecs: IssuerSpec[] = [];
  const userCertificates: KubeObject[] = [];
  for (const obj of input.objects) {
    const group = obj.apiVersion.split('/')[0];
    if (obj.kind === 'Secret' && obj.apiVersion === 'v1')
      inputSecrets.set(key(obj.metadata.namespace, obj.metadata.name), secretOf(obj));
    else if (group !== GROUP) continue;
    else if (obj.kind === 'Issuer' || obj.kind === 'ClusterIssuer')
      issuerSpecs.push(parseIssuer(obj));
    else if (obj.kind === 'Certificate') userCertificates.push(obj);
  }
  issuerSpecs.sort((a, b) =>
    `${a.kind}/${a.namespace}/${a.name}`.localeCompare(`${b.kind}/${b.namespace}/${b.name}`),
  );
  const issuerIndex = new Map(issuerSpecs.map((i) => [`${i.kind}/${i.namespace}/${i.name}`, i]));

  const shim = shimCertificates(
    input.ingresses,
    new Set(userCertificates.map((c) => key(c.metadata.namespace, c.metadata.name))),
    input.defaultIssuer,
  );
  problems.push(...shim.problems);
  const entries: Entry[] = [];
  for (const obj of userCertificates) {
    const { spec, errors } = parseCertificate(obj);
    const source = sourceOf(obj);
    entries.push({
      object: obj,
      spec,
      errors,
      ...(source ? { source } : {}),
      status: 'pending',
      conditions: [],
    });
  }
  for (const made of shim.certificates) {
    const { spec, errors } = parseCertificate(made.object);
    entries.push({
      object: made.object,
      spec,
      errors,
      ...(made.ingress.source ? { source: made.ingress.source } : {}),
      createdBy: {
        kind: 'Ingress',
        namespace: made.ingress.namespace,
        name: made.ingress.name,
        tlsIndex: made.tlsIndex,
      },
      status: 'pending',
      conditions: [],
    });
  }
  entries.sort((a, b) =>
    key(a.spec.namespace, a.spec.name).localeCompare(key(b.spec.namespace, b.spec.name)),
  );

  const fail = (
    entry: Entry,
    reason: string,
    message: string,
    issuing: 'pending' | 'failed' | 'none',
  ): void => {
    entry.status = 'failed';
    entry.conditions = [{ type: 'Ready', status: 'False', reason, message }];
    if (issuing === 'pending') {
      entry.conditions.push({
        type: 'Issuing',
        status: 'True',
        reason: 'Issuing',
        message: `Waiting on CertificateRequest "${entry.spec.name}-1": ${message}`,
      });
    } else if (issuing === 'failed') {
      entry.conditions.push({
        type: 'Issuing',
        status: 'False',
        reason: 'Failed',
        message: `The certificate request has failed to complete and will be retried: ${message}`,
      });
    }
  };
  const entryProblem = (entry: Entry, p: Omit<Problem, 'source' | 'object'>): void => {
    const certPath = p.path ?? 'spec';
    if (entry.createdBy) {
      const { namespace, name, tlsIndex } = entry.createdBy;
      at(
        {
          ...p,
          object: { kind: 'Ingress', namespace, name },
          path: SHIM_FIELD_PATHS[certPath] ?? `spec.tls[${tlsIndex}]`,
        },
        entry.source,
      );
    } else {
      at(
        {
          ...p,
          object: { kind: 'Certificate', namespace: entry.spec.namespace, name: entry.spec.name },
          path: certPath,
        },
        entry.source,
      );
    }
  };

  for (const entry of entries) {
    if (entry.errors.length === 0) continue;
    for (const error of entry.errors) {
      entryProblem(entry, specProblem('KW-CM010', error));
    }
    fail(
      entry,
      'InvalidSpec',
      entry.errors.map((e) => `${e.path}: ${e.message}`).join('; '),
      'none',
    );
  }

  const producers = new Map<string, Entry[]>();
  for (const entry of entries) {
    if (entry.status !== 'pending') continue;
    const k = key(entry.spec.namespace, entry.spec.secretName);
    producers.set(k, [...(producers.get(k) ?? []), entry]);
  }
  for (const [k, group] of producers) {
    if (group.length < 2) continue;
    for (const entry of group) {
      const others = group.filter((e) => e !== entry).map((e) => e.spec.name);
      fail(
        entry,
        'DuplicateSecretName',
        `Secret ${quote(entry.spec.secretName)} is also the target of Certificate ${others.map((o) => quote(o)).join(', ')}`,
        'pending',
      );
      entryProblem(entry, {
        code: 'KW-CM014',
        severity: 'error',
        path: 'spec.secretName',
        message: `Certificates ${group.map((e) => quote(e.spec.name)).join(' and ')} all write Secret ${quote(entry.spec.secretName)}`,
        hint: 'give each Certificate its own secretName',
      });
    }
    producers.delete(k);
  }

  const orders: OrderState[] = [];
  const challenges: ChallengeState[] = [];
  const signers = new Map<string, SignerResult>();

  const resolveIssuer = (entry: Entry): IssuerSpec | undefined => {
    const ref = entry.spec.issuerRef;
    if (ref.kind === 'ClusterIssuer') return issuerIndex.get(`ClusterIssuer//${ref.name}`);
    if (ref.kind === 'Issuer') return issuerIndex.get(`Issuer/${entry.spec.namespace}/${ref.name}`);
    return undefined;
  };

  const caSigner = (issuer: IssuerSpec): SignerResult => {
    const id = `${issuer.kind}/${issuer.namespace}/${issuer.name}`;
    const cached = signers.get(id);
    if (cached && cached.state !== 'waiting') return cached;
    const secretNamespace = issuer.kind === 'ClusterIssuer' ? crn : issuer.namespace;
    const secretName = issuer.caSecretName ?? '';
    const producer = producers.get(key(secretNamespace, secretName))?.[0];
    let result: SignerResult;
    if (producer) {
      if (producer.status === 'pending') return { state: 'waiting', on: producer };
      if (producer.status === 'failed' || !producer.issued) {
        result = {
          state: 'failed',
          reason: 'ErrGetKeyPair',
          message: `Error getting keypair for CA issuer: Secret ${quote(secretName)} is written by Certificate ${quote(producer.spec.name)}, which is not Ready`,
        };
      } else {
        const { leaf, chain, caCrt, key: pair } = producer.issued;
        result = caSignerFrom([...chain], pair, caCrt ?? leaf);
      }
    } else {
      const secret = inputSecrets.get(key(secretNamespace, secretName));
      if (!secret) {
        const elsewhere = [...inputSecrets.values()].find(
          (s) => s.object.metadata.name === secretName,
        );
        result = {
          state: 'failed',
          reason: 'ErrGetKeyPair',
          message: `Error getting keypair for CA issuer: secrets ${quote(secretName)} not found in namespace ${quote(secretNamespace)}`,
          ...(issuer.kind === 'ClusterIssuer' && elsewhere
            ? {
                hint: `a Secret ${quote(secretName)} exists in namespace ${quote(elsewhere.object.metadata.namespace)}, but a ClusterIssuer reads Secrets from the cluster resource namespace ${quote(crn)}`,
              }
            : {
                hint: `create the kubernetes.io/tls Secret ${quote(secretName)} in namespace ${quote(secretNamespace)}`,
              }),
        };
      } else {
        result = caSignerFromSecret(secret);
      }
    }
    signers.set(id, result);
    return result;
  };

  const issue = (entry: Entry, signer: Signer, issuerLabel: string): void => {
    const spec = entry.spec;
    const keyPair = keyOf(spec, inputSecrets.get(key(spec.namespace, spec.secretName)), input.seed);
    let notAfter = new Date(now.getTime() + spec.durationMs);
    if (signer.notAfterCap && notAfter > signer.notAfterCap) notAfter = signer.notAfterCap;
    const serialHash = createHash('sha256')
      .update(
        `${input.seed ?? ''}\u0000serial\u0000${spec.namespace}/${spec.name}\u0000${issuerLabel}\u0000${now.toISOString()}`,
      )
      .digest();
    const serial = (BigInt(`0x${serialHash.subarray(0, 16).toString('hex')}`) >> 1n) | 1n;
    const made = makeCertificate({
      subjectKey: keyPair,
      subject: spec.commonName ? [{ CN: spec.commonName }] : [],
      dnsNames: spec.dnsNames,
      ipAddresses: spec.ipAddresses,
      uris: spec.uris,
      emailAddresses: spec.emailAddresses,
      isCA: spec.isCA,
      usages: spec.usages,
      notBefore: now,
      notAfter,
      serial,
      ...(signer.issuer ? { issuer: signer.issuer } : {}),
    });
    const lifetime = notAfter.getTime() - now.getTime();
    let renewBeforeMs = Math.floor(lifetime / 3);
    if (spec.renewBeforeMs !== undefined && spec.renewBeforeMs < lifetime)
      renewBeforeMs = spec.renewBeforeMs;
    else if (spec.renewBeforePercentage !== undefined)
      renewBeforeMs = Math.floor((lifetime * spec.renewBeforePercentage) / 100);
    const renewalTime = new Date(Math.floor((notAfter.getTime() - renewBeforeMs) / 1000) * 1000);
    entry.status = 'issued';
    entry.issued = {
      leaf: made.der,
      summary: made.summary,
      chain: [made.der, ...signer.chainTail],
      key: keyPair,
      ...(signer.caCrt ? { caCrt: signer.caCrt } : {}),
    };
    entry.certStatus = {
      notBefore: now.toISOString(),
      notAfter: notAfter.toISOString(),
      renewalTime: renewalTime.toISOString(),
      revision: 1,
      serialNumber: made.serialNumber,
    };
    entry.conditions = [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Ready',
        message: 'Certificate is up to date and has not expired',
      },
    ];
  };

  const tryIssue = (entry: Entry): 'waiting' | 'done' => {
    const ref = entry.spec.issuerRef;
    if (ref.group !== GROUP) {
      fail(
        entry,
        'IssuerNotModelled',
        `external issuer ${ref.kind}.${ref.group} ${quote(ref.name)} is not modelled by kwire`,
        'pending',
      );
      entryProblem(entry, {
        code: 'KW-CM017',
        severity: 'info',
        path: 'spec.issuerRef',
        message: `external issuer ${ref.kind}.${ref.group} ${quote(ref.name)} is not modelled; the Certificate stays pending`,
      });
      return 'done';
    }
    const issuer = resolveIssuer(entry);
    if (!issuer) {
      const where = ref.kind === 'Issuer' ? ` in namespace ${quote(entry.spec.namespace)}` : '';
      fail(
        entry,
        'IssuerNotFound',
        `Referenced ${ref.kind} ${quote(ref.name)} not found${where}`,
        'pending',
      );
      return 'done';
    }
    const notReady = (message: string): 'done' => {
      fail(
        entry,
        'IssuerNotReady',
        `${issuer.kind} ${quote(issuer.name)} is not ready: ${message}`,
        'pending',
      );
      return 'done';
    };
    if (issuer.invalid) return notReady(issuer.invalid.message);
    switch (issuer.type) {
      case 'SelfSigned':
        issue(entry, { chainTail: [] }, `${issuer.kind}/${issuer.namespace}/${issuer.name}`);
        if (entry.issued) entry.issued = { ...entry.issued, caCrt: entry.issued.leaf };
        return 'done';
      case 'CA': {
        const result = caSigner(issuer);
        if (result.state === 'waiting') return 'waiting';
        if (result.state === 'failed') return notReady(result.message);
        issue(entry, result.signer, `${issuer.kind}/${issuer.namespace}/${issuer.name}`);
        return 'done';
      }
      case 'ACME': {
        const outcome = acmeOrder(entry.spec, issuer, input.seed);
        orders.push(outcome.order);
        challenges.push(...outcome.challenges);
        if (outcome.order.state !== 'valid') {
          const reason = outcome.order.reason ?? 'order failed';
          fail(
            entry,
            'Failed',
            `Order ${quote(outcome.order.name)} is invalid: ${reason}`,
            'failed',
          );
          entryProblem(entry, {
            code: 'KW-CM015',
            severity: 'error',
            path: 'spec.dnsNames',
            message: `ACME Order ${quote(outcome.order.name)} cannot complete: ${reason}`,
            hint: 'add a solver that covers every name (wildcards need dns01)',
          });
          return 'done';
        }
        const ca = labCA();
        issue(
          entry,
          {
            issuer: ca.intermediate,
            chainTail: [ca.intermediate.der],
            notAfterCap: ca.intermediateNotAfter,
          },
          LAB_ACME,
        );
        return 'done';
      }
      case 'Unsupported':
        return notReady('issuer type not supported');
    }
  };

  for (let progress = true; progress;) {
    progress = false;
    for (const entry of entries) {
      if (entry.status === 'pending' && tryIssue(entry) === 'done') progress = true;
    }
  }
  for (const entry of entries) {
    if (entry.status !== 'pending') continue;
    fail(
      entry,
      'IssuerNotReady',
      `the issuer's CA Secret is written by a Certificate that itself waits on ${quote(entry.spec.issuerRef.name)}: a cycle`,
      'pending',
    );
    entryProblem(entry, {
      code: 'KW-CM016',
      severity: 'error',
      path: 'spec.issuerRef',
      message: `issuer ${quote(entry.spec.issuerRef.name)} depends on its own output (its CA Secret is issued through it)`,
      hint: 'back the CA issuer with a Certificate issued by a SelfSigned issuer',
    });
  }

  const issuers = issuerSpecs.map((spec) =>
    issuerState(spec, spec.type === 'CA' ? caSigner(spec) : undefined, crn, sourceOf(spec.object)),
  );
  for (const [i, state] of issuers.entries()) {
    const spec = issuerSpecs[i];
    if (!spec || state.ready) continue;
    const signer =
      spec.type === 'CA' ? signers.get(`${spec.kind}/${spec.namespace}/${spec.name}`) : undefined;
    at(
      {
        code: spec.type === 'CA' ? 'KW-CM012' : 'KW-CM011',
        severity: 'error',
        object: {
          kind: spec.kind,
          ...(spec.namespace ? { namespace: spec.namespace } : {}),
          name: spec.name,
        },
        path: spec.invalid?.path ?? 'spec.ca.secretName',
        message: state.message,
        ...(signer?.state === 'failed' && signer.hint ? { hint: signer.hint } : {}),
      },
      state.source,
    );
  }
  for (const [id, result] of signers) {
    if (
      result.state !== 'ready' ||
      !result.signer.issuer ||
      isCACertificate(result.signer.issuer.der)
    )
      continue;
    const spec = issuerIndex.get(id);
    if (!spec) continue;
    at(
      {
        code: 'KW-CM013',
        severity: 'warning',
        object: {
          kind: spec.kind,
          ...(spec.namespace ? { namespace: spec.namespace } : {}),
          name: spec.name,
        },
        path: 'spec.ca.secretName',
        message: `the certificate in Secret ${quote(spec.caSecretName)} is not a CA (basicConstraints CA:FALSE); clients will reject what it signs`,
        hint: 'issue the CA certificate with isCA: true',
      },
      sourceOf(spec.object),
    );
  }

  const certificates: CertificateState[] = entries.map((entry) => certificateState(entry));
  const secrets: SecretState[] = [];
  const written = new Set<string>();
  for (const entry of entries) {
    if (!entry.issued) continue;
    written.add(key(entry.spec.namespace, entry.spec.secretName));
    secrets.push(issuedSecret(entry, entry.issued));
  }
  for (const [k, secret] of inputSecrets) {
    if (written.has(k) || !isTlsSecret(secret)) continue;
    const state = inputSecretState(secret, sourceOf(secret.object));
    if (!state.leaf && state.data['tls.crt'] !== '') {
      at(
        {
          code: 'KW-CM030',
          severity: 'warning',
          object: {
            kind: 'Secret',
            namespace: secret.object.metadata.namespace,
            name: secret.object.metadata.name,
          },
          path: 'data["tls.crt"]',
          message: 'tls.crt does not hold a parsable PEM certificate',
          hint: 'put the PEM certificate chain, base64-encoded, in data.tls.crt',
        },
        state.source,
      );
    }
    secrets.push(state);
  }
  secrets.sort((a, b) => key(a.namespace, a.name).localeCompare(key(b.namespace, b.name)));

  return {
    issuers,
    certificates,
    secrets,
    orders,
    challenges,
    problems,
    now: now.toISOString(),
    clusterResourceNamespace: crn,
  };
}

function secretOf(obj: KubeObject): InputSecret {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(stringMap(obj['data'])))
    data[k] = Buffer.from(v, 'base64').toString('utf8');
  Object.assign(data, stringMap(obj['stringData']));
  return { object: obj, type: text(obj['type']) ?? 'Opaque', data };
}

function isTlsSecret(secret: InputSecret): boolean {
  return secret.type === 'kubernetes.io/tls' || secret.data['tls.crt'] !== undefined;
}

function caSignerFromSecret(secret: InputSecret): SignerResult {
  const name = quote(secret.object.metadata.name);
  const chain = certificatesOfPem(secret.data['tls.crt'] ?? '');
  const keyPem = secret.data['tls.key'];
  if (chain.length === 0 || !keyPem) {
    return {
      state: 'failed',
      reason: 'ErrInvalidKeyPair',
      message: `Error getting keypair for CA issuer: Secret ${name} has no tls.crt certificate or no tls.key`,
    };
  }
  let pair: KeyPair;
  try {
    const privateKey = createPrivateKey(keyPem);
    const spec = specOfKey(privateKey);
    if (!spec) throw new Error(`unsupported key type ${privateKey.asymmetricKeyType ?? 'unknown'}`);
    pair = keyPairOf(spec, privateKey);
  } catch (cause) {
    return {
      state: 'failed',
      reason: 'ErrInvalidKeyPair',
      message: `Error getting keypair for CA issuer: tls.key of Secret ${name} does not parse (${String(cause)})`,
    };
  }
  return caSignerFrom(chain, pair, undefined);
}

function caSignerFrom(chain: Buffer[], pair: KeyPair, knownCa: Buffer | undefined): SignerResult {
  const [first] = chain;
  if (!first)
    return {
      state: 'failed',
      reason: 'ErrInvalidKeyPair',
      message: 'Error getting keypair for CA issuer: no certificate',
    };
  let certSpki: Buffer;
  try {
    certSpki = new NodeX509(first).publicKey.export({ type: 'spki', format: 'der' });
  } catch (cause) {
    return {
      state: 'failed',
      reason: 'ErrInvalidKeyPair',
      message: `Error getting keypair for CA issuer: tls.crt does not parse (${String(cause)})`,
    };
  }
  if (!certSpki.equals(pair.spki)) {
    return {
      state: 'failed',
      reason: 'ErrInvalidKeyPair',
      message:
        'Error getting keypair for CA issuer: tls.key does not match the certificate in tls.crt',
    };
  }
  const last = chain[chain.length - 1] ?? first;
  const rootAtEnd = isSelfSigned(last);
  const chainTail = rootAtEnd ? chain.slice(0, -1) : chain;
  const notAfter = summarizeLeaf(first).notAfter;
  return {
    state: 'ready',
    signer: {
      issuer: issuingCert(first, pair),
      chainTail,
      caCrt: rootAtEnd ? last : (knownCa ?? last),
      notAfterCap: new Date(notAfter),
    },
  };
}

function keyOf(
  spec: CertificateSpec,
  existing: InputSecret | undefined,
  seed: string | undefined,
): KeyPair {
  const wanted = {
    algorithm: spec.privateKey.algorithm,
    size: spec.privateKey.algorithm === 'Ed25519' ? 0 : spec.privateKey.size,
  };
  const existingKey = existing?.data['tls.key'];
  if (spec.privateKey.rotationPolicy === 'Never' && existingKey) {
    try {
      const privateKey = createPrivateKey(existingKey);
      const found = specOfKey(privateKey);
      if (found && found.algorithm === wanted.algorithm && found.size === wanted.size)
        return keyPairOf(found, privateKey);
    } catch {
      // an unreadable key is replaced, as cert-manager does
    }
  }
  return keyFor(wanted, `certificate/${spec.namespace}/${spec.name}`, seed);
}

function issuerState(
  spec: IssuerSpec,
  signer: SignerResult | undefined,
  crn: string,
  source: SourcePos | undefined,
): IssuerState {
  let ready = false;
  let reason: string;
  let message: string;
  if (spec.invalid) {
    reason = spec.type === 'Unsupported' ? 'Unsupported' : 'InvalidConfig';
    message = spec.invalid.message;
  } else {
    switch (spec.type) {
      case 'SelfSigned':
        ready = true;
        reason = 'IsReady';
        message = 'Self-signed issuer is ready';
        break;
      case 'CA':
        if (signer?.state === 'ready') {
          ready = true;
          reason = 'KeyPairVerified';
          message = 'Signing CA verified';
        } else if (signer?.state === 'failed') {
          reason = signer.reason;
          message = signer.message;
        } else {
          reason = 'ErrGetKeyPair';
          message =
            'Error getting keypair for CA issuer: its Secret is issued through this issuer (a cycle)';
        }
        break;
      case 'ACME':
        ready = true;
        reason = 'ACMEAccountRegistered';
        message = `kwire's lab ACME CA stands in for ${spec.acme?.server ?? 'the ACME server'}; the directory URL is not contacted`;
        break;
      case 'Unsupported':
        reason = 'Unsupported';
        message = 'issuer type not supported';
        break;
    }
  }
  const caCert = signer?.state === 'ready' ? signer.signer.issuer : undefined;
  const ca =
    spec.type === 'CA' && spec.caSecretName
      ? {
          ca: {
            secretNamespace: spec.kind === 'ClusterIssuer' ? crn : spec.namespace,
            secretName: spec.caSecretName,
            ...(caCert
              ? {
                  subject: summarizeLeaf(caCert.der).subject,
                  notAfter: summarizeLeaf(caCert.der).notAfter,
                }
              : {}),
          },
        }
      : {};
  const acme = spec.acme ? { acme: { ...spec.acme, issuedBy: LAB_ACME } as const } : {};
  return {
    kind: spec.kind,
    namespace: spec.namespace,
    name: spec.name,
    type: spec.type,
    ready,
    reason,
    message,
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason, message }],
    ...ca,
    ...acme,
    ...(source ? { source } : {}),
  };
}

function certificateState(entry: Entry): CertificateState {
  const s = entry.spec;
  return {
    namespace: s.namespace,
    name: s.name,
    secretName: s.secretName,
    ...(s.commonName === undefined ? {} : { commonName: s.commonName }),
    dnsNames: s.dnsNames,
    ipAddresses: s.ipAddresses,
    uris: s.uris,
    emailAddresses: s.emailAddresses,
    isCA: s.isCA,
    usages: s.usages,
    duration: formatGoDuration(s.durationMs),
    durationMs: s.durationMs,
    ...(s.renewBefore === undefined ? {} : { renewBefore: s.renewBefore }),
    ...(s.renewBeforePercentage === undefined
      ? {}
      : { renewBeforePercentage: s.renewBeforePercentage }),
    privateKey: s.privateKey,
    issuerRef: s.issuerRef,
    ...(s.secretTemplate ? { secretTemplate: s.secretTemplate } : {}),
    labels: s.labels,
    ...(entry.createdBy ? { createdBy: entry.createdBy } : {}),
    ...(entry.object.metadata.creationTimestamp
      ? { creationTimestamp: entry.object.metadata.creationTimestamp }
      : {}),
    ready: entry.status === 'issued',
    conditions: entry.conditions,
    status: entry.certStatus ?? {},
    ...(entry.source ? { source: entry.source } : {}),
  };
}

function issuedSecret(entry: Entry, issued: Issued): SecretState {
  const s = entry.spec;
  const annotations: Record<string, string> = {
    ...(s.secretTemplate?.annotations ?? {}),
    'cert-manager.io/alt-names': s.dnsNames.join(','),
    'cert-manager.io/certificate-name': s.name,
    'cert-manager.io/common-name': s.commonName ?? '',
    'cert-manager.io/ip-sans': s.ipAddresses.join(','),
    'cert-manager.io/issuer-group': s.issuerRef.group,
    'cert-manager.io/issuer-kind': s.issuerRef.kind,
    'cert-manager.io/issuer-name': s.issuerRef.name,
    'cert-manager.io/uri-sans': s.uris.join(','),
  };
  const labels: Record<string, string> = {
    ...(s.secretTemplate?.labels ?? {}),
    'controller.cert-manager.io/fao': 'true',
  };
  return {
    namespace: s.namespace,
    name: s.secretName,
    type: 'kubernetes.io/tls',
    origin: 'cert-manager',
    annotations,
    labels,
    data: {
      'tls.crt': issued.chain.map((der) => toPem(der)).join(''),
      'tls.key': privateKeyPem(issued.key, s.privateKey.encoding),
      ...(issued.caCrt ? { 'ca.crt': toPem(issued.caCrt) } : {}),
    },
    leaf: issued.summary,
    certificate: s.name,
    ...(entry.source ? { source: entry.source } : {}),
  };
}

function inputSecretState(secret: InputSecret, source: SourcePos | undefined): SecretState {
  const meta = secret.object.metadata;
  const tlsCrt = secret.data['tls.crt'] ?? '';
  let leaf;
  try {
    const [first] = certificatesOfPem(tlsCrt);
    leaf = first ? summarizeLeaf(first) : undefined;
  } catch {
    leaf = undefined;
  }
  const caCrt = secret.data['ca.crt'];
  return {
    namespace: meta.namespace,
    name: meta.name,
    type: secret.type,
    origin: 'input',
    annotations: meta.annotations,
    labels: meta.labels,
    data: {
      'tls.crt': tlsCrt,
      'tls.key': secret.data['tls.key'] ?? '',
      ...(caCrt === undefined ? {} : { 'ca.crt': caCrt }),
    },
    ...(leaf ? { leaf } : {}),
    ...(meta.annotations['cert-manager.io/certificate-name']
      ? { certificate: meta.annotations['cert-manager.io/certificate-name'] }
      : {}),
    ...(source ? { source } : {}),
  };
}
