import { describe, expect, it } from 'vitest';
import type { KubeObject, SourcePos } from '../../api/types.js';
import type { IngressState } from '../../model/types.js';
import { certificateForHost, sanMatches } from '../../model/certificates.js';
import { keyFor } from './keys.js';
import { lintCertificates } from './lint.js';
import { reconcileCertificates } from './reconcile.js';
import { certificateRowCells, renderCertificateRow, toSecretObject } from './render.js';
import type { CertManagerState } from './types.js';
import { makeCertificate } from './x509.js';

const NOW = new Date('2026-03-01T12:00:00Z');

function obj(
  apiVersion: string,
  kind: string,
  namespace: string,
  name: string,
  body: Record<string, unknown>,
): KubeObject {
  return { apiVersion, kind, metadata: { name, namespace, labels: {}, annotations: {} }, ...body };
}
const cm = (
  kind: string,
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
): KubeObject => obj('cert-manager.io/v1', kind, namespace, name, { spec });

function ingress(
  name: string,
  annotations: Record<string, string>,
  tls: { hosts: string[]; secretName?: string }[],
): IngressState {
  return {
    namespace: 'default',
    name,
    annotations,
    spec: { tls, rules: tls.flatMap((t) => t.hosts).map((host) => ({ host })) },
    order: 0,
    source: { file: 'ingress.yaml', line: 3, column: 1 },
  };
}

function userSecret(name: string, dnsNames: string[]): KubeObject {
  const pair = keyFor({ algorithm: 'ECDSA', size: 256 }, `user/${name}`, 'fixture');
  const made = makeCertificate({
    subjectKey: pair,
    subject: [{ CN: dnsNames[0] ?? 'x' }],
    dnsNames,
    ipAddresses: [],
    uris: [],
    emailAddresses: [],
    isCA: false,
    usages: ['digital signature', 'server auth'],
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2026-06-01T00:00:00Z'),
    serial: 5n,
  });
  const key = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return obj('v1', 'Secret', 'default', name, {
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': Buffer.from(made.pem).toString('base64'),
      'tls.key': Buffer.from(key).toString('base64'),
    },
  });
}

const acmeIssuer = cm('ClusterIssuer', '', 'letsencrypt', {
  acme: {
    server: 'https://acme-v02.api.letsencrypt.org/directory',
    privateKeySecretRef: { name: 'le' },
    solvers: [{ http01: { ingress: { class: 'nginx' } } }],
  },
});
const selfSigned = cm('Issuer', 'default', 'ss', { selfSigned: {} });

function reconcile(
  objects: KubeObject[],
  ingresses: IngressState[],
  sourceOf?: (o: KubeObject) => SourcePos | undefined,
): CertManagerState {
  return reconcileCertificates({
    objects,
    ingresses,
    now: NOW,
    seed: 'lint',
    ...(sourceOf ? { sourceOf } : {}),
  });
}

describe('sanMatches', () => {
  it.each([
    ['a.example.com', 'a.example.com', true],
    ['A.Example.com', 'a.example.com', true],
    ['*.example.com', 'a.example.com', true],
    ['*.example.com', 'a.b.example.com', false],
    ['*.example.com', 'example.com', false],
    ['b.example.com', 'a.example.com', false],
  ])('%s covers %s: %s', (san, host, covers) => {
    expect(sanMatches(san, host)).toBe(covers);
  });
});

describe('certificateForHost', () => {
  const ing = ingress('site', { 'cert-manager.io/cluster-issuer': 'letsencrypt' }, [
    { hosts: ['*.apps.example', 'apps.example'], secretName: 'apps-tls' },
  ]);
  const state = reconcile(
    [
      cm('ClusterIssuer', '', 'letsencrypt', {
        acme: { server: 'https://acme.example/dir', solvers: [{ dns01: { route53: {} } }] },
      }),
      userSecret('manual', ['manual.example']),
    ],
    [ing],
  );

  it.each([
    ['shop.apps.example', true, '*.apps.example'],
    ['APPS.example:443', true, 'apps.example'],
    ['a.b.apps.example', false, undefined],
  ])('%s → covers %s', (host, covers, matchedName) => {
    const served = certificateForHost(state, 'default', 'apps-tls', host);
    expect(served).toMatchObject({
      found: true,
      covers,
      expired: false,
      issuer: 'ClusterIssuer letsencrypt',
      notAfter: '2026-05-30T12:00:00.000Z',
    });
    expect(served.matchedName).toBe(matchedName);
    expect(served.certificate?.name).toBe('apps-tls');
  });

  it('names a user Secret by its issuer DN, and a missing Secret with a reason', () => {
    expect(certificateForHost(state, 'default', 'manual', 'manual.example')).toMatchObject({
      found: true,
      covers: true,
      issuer: 'CN=manual.example',
    });
    expect(certificateForHost(state, 'default', 'nope', 'x.example')).toMatchObject({
      found: false,
      covers: false,
      reason: 'Secret "nope" does not exist in namespace "default"',
    });
  });
});

describe('lintCertificates', () => {
  it('KW-CM001: TLS Secret missing and no issuer annotation', () => {
    const ing = ingress('plain', {}, [{ hosts: ['plain.example'], secretName: 'plain-tls' }]);
    const problems = lintCertificates(reconcile([], [ing]), [ing]);
    expect(problems).toEqual([
      expect.objectContaining({
        code: 'KW-CM001',
        severity: 'error',
        object: { kind: 'Ingress', namespace: 'default', name: 'plain' },
        path: 'spec.tls[0].secretName',
        source: { file: 'ingress.yaml', line: 3, column: 1 },
      }),
    ]);
  });

  it('KW-CM002: issuer missing, on the annotation, with a hint at the ClusterIssuer of that name', () => {
    const ing = ingress('shop', { 'cert-manager.io/issuer': 'letsencrypt' }, [
      { hosts: ['shop.example'], secretName: 'shop-tls' },
    ]);
    const problems = lintCertificates(reconcile([acmeIssuer], [ing]), [ing]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      code: 'KW-CM002',
      path: 'metadata.annotations["cert-manager.io/issuer"]',
      object: { kind: 'Ingress', name: 'shop' },
    });
    expect(problems[0]?.hint).toContain('cert-manager.io/cluster-issuer');
  });

  it('KW-CM002 on a written Certificate carries its source position', () => {
    const c = cm('Certificate', 'default', 'c', {
      secretName: 'c',
      dnsNames: ['c.example'],
      issuerRef: { name: 'gone' },
    });
    const state = reconcile([c], [], (o) =>
      o === c ? { file: 'cert.yaml', line: 7, column: 1 } : undefined,
    );
    expect(lintCertificates(state, [])).toEqual([
      expect.objectContaining({
        code: 'KW-CM002',
        path: 'spec.issuerRef.name',
        source: { file: 'cert.yaml', line: 7, column: 1 },
      }),
    ]);
  });

  it('KW-CM003: the certificate does not cover a TLS host', () => {
    const ing = ingress('manual', {}, [
      { hosts: ['manual.example', 'www.manual.example'], secretName: 'manual' },
    ]);
    const problems = lintCertificates(
      reconcile([userSecret('manual', ['manual.example'])], [ing]),
      [ing],
    );
    expect(problems.map((p) => [p.code, p.path])).toEqual([['KW-CM003', 'spec.tls[0].hosts[1]']]);
    expect(problems[0]?.message).toContain('"www.manual.example"');
  });

  it('KW-CM004: force-ssl-redirect over an HTTP-01 challenge path', () => {
    const ing = ingress(
      'secure',
      {
        'cert-manager.io/cluster-issuer': 'letsencrypt',
        'nginx.ingress.kubernetes.io/force-ssl-redirect': 'true',
      },
      [{ hosts: ['secure.example'], secretName: 'secure-tls' }],
    );
    const state = reconcile([acmeIssuer], [ing]);
    const problems = lintCertificates(state, [ing]);
    expect(problems).toEqual([
      expect.objectContaining({
        code: 'KW-CM004',
        severity: 'warning',
        path: 'metadata.annotations["nginx.ingress.kubernetes.io/force-ssl-redirect"]',
      }),
    ]);
    expect(problems[0]?.message).toContain(state.challenges[0]?.url ?? 'missing');
    const quiet = ingress('secure', { 'cert-manager.io/cluster-issuer': 'letsencrypt' }, [
      { hosts: ['secure.example'], secretName: 'secure-tls' },
    ]);
    expect(lintCertificates(reconcile([acmeIssuer], [quiet]), [quiet])).toEqual([]);
  });

  it('is silent for a healthy ingress-shim setup', () => {
    const ing = ingress('ok', { 'cert-manager.io/issuer': 'ss' }, [
      { hosts: ['ok.example'], secretName: 'ok-tls' },
    ]);
    expect(lintCertificates(reconcile([selfSigned], [ing]), [ing])).toEqual([]);
  });
});

describe('rendering', () => {
  const ing = ingress(
    'ok',
    { 'cert-manager.io/issuer': 'ss', 'cert-manager.io/private-key-algorithm': 'Ed25519' },
    [{ hosts: ['ok.example'], secretName: 'ok-tls' }],
  );
  const state = reconcile(
    [selfSigned],
    [
      ing,
      ingress('bad', { 'cert-manager.io/issuer': 'missing' }, [
        { hosts: ['bad.example'], secretName: 'bad-tls' },
      ]),
    ],
  );

  it('renders kwire get certificates rows', () => {
    const rows = state.certificates.map((c) =>
      certificateRowCells(renderCertificateRow(c, state.now)),
    );
    expect(rows).toEqual([
      ['default', 'bad-tls', 'False', 'bad-tls', 'Issuer missing', '<none>', '<none>', '0s'],
      ['default', 'ok-tls', 'True', 'ok-tls', 'Issuer ss', '2026-05-30T12:00:00.000Z', '90d', '0s'],
    ]);
  });

  it('renders the Secret with base64 data', () => {
    const secret = state.secrets[0]!;
    const object = toSecretObject(secret);
    expect(object).toMatchObject({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: { name: 'ok-tls', namespace: 'default' },
    });
    const data = object['data'] as Record<string, string>;
    expect(Buffer.from(data['tls.crt']!, 'base64').toString()).toBe(secret.data['tls.crt']);
  });
});
