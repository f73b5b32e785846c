/**
 * What one `reconcileCertificates` pass shares between its phases: the inputs read once, the
 * Certificates being worked on, the signers found so far, and the Orders, Challenges and problems
 * it produces. Phases take the `Run` and write to it; nothing is kept between passes.
 */
import type { Problem } from '../../api/problems.js';
import type { KubeObject, SourcePos } from '../../api/types.js';
import type { KeyPair } from './keys.js';
import { SHIM_FIELD_PATHS } from './shim.js';
import type { CertificateSpec, IssuerSpec, SpecError } from './spec.js';
import type {
  CertificateState,
  ChallengeState,
  Condition,
  LeafSummary,
  OrderState,
} from './types.js';
import type { IssuingCert } from './x509.js';

/** A Secret of the inputs with `data` decoded and `stringData` merged in. */
export interface InputSecret {
  readonly object: KubeObject;
  readonly type: string;
  readonly data: Readonly<Record<string, string>>;
}

/** A signing key pair and what goes around the leaf it signs. */
export interface Signer {
  readonly issuer?: IssuingCert;
  /** Certificates after the leaf in `tls.crt` (never the root). */
  readonly chainTail: readonly Buffer[];
  readonly caCrt?: Buffer;
  /** The leaf may not outlive its issuer. */
  readonly notAfterCap?: Date;
}

/** A CA issuer's signer: ready, waiting on the Certificate that writes its Secret, or failed. */
export type SignerResult =
  | { readonly state: 'ready'; readonly signer: Signer }
  | { readonly state: 'waiting'; readonly on: Entry }
  | {
      readonly state: 'failed';
      readonly reason: string;
      readonly message: string;
      readonly hint?: string;
    };

/** A certificate issued in this pass, with the key it certifies. */
export interface Issued {
  readonly leaf: Buffer;
  readonly summary: LeafSummary;
  readonly chain: readonly Buffer[];
  readonly caCrt?: Buffer;
  readonly key: KeyPair;
}

/** One Certificate, written or made by ingress-shim, and how far it got. */
export interface Entry {
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

/** The state of one reconcile pass, handed from phase to phase. */
export interface Run {
  readonly now: Date;
  readonly seed: string | undefined;
  /** The cluster resource namespace, where ClusterIssuers read Secrets. */
  readonly crn: string;
  readonly sourceOf: (obj: KubeObject) => SourcePos | undefined;
  /** Input Secrets by `namespace/name`. */
  readonly secrets: ReadonlyMap<string, InputSecret>;
  /** Issuers and ClusterIssuers, sorted by `kind/namespace/name`. */
  readonly issuers: readonly IssuerSpec[];
  /** The same issuers by `kind/namespace/name` (`namespace` empty for ClusterIssuers). */
  readonly issuerIndex: ReadonlyMap<string, IssuerSpec>;
  /** Certificates sorted by `namespace/name`. */
  readonly entries: readonly Entry[];
  /** Pending Certificates by the Secret they write (`namespace/name`), once claims are settled. */
  readonly producers: Map<string, Entry[]>;
  /** CA signers by issuer id, in the order they were first asked for. */
  readonly signers: Map<string, SignerResult>;
  readonly orders: OrderState[];
  readonly challenges: ChallengeState[];
  readonly problems: Problem[];
}

/** The `namespace/name` key of an object. */
export const objectKey = (namespace: string, name: string): string => `${namespace}/${name}`;

/** The `kind/namespace/name` id of an issuer. */
export const issuerId = (issuer: IssuerSpec): string =>
  `${issuer.kind}/${issuer.namespace}/${issuer.name}`;

/** Records a problem, placed at `source` when known. */
export function report(
  run: Run,
  problem: Omit<Problem, 'source'>,
  source: SourcePos | undefined,
): void {
  run.problems.push(source ? { ...problem, source } : problem);
}

/** Records a problem of a Certificate, or of the Ingress field ingress-shim made it from. */
export function reportEntry(
  run: Run,
  entry: Entry,
  problem: Omit<Problem, 'source' | 'object'>,
): void {
  const certPath = problem.path ?? 'spec';
  if (entry.createdBy) {
    const { namespace, name, tlsIndex } = entry.createdBy;
    report(
      run,
      {
        ...problem,
        object: { kind: 'Ingress', namespace, name },
        path: SHIM_FIELD_PATHS[certPath] ?? `spec.tls[${tlsIndex}]`,
      },
      entry.source,
    );
  } else {
    report(
      run,
      {
        ...problem,
        object: { kind: 'Certificate', namespace: entry.spec.namespace, name: entry.spec.name },
        path: certPath,
      },
      entry.source,
    );
  }
}

/**
 * Marks a Certificate failed with a `Ready: False` condition, and an `Issuing` condition when a
 * CertificateRequest is still `pending` or has `failed`.
 */
export function failEntry(
  entry: Entry,
  reason: string,
  message: string,
  issuing: 'pending' | 'failed' | 'none',
): void {
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
}
