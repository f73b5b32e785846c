/**
 * cert-manager lint over the reconciled state and the Ingresses that use it.
 *
 * | code      | finding |
 * |-----------|---------|
 * | KW-CM001  | an Ingress TLS Secret that does not exist and that no issuer annotation or Certificate will write |
 * | KW-CM002  | a Certificate (or ingress-shim annotation) naming an issuer that does not exist |
 * | KW-CM003  | the certificate in an Ingress TLS Secret does not cover one of that entry's hosts |
 * | KW-CM004  | an HTTP-01 challenge path that a force-ssl-redirect on the host's Ingress redirects to https |
 */
import type { Problem } from '../../api/problems.js';
import { quote } from '../../api/problems.js';
import type { IngressState } from '../../model/types.js';
import { coveringName, normalizeHost } from '../../model/certificates.js';
import { annotationPath, SHIM, wantsCertificates } from './shim.js';
import type { CertificateState, CertManagerState } from './types.js';

/** Annotations that force an HTTP → HTTPS redirect on every path of an Ingress. */
export const FORCE_SSL_REDIRECT = [
  'nginx.ingress.kubernetes.io/force-ssl-redirect',
  'ingress.kubernetes.io/force-ssl-redirect',
] as const;

/** Lint findings about certificates for `ingresses`, with stable codes `KW-CM001`…`KW-CM004`. */
export function lintCertificates(
  state: CertManagerState,
  ingresses: readonly IngressState[],
): Problem[] {
  const problems: Problem[] = [];
  for (const ing of ingresses) {
    const object = { kind: 'Ingress', namespace: ing.namespace, name: ing.name };
    const src = ing.source ? { source: ing.source } : {};
    (ing.spec.tls ?? []).forEach((tls, i) => {
      const secretName = tls.secretName;
      if (!secretName) return;
      const secret = state.secrets.find(
        (s) => s.namespace === ing.namespace && s.name === secretName,
      );
      if (!secret) {
        const writer = state.certificates.some(
          (c) => c.namespace === ing.namespace && c.secretName === secretName,
        );
        if (writer || wantsCertificates(ing)) return;
        problems.push({
          code: 'KW-CM001',
          severity: 'error',
          object,
          path: `spec.tls[${i}].secretName`,
          message: `TLS Secret ${quote(secretName)} does not exist and no issuer annotation asks cert-manager to write it; the controller serves its default self-signed certificate for ${(tls.hosts ?? []).map((h) => quote(h)).join(', ') || 'these hosts'}`,
          hint: `create the kubernetes.io/tls Secret, or annotate the Ingress with ${SHIM.clusterIssuer} (or ${SHIM.issuer}) naming an issuer`,
          ...src,
        });
        return;
      }
      const leaf = secret.leaf;
      if (!leaf) return;
      (tls.hosts ?? []).forEach((host, j) => {
        if (coveringName(leaf, host) !== undefined) return;
        const names = [...leaf.dnsNames, ...leaf.ipAddresses];
        problems.push({
          code: 'KW-CM003',
          severity: 'error',
          object,
          path: `spec.tls[${i}].hosts[${j}]`,
          message: `the certificate in Secret ${quote(secretName)} (${names.length > 0 ? names.join(', ') : 'no subjectAltName'}) does not cover host ${quote(normalizeHost(host))}`,
          hint:
            secret.origin === 'cert-manager'
              ? `add ${quote(host)} to the Certificate's dnsNames (ingress-shim takes them from this TLS entry's hosts)`
              : `reissue the certificate with ${quote(host)} as a subjectAltName, or remove the host from this TLS entry`,
          ...src,
        });
      });
    });
    problems.push(...redirectFindings(state, ing));
  }
  for (const cert of state.certificates) {
    const ready = cert.conditions.find((c) => c.type === 'Ready');
    if (ready?.reason !== 'IssuerNotFound') continue;
    problems.push(issuerMissing(state, cert, ready.message));
  }
  return problems;
}

function issuerMissing(state: CertManagerState, cert: CertificateState, message: string): Problem {
  const ref = cert.issuerRef;
  const otherKind = state.issuers.find(
    (i) =>
      i.name === ref.name &&
      i.kind !== ref.kind &&
      (i.kind === 'ClusterIssuer' || i.namespace === cert.namespace),
  );
  const elsewhere = state.issuers.find(
    (i) => i.name === ref.name && i.kind === 'Issuer' && i.namespace !== cert.namespace,
  );
  let hint = `create the ${ref.kind}, or point the Certificate at an existing issuer`;
  if (otherKind && cert.createdBy) {
    hint = `a ${otherKind.kind} named ${quote(ref.name)} exists: use the ${otherKind.kind === 'ClusterIssuer' ? SHIM.clusterIssuer : SHIM.issuer} annotation`;
  } else if (otherKind)
    hint = `a ${otherKind.kind} named ${quote(ref.name)} exists: set issuerRef.kind: ${otherKind.kind}`;
  else if (elsewhere)
    hint = `an Issuer ${quote(ref.name)} exists in namespace ${quote(elsewhere.namespace)}, but an Issuer only serves its own namespace; use a ClusterIssuer`;
  const src = cert.source ? { source: cert.source } : {};
  if (cert.createdBy) {
    const annotation = ref.kind === 'ClusterIssuer' ? SHIM.clusterIssuer : SHIM.issuer;
    return {
      code: 'KW-CM002',
      severity: 'error',
      object: { kind: 'Ingress', namespace: cert.createdBy.namespace, name: cert.createdBy.name },
      path: annotationPath(annotation),
      message: `${message}, so Certificate ${quote(cert.name)} is never issued`,
      hint,
      ...src,
    };
  }
  return {
    code: 'KW-CM002',
    severity: 'error',
    object: { kind: 'Certificate', namespace: cert.namespace, name: cert.name },
    path: 'spec.issuerRef.name',
    message: `${message}, so the Certificate is never issued`,
    hint,
    ...src,
  };
}

function redirectFindings(state: CertManagerState, ing: IngressState): Problem[] {
  const annotation = FORCE_SSL_REDIRECT.find((a) => ing.annotations[a] === 'true');
  if (!annotation) return [];
  const hosts = new Set<string>();
  for (const rule of ing.spec.rules ?? []) if (rule.host) hosts.add(normalizeHost(rule.host));
  for (const tls of ing.spec.tls ?? [])
    for (const h of tls.hosts ?? []) hosts.add(normalizeHost(h));
  const out: Problem[] = [];
  for (const challenge of state.challenges) {
    if (
      challenge.type !== 'HTTP-01' ||
      challenge.wildcard ||
      !hosts.has(normalizeHost(challenge.dnsName))
    )
      continue;
    const editedInPlace =
      challenge.ingressName === ing.name && challenge.namespace === ing.namespace;
    const via = editedInPlace
      ? 'is served by this Ingress (edited in place)'
      : 'is served on the same host';
    out.push({
      code: 'KW-CM004',
      severity: 'warning',
      object: { kind: 'Ingress', namespace: ing.namespace, name: ing.name },
      path: annotationPath(annotation),
      message: `the HTTP-01 challenge ${challenge.url ?? challenge.dnsName} ${via}, and ${annotation}: "true" answers plain HTTP with a 308 to https; the challenge passes only if the redirect exempts /.well-known/acme-challenge or the HTTPS side also routes it`,
      hint: 'exempt the challenge path from the redirect (ingress-nginx: no-tls-redirect-locations, default /.well-known/acme-challenge), set force-ssl-redirect only after issuance, or use a DNS-01 solver',
      ...(ing.source ? { source: ing.source } : {}),
    });
  }
  return out;
}
