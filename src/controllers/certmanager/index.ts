/**
 * cert-manager in the model: Issuers and ClusterIssuers (SelfSigned, CA, ACME through kwire's
 * offline lab CA), Certificates written or made by ingress-shim, real X.509 in `kubernetes.io/tls`
 * Secrets, ACME Orders and Challenges, the served-certificate lookup for traces, and lint.
 */
export { reconcileCertificates, DEFAULT_CLUSTER_RESOURCE_NAMESPACE } from './reconcile.js';
export { certificateForHost, coveringName, sanMatches, normalizeHost, labAcmeNote } from '../../model/certificates.js';
export type { ServedCertificate } from '../../model/certificates.js';
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
