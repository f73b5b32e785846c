/** The cert-manager controller's input; the state it computes is the model's (`src/model/certmanager.ts`). */
import type { KubeObject, SourcePos } from '../../api/types.js';
import type { IngressState } from '../../model/types.js';
import type { IssuerRef } from '../../model/certmanager.js';
export type { IssuerRef, Condition, IssuerType, AcmeSolverState, IssuerState, PrivateKeyState, CertificateState, SecretOrigin, LeafSummary, SecretState, AcmeState, OrderState, ChallengeState, CertManagerState } from '../../model/certmanager.js';

/** Inputs of `reconcileCertificates`. */
export interface CertManagerInput {
  /** Every input object; Issuer, ClusterIssuer, Certificate and Secret are read. */
  readonly objects: readonly KubeObject[];
  readonly ingresses: readonly IngressState[];
  /** Issuance time: notBefore of every certificate issued in this reconcile. */
  readonly now: Date;
  /** Derive keys, tokens and serials from this seed: same inputs, byte-identical output. @default random keys */
  readonly seed?: string;
  /** Where ClusterIssuers read their Secrets (`--cluster-resource-namespace`). @default 'cert-manager' */
  readonly clusterResourceNamespace?: string;
  /** The issuer `kubernetes.io/tls-acme: "true"` uses (`--default-issuer-*` flags). @default none */
  readonly defaultIssuer?: IssuerRef;
  /** Where an object was written, for problems. @default no positions */
  readonly sourceOf?: (obj: KubeObject) => SourcePos | undefined;
}

