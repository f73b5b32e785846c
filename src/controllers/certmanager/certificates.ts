/**
 * The last phase of a reconcile: Certificate status with its conditions, the Secrets issued
 * Certificates write, and the input TLS Secrets nothing overwrites (KW-CM030 when unreadable).
 */
import type { SourcePos } from '../../api/types.js';
import { formatGoDuration } from './duration.js';
import { privateKeyPem } from './keys.js';
import { objectKey, report, type Entry, type InputSecret, type Issued, type Run } from './run.js';
import type { CertificateState, SecretState } from './types.js';
import { certificatesOfPem, summarizeLeaf, toPem } from './x509.js';

/** The state of every Certificate, in `run.entries` order. */
export function certificateStates(run: Run): CertificateState[] {
  return run.entries.map((entry) => certificateState(entry));
}

/**
 * Secrets sorted by `namespace/name`: those issued Certificates write, and the input TLS Secrets
 * they leave alone, with a KW-CM030 warning where `tls.crt` does not parse.
 */
export function secretStates(run: Run): SecretState[] {
  const secrets: SecretState[] = [];
  const written = new Set<string>();
  for (const entry of run.entries) {
    if (!entry.issued) continue;
    written.add(objectKey(entry.spec.namespace, entry.spec.secretName));
    secrets.push(issuedSecret(entry, entry.issued));
  }
  for (const [k, secret] of run.secrets) {
    if (written.has(k) || !isTlsSecret(secret)) continue;
    const state = inputSecretState(secret, run.sourceOf(secret.object));
    if (!state.leaf && state.data['tls.crt'] !== '') {
      report(
        run,
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
  secrets.sort((a, b) =>
    objectKey(a.namespace, a.name).localeCompare(objectKey(b.namespace, b.name)),
  );
  return secrets;
}

function isTlsSecret(secret: InputSecret): boolean {
  return secret.type === 'kubernetes.io/tls' || secret.data['tls.crt'] !== undefined;
}

/** A Certificate's spec as defaulted, its conditions and, once issued, its status times. */
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

/** The Secret an issued Certificate writes, with cert-manager's annotations and labels. */
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

/** An input TLS Secret as it is, with its leaf summarized when `tls.crt` parses. */
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
