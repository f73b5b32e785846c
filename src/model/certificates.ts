/** Which certificate an Ingress serves for a host, and whether it covers that host. */
import ipaddr from 'ipaddr.js';
import type { CertificateState, CertManagerState, IssuerRef, LeafSummary, SecretState } from './certmanager.js';

/**
 * The certificate an ingress controller serves when no TLS Secret covers the SNI host (no TLS
 * section for it, or its Secret is missing or not issued yet): ingress-nginx's "Fake Certificate".
 */
export const DEFAULT_CERTIFICATE = {
  subject: 'CN=Kubernetes Ingress Controller Fake Certificate, O=Acme Co',
  dnsNames: ['ingress.local'],
} as const;

/** cert-manager's API group: issuer refs in it are written without the group. */
const CERT_MANAGER_GROUP = 'cert-manager.io';

/** `ClusterIssuer letsencrypt-prod`, or `Kind.group name` for an external issuer. */
export function formatIssuerRef(ref: IssuerRef): string {
  return ref.group === CERT_MANAGER_GROUP ? `${ref.kind} ${ref.name}` : `${ref.kind}.${ref.group} ${ref.name}`;
}

/** How an issuer is served: `(kwire lab ACME CA instead of <server>)` for ACME issuers, else ''. */
export function labAcmeNote(state: CertManagerState, ref: { readonly kind: string; readonly name: string }, namespace: string): string {
  const issuer = state.issuers.find((i) => i.kind === (ref.kind || 'Issuer') && i.name === ref.name && (i.kind === 'ClusterIssuer' || i.namespace === namespace));
  return issuer?.acme ? ` (kwire lab ACME CA instead of ${issuer.acme.server})` : '';
}

/** The certificate served from a TLS Secret for one SNI host. */
export interface ServedCertificate {
  readonly found: boolean;
  readonly secret?: SecretState;
  /** The cert-manager Certificate that writes the Secret, if one does. */
  readonly certificate?: CertificateState;
  readonly covers: boolean;
  /** The SAN that matched the host. */
  readonly matchedName?: string;
  readonly notAfter?: string;
  readonly expired: boolean;
  /** `ClusterIssuer letsencrypt-prod` for a cert-manager Secret, else the leaf's issuer DN. */
  readonly issuer?: string;
  /** Why the certificate is missing or does not cover the host. */
  readonly reason?: string;
}

/** Normalizes a host as a TLS client sends it in SNI: lower case, no port, no trailing dot. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) h = h.slice(1, h.indexOf(']') === -1 ? undefined : h.indexOf(']'));
  else if (h.split(':').length === 2) h = h.slice(0, h.indexOf(':'));
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/** Whether a DNS SAN matches a host: exact, or `*.` matching exactly one left-most label (RFC 6125 §6.4.3). */
export function sanMatches(san: string, host: string): boolean {
  const name = normalizeHost(san);
  if (name === host) return true;
  if (!name.startsWith('*.')) return false;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === name.slice(2);
}

/** The SAN of a leaf that covers `host` (DNS names, or IP addresses for an IP host). */
export function coveringName(
  leaf: Pick<LeafSummary, 'dnsNames' | 'ipAddresses'>,
  host: string,
): string | undefined {
  const h = normalizeHost(host);
  if (ipaddr.isValid(h)) {
    const wanted = ipaddr.process(h).toString();
    return leaf.ipAddresses.find(
      (ip) => ipaddr.isValid(ip) && ipaddr.process(ip).toString() === wanted,
    );
  }
  return leaf.dnsNames.find((san) => sanMatches(san, h));
}

/** The certificate in Secret `namespace/secretName` and whether it covers `host` at the state's `now`. */
export function certificateForHost(
  state: CertManagerState,
  namespace: string,
  secretName: string,
  host: string,
): ServedCertificate {
  const secret = state.secrets.find((s) => s.namespace === namespace && s.name === secretName);
  const certificate = state.certificates.find(
    (c) => c.namespace === namespace && c.secretName === secretName,
  );
  if (!secret) {
    const reason = certificate
      ? `Secret ${JSON.stringify(secretName)} is not written yet: Certificate ${JSON.stringify(certificate.name)} is not Ready (${certificate.conditions[0]?.reason ?? 'unknown'})`
      : `Secret ${JSON.stringify(secretName)} does not exist in namespace ${JSON.stringify(namespace)}`;
    return {
      found: false,
      covers: false,
      expired: false,
      ...(certificate ? { certificate } : {}),
      reason,
    };
  }
  const issuer =
    certificate && secret.origin === 'cert-manager'
      ? formatIssuerRef(certificate.issuerRef)
      : secret.leaf?.issuer;
  const base = {
    found: true,
    secret,
    ...(certificate ? { certificate } : {}),
    ...(issuer === undefined ? {} : { issuer }),
  };
  const leaf = secret.leaf;
  if (!leaf)
    return {
      ...base,
      covers: false,
      expired: false,
      reason: `tls.crt of Secret ${JSON.stringify(secretName)} does not parse`,
    };
  const expired = leaf.notAfter < state.now || leaf.notBefore > state.now;
  const matchedName = coveringName(leaf, host);
  const h = normalizeHost(host);
  let reason: string | undefined;
  if (!matchedName) {
    const names = [...leaf.dnsNames, ...leaf.ipAddresses];
    reason =
      leaf.commonName !== undefined && normalizeHost(leaf.commonName) === h && names.length === 0
        ? `only the CommonName names ${JSON.stringify(h)}; clients match subjectAltName only`
        : `the certificate names ${names.length > 0 ? names.join(', ') : 'no host'}, not ${JSON.stringify(h)}`;
  } else if (expired) {
    reason = `the certificate is valid ${leaf.notBefore} to ${leaf.notAfter}, not at ${state.now}`;
  }
  return {
    ...base,
    covers: matchedName !== undefined,
    ...(matchedName === undefined ? {} : { matchedName }),
    notAfter: leaf.notAfter,
    expired,
    ...(reason === undefined ? {} : { reason }),
  };
}
