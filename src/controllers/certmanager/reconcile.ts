/**
 * The cert-manager controller in one pure step: Issuers, ClusterIssuers, Certificates (written or
 * made by ingress-shim) and Secrets in; issuer readiness, issued certificates, their Secrets and
 * ACME Orders/Challenges out. Issuers backed by a Secret another Certificate writes are resolved in
 * dependency order (a SelfSigned `isCA` Certificate can back a CA issuer in the same inputs).
 */
import { certificateStates, secretStates } from './certificates.js';
import { claimSecretNames, readInputs, rejectInvalidSpecs, resolveCertificates } from './inputs.js';
import { issuerStates, reportIssuerProblems } from './issuers.js';
import { issueCertificates } from './issue.js';
import { issuerId, type Run } from './run.js';
import type { CertManagerInput, CertManagerState } from './types.js';

/** Where ClusterIssuers read Secrets unless told otherwise. */
export const DEFAULT_CLUSTER_RESOURCE_NAMESPACE = 'cert-manager';

/** Runs cert-manager over the inputs once. */
export function reconcileCertificates(input: CertManagerInput): CertManagerState {
  const sourceOf = input.sourceOf ?? (() => undefined);
  const { secrets, issuers, certificates } = readInputs(input.objects);
  const { entries, problems } = resolveCertificates(input, certificates, sourceOf);
  const run: Run = {
    now: new Date(Math.floor(input.now.getTime() / 1000) * 1000),
    seed: input.seed,
    crn: input.clusterResourceNamespace ?? DEFAULT_CLUSTER_RESOURCE_NAMESPACE,
    sourceOf,
    secrets,
    issuers,
    issuerIndex: new Map(issuers.map((i) => [issuerId(i), i])),
    entries,
    producers: new Map(),
    signers: new Map(),
    orders: [],
    challenges: [],
    problems,
  };
  rejectInvalidSpecs(run);
  claimSecretNames(run);
  issueCertificates(run);
  const issuerStatus = issuerStates(run);
  reportIssuerProblems(run, issuerStatus);
  return {
    issuers: issuerStatus,
    certificates: certificateStates(run),
    secrets: secretStates(run),
    orders: run.orders,
    challenges: run.challenges,
    problems: run.problems,
    now: run.now.toISOString(),
    clusterResourceNamespace: run.crn,
  };
}
