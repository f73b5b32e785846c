/**
 * ingress-shim: an Ingress annotated with an issuer gets one Certificate per `spec.tls[]` entry,
 * named after its `secretName`, with the entry's hosts as dnsNames (cert-manager usage/ingress.md).
 */
import type { Problem } from '../../api/problems.js';
import { quote } from '../../api/problems.js';
import type { KubeObject } from '../../api/types.js';
import type { IngressState } from '../../model/types.js';
import { GROUP } from './spec.js';
import type { IssuerRef } from './types.js';

/** Annotations ingress-shim reads. */
export const SHIM = {
  issuer: 'cert-manager.io/issuer',
  clusterIssuer: 'cert-manager.io/cluster-issuer',
  issuerKind: 'cert-manager.io/issuer-kind',
  issuerGroup: 'cert-manager.io/issuer-group',
  commonName: 'cert-manager.io/common-name',
  duration: 'cert-manager.io/duration',
  renewBefore: 'cert-manager.io/renew-before',
  usages: 'cert-manager.io/usages',
  keyAlgorithm: 'cert-manager.io/private-key-algorithm',
  keySize: 'cert-manager.io/private-key-size',
  keyEncoding: 'cert-manager.io/private-key-encoding',
  keyRotationPolicy: 'cert-manager.io/private-key-rotation-policy',
  tlsAcme: 'kubernetes.io/tls-acme',
  editInPlace: 'acme.cert-manager.io/http01-edit-in-place',
  http01IngressClass: 'acme.cert-manager.io/http01-ingress-class',
  http01IngressClassName: 'acme.cert-manager.io/http01-ingress-ingressclassname',
} as const;

/** Certificate annotations through which ingress-shim overrides the HTTP-01 solver. */
export const OVERRIDE = {
  ingressName: 'acme.cert-manager.io/http01-override-ingress-name',
  ingressClass: 'acme.cert-manager.io/http01-override-ingress-class',
  ingressClassName: 'acme.cert-manager.io/http01-override-ingress-ingressclassname',
} as const;

/** Where a field of a shim-made Certificate came from on its Ingress (for problems). */
export const SHIM_FIELD_PATHS: Readonly<Record<string, string>> = {
  'spec.commonName': annotationPath(SHIM.commonName),
  'spec.duration': annotationPath(SHIM.duration),
  'spec.renewBefore': annotationPath(SHIM.renewBefore),
  'spec.privateKey.algorithm': annotationPath(SHIM.keyAlgorithm),
  'spec.privateKey.size': annotationPath(SHIM.keySize),
  'spec.privateKey.encoding': annotationPath(SHIM.keyEncoding),
  'spec.privateKey.rotationPolicy': annotationPath(SHIM.keyRotationPolicy),
};

/** `metadata.annotations["name"]`. */
export function annotationPath(name: string): string {
  return `metadata.annotations[${JSON.stringify(name)}]`;
}

/** A Certificate ingress-shim would create, with the Ingress and TLS entry it came from. */
export interface ShimCertificate {
  readonly object: KubeObject;
  readonly ingress: IngressState;
  readonly tlsIndex: number;
}

/** Whether an Ingress asks ingress-shim for certificates. */
export function wantsCertificates(ing: IngressState): boolean {
  const a = ing.annotations;
  return (
    a[SHIM.issuer] !== undefined ||
    a[SHIM.clusterIssuer] !== undefined ||
    a[SHIM.tlsAcme] === 'true'
  );
}

/**
 * The Certificates ingress-shim makes for `ingresses`. A Certificate already written in the inputs
 * with the same namespace and name wins (`existing` holds `ns/name` keys).
 */
export function shimCertificates(
  ingresses: readonly IngressState[],
  existing: ReadonlySet<string>,
  defaultIssuer: IssuerRef | undefined,
): { certificates: ShimCertificate[]; problems: Problem[] } {
  const certificates: ShimCertificate[] = [];
  const problems: Problem[] = [];
  const made = new Map<string, IngressState>();
  const ordered = [...ingresses].sort((a, b) => a.order - b.order);
  for (const ing of ordered) {
    if (!wantsCertificates(ing)) continue;
    const problem = (
      severity: Problem['severity'],
      path: string,
      message: string,
      hint?: string,
    ): void => {
      problems.push({
        code: 'KW-CM020',
        severity,
        object: { kind: 'Ingress', namespace: ing.namespace, name: ing.name },
        path,
        message,
        ...(hint === undefined ? {} : { hint }),
        ...(ing.source ? { source: ing.source } : {}),
      });
    };
    const issuerRef = issuerRefOf(ing, defaultIssuer, problem);
    if (!issuerRef) continue;
    const seen = new Set<string>();
    (ing.spec.tls ?? []).forEach((tls, tlsIndex) => {
      const secretName = tls.secretName;
      const hosts = tls.hosts ?? [];
      if (!secretName) {
        problem(
          'warning',
          `spec.tls[${tlsIndex}].secretName`,
          `TLS entry ${tlsIndex} has no secretName, so ingress-shim makes no Certificate for it`,
          'name the Secret cert-manager should write',
        );
        return;
      }
      if (hosts.length === 0) {
        problem(
          'warning',
          `spec.tls[${tlsIndex}].hosts`,
          `TLS entry for Secret ${quote(secretName)} lists no hosts, so ingress-shim makes no Certificate for it`,
          'list the hosts the certificate must cover',
        );
        return;
      }
      if (seen.has(secretName)) {
        problem(
          'warning',
          `spec.tls[${tlsIndex}].secretName`,
          `Secret ${quote(secretName)} is named by an earlier TLS entry too; only the first makes a Certificate`,
          'put all hosts of one Secret in one TLS entry',
        );
        return;
      }
      seen.add(secretName);
      const key = `${ing.namespace}/${secretName}`;
      if (existing.has(key)) {
        problem(
          'info',
          `spec.tls[${tlsIndex}].secretName`,
          `Certificate ${quote(secretName)} is written in the inputs, so ingress-shim leaves it alone`,
        );
        return;
      }
      const earlier = made.get(key);
      if (earlier) {
        problem(
          'warning',
          `spec.tls[${tlsIndex}].secretName`,
          `Ingress ${earlier.namespace}/${earlier.name} already makes Certificate ${quote(secretName)}; this entry is ignored`,
        );
        return;
      }
      made.set(key, ing);
      certificates.push({
        object: certificateObject(ing, secretName, [...hosts], issuerRef),
        ingress: ing,
        tlsIndex,
      });
    });
  }
  return { certificates, problems };
}

function issuerRefOf(
  ing: IngressState,
  defaultIssuer: IssuerRef | undefined,
  problem: (severity: Problem['severity'], path: string, message: string, hint?: string) => void,
): IssuerRef | undefined {
  const a = ing.annotations;
  const issuer = a[SHIM.issuer];
  const clusterIssuer = a[SHIM.clusterIssuer];
  if (issuer !== undefined && clusterIssuer !== undefined) {
    problem(
      'error',
      annotationPath(SHIM.clusterIssuer),
      `both ${SHIM.issuer} and ${SHIM.clusterIssuer} are set; ingress-shim makes no Certificate`,
      'keep only one of them',
    );
    return undefined;
  }
  if (issuer !== undefined)
    return {
      name: issuer,
      kind: a[SHIM.issuerKind] ?? 'Issuer',
      group: a[SHIM.issuerGroup] ?? GROUP,
    };
  if (clusterIssuer !== undefined)
    return { name: clusterIssuer, kind: 'ClusterIssuer', group: GROUP };
  if (defaultIssuer) return defaultIssuer;
  problem(
    'error',
    annotationPath(SHIM.tlsAcme),
    `${SHIM.tlsAcme}: "true" needs a default issuer, and none is configured`,
    `annotate the Ingress with ${SHIM.clusterIssuer} instead`,
  );
  return undefined;
}

function certificateObject(
  ing: IngressState,
  secretName: string,
  hosts: string[],
  issuerRef: IssuerRef,
): KubeObject {
  const a = ing.annotations;
  const privateKey: Record<string, unknown> = {};
  if (a[SHIM.keyAlgorithm] !== undefined) privateKey['algorithm'] = a[SHIM.keyAlgorithm];
  if (a[SHIM.keySize] !== undefined) privateKey['size'] = a[SHIM.keySize];
  if (a[SHIM.keyEncoding] !== undefined) privateKey['encoding'] = a[SHIM.keyEncoding];
  if (a[SHIM.keyRotationPolicy] !== undefined)
    privateKey['rotationPolicy'] = a[SHIM.keyRotationPolicy];
  const spec: Record<string, unknown> = {
    secretName,
    dnsNames: hosts,
    issuerRef: { ...issuerRef },
  };
  if (a[SHIM.commonName] !== undefined) spec['commonName'] = a[SHIM.commonName];
  if (a[SHIM.duration] !== undefined) spec['duration'] = a[SHIM.duration];
  if (a[SHIM.renewBefore] !== undefined) spec['renewBefore'] = a[SHIM.renewBefore];
  const usages = a[SHIM.usages];
  if (usages !== undefined)
    spec['usages'] = usages
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u !== '');
  if (Object.keys(privateKey).length > 0) spec['privateKey'] = privateKey;
  const annotations: Record<string, string> = {};
  if (a[SHIM.editInPlace] === 'true') annotations[OVERRIDE.ingressName] = ing.name;
  const solverClass = a[SHIM.http01IngressClass];
  if (solverClass !== undefined) annotations[OVERRIDE.ingressClass] = solverClass;
  const solverClassName = a[SHIM.http01IngressClassName];
  if (solverClassName !== undefined) annotations[OVERRIDE.ingressClassName] = solverClassName;
  return {
    apiVersion: `${GROUP}/v1`,
    kind: 'Certificate',
    metadata: {
      name: secretName,
      namespace: ing.namespace,
      labels: {},
      annotations,
      ownerReferences: [{ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: ing.name }],
    },
    spec,
  };
}
