/** cert-manager in the model: issuers, certificates, their Secrets, ACME orders and challenges. */
import type { Problem } from '../api/problems.js';
import type { SourcePos, StringMap } from '../api/types.js';

/** Private key algorithms cert-manager supports. */
export type KeyAlgorithm = 'RSA' | 'ECDSA' | 'Ed25519';

/** `issuerRef` of a Certificate. */
export interface IssuerRef {
  readonly name: string;
  /** `Issuer` (default) or `ClusterIssuer`, or an external issuer's kind. */
  readonly kind: string;
  /** `cert-manager.io` (default) or an external issuer's group. */
  readonly group: string;
}

/** A status condition as cert-manager writes it. */
export interface Condition {
  readonly type: 'Ready' | 'Issuing';
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/** Issuer types kwire models; other types are recorded as `Unsupported`. */
export type IssuerType = 'SelfSigned' | 'CA' | 'ACME' | 'Unsupported';

/** One ACME solver as configured on an issuer. */
export interface AcmeSolverState {
  readonly index: number;
  readonly type: 'HTTP-01' | 'DNS-01';
  /** HTTP-01: the class of the solver Ingress (`ingressClassName`, else legacy `class`). */
  readonly ingressClass?: string;
  /** HTTP-01: an existing Ingress edited in place (`http01.ingress.name`). */
  readonly ingressName?: string;
  /** DNS-01: the provider named (`cloudflare`, `route53`, …). */
  readonly dnsProvider?: string;
  readonly selector?: {
    readonly dnsNames?: readonly string[];
    readonly dnsZones?: readonly string[];
    readonly matchLabels?: StringMap;
  };
}

/** An Issuer or ClusterIssuer. */
export interface IssuerState {
  readonly kind: 'Issuer' | 'ClusterIssuer';
  /** '' for a ClusterIssuer. */
  readonly namespace: string;
  readonly name: string;
  readonly type: IssuerType;
  readonly ready: boolean;
  readonly reason: string;
  readonly message: string;
  readonly conditions: readonly Condition[];
  /** CA issuers: the Secret holding the signing key pair. */
  readonly ca?: {
    readonly secretNamespace: string;
    readonly secretName: string;
    readonly subject?: string;
    readonly notAfter?: string;
  };
  readonly acme?: {
    /** The directory URL as configured; never contacted. */
    readonly server: string;
    readonly email?: string;
    readonly privateKeySecretName?: string;
    readonly solvers: readonly AcmeSolverState[];
    /** Who actually signs in the model: kwire's offline lab CA. */
    readonly issuedBy: 'kwire-lab-acme';
  };
  readonly source?: SourcePos;
}

/** `spec.privateKey` with defaults applied. */
export interface PrivateKeyState {
  readonly algorithm: KeyAlgorithm;
  /** RSA modulus bits or ECDSA curve bits; 0 for Ed25519. */
  readonly size: number;
  readonly encoding: 'PKCS1' | 'PKCS8';
  readonly rotationPolicy: 'Always' | 'Never';
}

/** What a Certificate asks for, its defaults applied: what the issuer reads and the state shows. */
export interface CertificateFields {
  readonly namespace: string;
  readonly name: string;
  readonly secretName: string;
  readonly commonName?: string;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly uris: readonly string[];
  readonly emailAddresses: readonly string[];
  readonly isCA: boolean;
  /** Key usages as cert-manager names them (`digital signature`, `server auth`, …). */
  readonly usages: readonly string[];
  readonly durationMs: number;
  /** `spec.renewBefore` as written, if any. */
  readonly renewBefore?: string;
  readonly renewBeforePercentage?: number;
  readonly privateKey: PrivateKeyState;
  readonly issuerRef: IssuerRef;
  readonly secretTemplate?: { readonly annotations: StringMap; readonly labels: StringMap };
  readonly labels: StringMap;
}

/** A Certificate: its spec with defaults applied, and the status cert-manager would write. */
export interface CertificateState extends CertificateFields {
  /** Requested lifetime, Go duration string (`2160h0m0s`). */
  readonly duration: string;
  /** Set when ingress-shim made this Certificate from an Ingress's `spec.tls`. */
  readonly createdBy?: {
    readonly kind: 'Ingress';
    readonly namespace: string;
    readonly name: string;
    readonly tlsIndex: number;
  };
  readonly creationTimestamp?: string;
  readonly ready: boolean;
  readonly conditions: readonly Condition[];
  readonly status: {
    readonly notBefore?: string;
    readonly notAfter?: string;
    readonly renewalTime?: string;
    readonly revision?: number;
    readonly serialNumber?: string;
  };
  readonly source?: SourcePos;
}

/** Who wrote a TLS Secret: cert-manager (issued in this reconcile) or the inputs. */
export type SecretOrigin = 'cert-manager' | 'input';

/** What a TLS Secret's leaf certificate says. */
export interface LeafSummary {
  readonly subject: string;
  readonly issuer: string;
  readonly commonName?: string;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly notBefore: string;
  readonly notAfter: string;
  readonly serialNumber: string;
}

/** A `kubernetes.io/tls` Secret: PEM text in `data` (base64 only when rendered as an object). */
export interface SecretState {
  readonly namespace: string;
  readonly name: string;
  readonly type: string;
  readonly origin: SecretOrigin;
  readonly annotations: StringMap;
  readonly labels: StringMap;
  readonly data: {
    readonly 'tls.crt': string;
    readonly 'tls.key': string;
    readonly 'ca.crt'?: string;
  };
  /** The parsed leaf, or undefined when `tls.crt` does not parse. */
  readonly leaf?: LeafSummary;
  /** The Certificate that wrote it. */
  readonly certificate?: string;
  readonly source?: SourcePos;
}

/** ACME order and challenge states (RFC 8555 §7.1.6). */
export type AcmeState = 'pending' | 'valid' | 'invalid';

/** An ACME Order (`acme.cert-manager.io/v1`). */
export interface OrderState {
  readonly namespace: string;
  readonly name: string;
  readonly certificate: string;
  readonly certificateRequest: string;
  readonly issuerRef: IssuerRef;
  readonly dnsNames: readonly string[];
  readonly state: AcmeState;
  readonly reason?: string;
  readonly challenges: readonly string[];
}

/** An ACME Challenge, one per DNS name of an Order. */
export interface ChallengeState {
  readonly namespace: string;
  readonly name: string;
  readonly order: string;
  readonly dnsName: string;
  readonly wildcard: boolean;
  readonly type: 'HTTP-01' | 'DNS-01';
  readonly token: string;
  /** `token.thumbprint(accountKey)` (RFC 8555 §8.1). */
  readonly key: string;
  /** HTTP-01: `/.well-known/acme-challenge/<token>`. */
  readonly path?: string;
  /** HTTP-01: the URL the ACME server fetches. */
  readonly url?: string;
  /** HTTP-01: the class of the solver Ingress, if any is set. */
  readonly ingressClass?: string;
  /** HTTP-01: the Ingress edited in place, if the solver edits one. */
  readonly ingressName?: string;
  /** DNS-01: the TXT record to publish. */
  readonly dnsRecord?: { readonly name: string; readonly value: string };
  readonly solverIndex?: number;
  readonly state: AcmeState;
  readonly presented: boolean;
  readonly reason?: string;
}

/** The cert-manager part of the computed network. */
export interface CertManagerState {
  readonly issuers: readonly IssuerState[];
  readonly certificates: readonly CertificateState[];
  /** TLS Secrets: the ones issued here and the ones written in the inputs. */
  readonly secrets: readonly SecretState[];
  readonly orders: readonly OrderState[];
  readonly challenges: readonly ChallengeState[];
  readonly problems: readonly Problem[];
  /** The `now` of the reconcile, ISO. */
  readonly now: string;
  readonly clusterResourceNamespace: string;
}
