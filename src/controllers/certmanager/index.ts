/**
 * cert-manager in the model: Issuers and ClusterIssuers (SelfSigned, CA, ACME through kwire's
 * offline lab CA), Certificates written or made by ingress-shim, real X.509 in `kubernetes.io/tls`
 * Secrets, ACME Orders and Challenges, the served-certificate lookup for traces, and lint.
 */
import type { CertManagerState } from './types.js';
export { reconcileCertificates, DEFAULT_CLUSTER_RESOURCE_NAMESPACE } from './reconcile.js';
export { certificateForHost, coveringName, sanMatches, normalizeHost } from './hosts.js';
export type { ServedCertificate } from './hosts.js';
export { lintCertificates, FORCE_SSL_REDIRECT } from './lint.js';
export {
  renderCertificateRow,
  certificateRowCells,
  toSecretObject,
  CERTIFICATE_COLUMNS,
  CERTIFICATE_WIDE_COLUMNS,
} from './render.js';
export type { CertificateRow } from './render.js';
export { LAB_ACME, labCA } from './acme.js';
export { SHIM, wantsCertificates } from './shim.js';
export { parseGoDuration, formatGoDuration } from './duration.js';
export type { KeyAlgorithm } from './keys.js';
export type {
  AcmeSolverState,
  AcmeState,
  CertManagerInput,
  CertManagerState,
  CertificateState,
  ChallengeState,
  Condition,
  IssuerRef,
  IssuerState,
  IssuerType,
  LeafSummary,
  OrderState,
  PrivateKeyState,
  SecretOrigin,
  SecretState,
} from './types.js';

/** How an issuer is served: `(kwire lab ACME CA instead of <server>)` for ACME issuers, else ''. */
export function labAcmeNote(state: CertManagerState, ref: { readonly kind: string; readonly name: string }, namespace: string): string {
  const issuer = state.issuers.find((i) => i.kind === (ref.kind || 'Issuer') && i.name === ref.name && (i.kind === 'ClusterIssuer' || i.namespace === namespace));
  return issuer?.acme ? ` (kwire lab ACME CA instead of ${issuer.acme.server})` : '';
}
