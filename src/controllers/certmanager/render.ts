/** Table rows for `kwire get certificates` and Secret objects for `-o yaml|json`. */
import type { KubeObject } from '../../api/types.js';
import { formatAge } from './duration.js';
import { formatIssuerRef } from './spec.js';
import type { CertificateState, SecretState } from './types.js';

/** Columns of `kwire get certificates`, in order (`-o wide` adds ISSUER, RENEWAL and STATUS). */
export const CERTIFICATE_COLUMNS = [
  'NAMESPACE',
  'NAME',
  'READY',
  'SECRET',
  'ISSUER',
  'NOT AFTER',
  'EXPIRES IN',
  'AGE',
] as const;

/** Extra columns of `-o wide`. */
export const CERTIFICATE_WIDE_COLUMNS = ['RENEWAL', 'STATUS'] as const;

/** One row of `kwire get certificates`. */
export interface CertificateRow {
  readonly namespace: string;
  readonly name: string;
  /** `True`, or `False` while not issued. */
  readonly ready: 'True' | 'False';
  readonly secret: string;
  /** `ClusterIssuer letsencrypt-prod`. */
  readonly issuer: string;
  /** ISO time, '' when not issued. */
  readonly notAfter: string;
  /** Time left, kubectl-style (`89d`), '' when not issued. */
  readonly expiresIn: string;
  /** Since creationTimestamp (or since `now` when the inputs carry none). */
  readonly age: string;
  readonly renewal: string;
  /** The Ready condition's message. */
  readonly status: string;
}

/** The row of one Certificate at `now` (ISO, the state's `now`). */
export function renderCertificateRow(cert: CertificateState, now: string): CertificateRow {
  const nowMs = Date.parse(now);
  const ready = cert.conditions.find((c) => c.type === 'Ready');
  const notAfter = cert.status.notAfter ?? '';
  const created = cert.creationTimestamp ? Date.parse(cert.creationTimestamp) : Number.NaN;
  return {
    namespace: cert.namespace,
    name: cert.name,
    ready: cert.ready ? 'True' : 'False',
    secret: cert.secretName,
    issuer: formatIssuerRef(cert.issuerRef),
    notAfter,
    expiresIn: notAfter ? formatAge(Date.parse(notAfter) - nowMs) : '',
    age: formatAge(Number.isNaN(created) ? 0 : nowMs - created),
    renewal: cert.status.renewalTime ?? '',
    status: ready?.message ?? '',
  };
}

/** The row's cells in `CERTIFICATE_COLUMNS` order (plus the wide ones when asked). */
export function certificateRowCells(row: CertificateRow, wide = false): string[] {
  const cells = [
    row.namespace,
    row.name,
    row.ready,
    row.secret,
    row.issuer,
    row.notAfter || '<none>',
    row.expiresIn || '<none>',
    row.age,
  ];
  return wide ? [...cells, row.renewal || '<none>', row.status] : cells;
}

/** A Secret as the apiserver would return it: `data` base64-encoded. */
export function toSecretObject(secret: SecretState): KubeObject {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data))
    if (v !== undefined) data[k] = Buffer.from(v, 'utf8').toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: secret.name,
      namespace: secret.namespace,
      labels: secret.labels,
      annotations: secret.annotations,
    },
    type: secret.type,
    data,
  };
}
