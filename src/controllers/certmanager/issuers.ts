/**
 * Issuer and ClusterIssuer status after issuing: readiness with cert-manager's reasons, the CA
 * each CA issuer signs with, and problems for issuers that are not ready or sign with a non-CA.
 */
import { quote, type ObjectRef } from '../../api/problems.js';
import type { SourcePos } from '../../api/types.js';
import { LAB_ACME } from './acme.js';
import { issuerId, report, type Run, type SignerResult } from './run.js';
import { caSigner } from './signers.js';
import type { IssuerSpec } from './spec.js';
import type { IssuerState } from './types.js';
import { isCACertificate, summarizeLeaf } from './x509.js';

/** The status of every issuer, in `run.issuers` order; unused CA issuers' signers are read now. */
export function issuerStates(run: Run): IssuerState[] {
  return run.issuers.map((spec) =>
    issuerState(
      spec,
      spec.type === 'CA' ? caSigner(run, spec) : undefined,
      run.crn,
      run.sourceOf(spec.object),
    ),
  );
}

/**
 * Reports issuers that are not ready (KW-CM011, KW-CM012 for CA issuers) and CA issuers whose
 * certificate is not a CA (KW-CM013).
 */
export function reportIssuerProblems(run: Run, states: readonly IssuerState[]): void {
  for (const [i, state] of states.entries()) {
    const spec = run.issuers[i];
    if (!spec || state.ready) continue;
    const signer = spec.type === 'CA' ? run.signers.get(issuerId(spec)) : undefined;
    report(
      run,
      {
        code: spec.type === 'CA' ? 'KW-CM012' : 'KW-CM011',
        severity: 'error',
        object: issuerObject(spec),
        path: spec.invalid?.path ?? 'spec.ca.secretName',
        message: state.message,
        ...(signer?.state === 'failed' && signer.hint ? { hint: signer.hint } : {}),
      },
      state.source,
    );
  }
  for (const [id, result] of run.signers) {
    if (
      result.state !== 'ready' ||
      !result.signer.issuer ||
      isCACertificate(result.signer.issuer.der)
    )
      continue;
    const spec = run.issuerIndex.get(id);
    if (!spec) continue;
    report(
      run,
      {
        code: 'KW-CM013',
        severity: 'warning',
        object: issuerObject(spec),
        path: 'spec.ca.secretName',
        message: `the certificate in Secret ${quote(spec.caSecretName)} is not a CA (basicConstraints CA:FALSE); clients will reject what it signs`,
        hint: 'issue the CA certificate with isCA: true',
      },
      run.sourceOf(spec.object),
    );
  }
}

function issuerObject(spec: IssuerSpec): ObjectRef {
  return {
    kind: spec.kind,
    ...(spec.namespace ? { namespace: spec.namespace } : {}),
    name: spec.name,
  };
}

/** An issuer's Ready condition with cert-manager's reason, and its CA or ACME details. */
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
