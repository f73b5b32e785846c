import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../api/types.js';
import type { IngressState } from '../../model/types.js';
import { labCA } from './acme.js';
import { clearKeyCache, keyFor } from './keys.js';
import { reconcileCertificates } from './reconcile.js';
import type { CertManagerState, CertificateState, SecretState } from './types.js';
import { makeCertificate } from './x509.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;

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
const selfSigned = (namespace: string, name: string): KubeObject =>
  cm('Issuer', namespace, name, { selfSigned: {} });

function ingress(
  namespace: string,
  name: string,
  annotations: Record<string, string>,
  tls: { hosts: string[]; secretName?: string }[],
  order = 0,
): IngressState {
  return {
    namespace,
    name,
    annotations,
    spec: { tls, rules: tls.flatMap((t) => t.hosts).map((host) => ({ host })) },
    order,
  };
}

/** The cert-manager docs' typical Let's Encrypt Issuer, as the course uses it. */
const letsencryptProd = cm('Issuer', 'default', 'letsencrypt-prod', {
  acme: {
    server: 'https://acme-v02.api.letsencrypt.org/directory',
    email: 'user@example.com',
    privateKeySecretRef: { name: 'letsencrypt-prod' },
    solvers: [{ http01: { ingress: { ingressClassName: 'nginx' } } }],
  },
});

/** The course's kuard Ingress. */
const kuard = ingress(
  'default',
  'kuard',
  { 'kubernetes.io/ingress.class': 'nginx', 'cert-manager.io/issuer': 'letsencrypt-prod' },
  [{ hosts: ['example.example.com'], secretName: 'quickstart-example-tls' }],
);

function run(
  objects: KubeObject[],
  ingresses: IngressState[] = [],
  extra: { seed?: string; now?: Date } = {},
): CertManagerState {
  return reconcileCertificates({
    objects,
    ingresses,
    now: extra.now ?? NOW,
    seed: extra.seed ?? 'unit',
  });
}
function cert(state: CertManagerState, namespace: string, name: string): CertificateState {
  const found = state.certificates.find((c) => c.namespace === namespace && c.name === name);
  if (!found) throw new Error(`no Certificate ${namespace}/${name}`);
  return found;
}
function secret(state: CertManagerState, namespace: string, name: string): SecretState {
  const found = state.secrets.find((s) => s.namespace === namespace && s.name === name);
  if (!found) throw new Error(`no Secret ${namespace}/${name}`);
  return found;
}
function pems(bundle: string): X509Certificate[] {
  return [
    ...bundle.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/g),
  ].map((m) => new X509Certificate(m[0]));
}
const ms = (iso: string | undefined): number => Date.parse(iso ?? '');

function tlsSecret(namespace: string, name: string, crt: string, key: string): KubeObject {
  return obj('v1', 'Secret', namespace, name, {
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': Buffer.from(crt).toString('base64'),
      'tls.key': Buffer.from(key).toString('base64'),
    },
  });
}

function externalCA(cn: string): { crt: string; key: string; der: Buffer } {
  const pair = keyFor({ algorithm: 'ECDSA', size: 256 }, `external-ca/${cn}`, 'fixture');
  const made = makeCertificate({
    subjectKey: pair,
    subject: [{ CN: cn }],
    dnsNames: [],
    ipAddresses: [],
    uris: [],
    emailAddresses: [],
    isCA: true,
    usages: ['cert sign', 'digital signature'],
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2035-01-01T00:00:00Z'),
    serial: 42n,
  });
  return {
    crt: made.pem,
    key: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    der: made.der,
  };
}

describe('SelfSigned issuer', () => {
  const state = run([
    selfSigned('apps', 'selfsigned'),
    cm('Certificate', 'apps', 'web', {
      secretName: 'web-tls',
      commonName: 'web.apps.example',
      dnsNames: ['web.apps.example', '*.web.apps.example'],
      ipAddresses: ['192.0.2.10'],
      privateKey: { algorithm: 'ECDSA', size: 384 },
      issuerRef: { name: 'selfsigned' },
    }),
  ]);
  const c = cert(state, 'apps', 'web');
  const s = secret(state, 'apps', 'web-tls');
  const [leaf] = pems(s.data['tls.crt']);

  it('is Ready and applies the defaults', () => {
    expect(state.issuers[0]).toMatchObject({ kind: 'Issuer', type: 'SelfSigned', ready: true });
    expect(c.ready).toBe(true);
    expect(c.conditions).toEqual([
      {
        type: 'Ready',
        status: 'True',
        reason: 'Ready',
        message: 'Certificate is up to date and has not expired',
      },
    ]);
    expect(c.duration).toBe('2160h0m0s');
    expect(c.privateKey).toEqual({
      algorithm: 'ECDSA',
      size: 384,
      encoding: 'PKCS1',
      rotationPolicy: 'Always',
    });
    expect(c.issuerRef).toEqual({ name: 'selfsigned', kind: 'Issuer', group: 'cert-manager.io' });
  });

  it('issues a self-signed leaf with the SANs, CN, validity and key asked for', () => {
    expect(pems(s.data['tls.crt'])).toHaveLength(1);
    expect(leaf?.subject).toBe('CN=web.apps.example');
    expect(leaf?.issuer).toBe('CN=web.apps.example');
    expect(leaf?.subjectAltName).toBe(
      'DNS:web.apps.example, DNS:*.web.apps.example, IP Address:192.0.2.10',
    );
    expect(leaf?.verify(leaf.publicKey)).toBe(true);
    expect(ms(leaf?.validFrom)).toBe(NOW.getTime());
    expect(ms(leaf?.validTo) - ms(leaf?.validFrom)).toBe(2160 * HOUR);
    expect(leaf?.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
    expect(leaf?.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(s.data['ca.crt']).toBe(s.data['tls.crt']);
    expect(s.data['tls.key']).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
  });

  it('writes status and cert-manager annotations, renewal at 2/3 of the lifetime', () => {
    expect(c.status.notBefore).toBe(NOW.toISOString());
    expect(ms(c.status.notAfter)).toBe(NOW.getTime() + 2160 * HOUR);
    expect(ms(c.status.renewalTime)).toBe(NOW.getTime() + 1440 * HOUR);
    expect(s.annotations).toMatchObject({
      'cert-manager.io/certificate-name': 'web',
      'cert-manager.io/issuer-name': 'selfsigned',
      'cert-manager.io/issuer-kind': 'Issuer',
      'cert-manager.io/alt-names': 'web.apps.example,*.web.apps.example',
      'cert-manager.io/ip-sans': '192.0.2.10',
      'cert-manager.io/common-name': 'web.apps.example',
    });
    expect(s).toMatchObject({
      type: 'kubernetes.io/tls',
      origin: 'cert-manager',
      certificate: 'web',
    });
  });
});

describe('renewal time', () => {
  const base = {
    secretName: 's',
    dnsNames: ['a.example'],
    privateKey: { algorithm: 'Ed25519' },
    issuerRef: { name: 'ss' },
  };
  it.each([
    ['default: 2/3 of the lifetime', { duration: '720h' }, 720, 480],
    ['renewBefore', { duration: '720h', renewBefore: '240h' }, 720, 480],
    ['renewBefore 1h', { duration: '24h', renewBefore: '1h' }, 24, 23],
    ['renewBeforePercentage 25', { duration: '100h', renewBeforePercentage: 25 }, 100, 75],
  ])('%s', (_name, extra, lifetimeHours, renewAfterHours) => {
    const state = run([
      selfSigned('ns', 'ss'),
      cm('Certificate', 'ns', 'c', { ...base, ...extra }),
    ]);
    const c = cert(state, 'ns', 'c');
    expect(ms(c.status.notAfter) - NOW.getTime()).toBe(lifetimeHours * HOUR);
    expect(ms(c.status.renewalTime) - NOW.getTime()).toBe(renewAfterHours * HOUR);
  });
});

describe('CA issuer', () => {
  it('is backed by a SelfSigned isCA Certificate in the same inputs, whatever their order', () => {
    const state = run([
      cm('Certificate', 'apps', 'leaf', {
        secretName: 'leaf-tls',
        dnsNames: ['api.apps.example'],
        privateKey: { algorithm: 'ECDSA' },
        issuerRef: { name: 'my-ca' },
      }),
      cm('Issuer', 'apps', 'my-ca', { ca: { secretName: 'root-ca' } }),
      cm('Certificate', 'apps', 'root', {
        isCA: true,
        commonName: 'apps root CA',
        secretName: 'root-ca',
        privateKey: { algorithm: 'ECDSA', size: 256 },
        issuerRef: { name: 'bootstrap' },
      }),
      selfSigned('apps', 'bootstrap'),
    ]);
    expect(state.issuers.find((i) => i.name === 'my-ca')).toMatchObject({
      ready: true,
      reason: 'KeyPairVerified',
      ca: { secretName: 'root-ca', subject: 'CN=apps root CA' },
    });
    const leafSecret = secret(state, 'apps', 'leaf-tls');
    const chain = pems(leafSecret.data['tls.crt']);
    const [caCert] = pems(leafSecret.data['ca.crt'] ?? '');
    expect(chain).toHaveLength(1);
    expect(caCert?.ca).toBe(true);
    expect(caCert?.subject).toBe('CN=apps root CA');
    expect(chain[0]?.issuer).toBe('CN=apps root CA');
    expect(chain[0]?.subject ?? '').toBe('');
    expect(chain[0]?.verify(caCert!.publicKey)).toBe(true);
    expect(chain[0]?.checkIssued(caCert!)).toBe(true);
    expect(cert(state, 'apps', 'root').usages).toContain('cert sign');
  });

  it('ClusterIssuer reads its Secret from the cluster resource namespace', () => {
    const ca = externalCA('corp CA');
    const objects = [
      cm('ClusterIssuer', '', 'corp', { ca: { secretName: 'corp-ca' } }),
      tlsSecret('cert-manager', 'corp-ca', ca.crt, ca.key),
      cm('Certificate', 'shop', 'shop', {
        secretName: 'shop-tls',
        dnsNames: ['shop.example'],
        privateKey: { algorithm: 'RSA', size: 2048 },
        issuerRef: { name: 'corp', kind: 'ClusterIssuer' },
      }),
    ];
    const state = run(objects);
    expect(state.issuers[0]).toMatchObject({
      kind: 'ClusterIssuer',
      namespace: '',
      ready: true,
      ca: { secretNamespace: 'cert-manager' },
    });
    const s = secret(state, 'shop', 'shop-tls');
    const [leaf] = pems(s.data['tls.crt']);
    const root = new X509Certificate(ca.der);
    expect(leaf?.verify(root.publicKey)).toBe(true);
    expect(leaf?.issuer).toBe('CN=corp CA');
    expect(leaf?.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(leaf?.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(s.data['tls.key']).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(pems(s.data['ca.crt'] ?? '')[0]?.fingerprint256).toBe(root.fingerprint256);

    const elsewhere = run([
      objects[0]!,
      tlsSecret('default', 'corp-ca', ca.crt, ca.key),
      objects[2]!,
    ]);
    expect(elsewhere.issuers[0]).toMatchObject({ ready: false, reason: 'ErrGetKeyPair' });
    expect(cert(elsewhere, 'shop', 'shop')).toMatchObject({
      ready: false,
      conditions: [{ reason: 'IssuerNotReady' }, { type: 'Issuing', status: 'True' }],
    });
    const problem = elsewhere.problems.find((p) => p.code === 'KW-CM012');
    expect(problem?.hint).toContain('namespace "default"');
    expect(problem?.hint).toContain('"cert-manager"');
  });

  it('caps the leaf at the CA certificate notAfter', () => {
    const ca = externalCA('short CA');
    const state = run(
      [
        cm('Issuer', 'x', 'ca', { ca: { secretName: 'ca' } }),
        tlsSecret('x', 'ca', ca.crt, ca.key),
        cm('Certificate', 'x', 'c', {
          secretName: 'c',
          dnsNames: ['c.x'],
          privateKey: { algorithm: 'Ed25519' },
          issuerRef: { name: 'ca' },
        }),
      ],
      [],
      { now: new Date('2034-12-01T00:00:00Z') },
    );
    expect(cert(state, 'x', 'c').status.notAfter).toBe('2035-01-01T00:00:00.000Z');
  });
});

describe('ingress-shim with an ACME issuer (the course example)', () => {
  const state = run([letsencryptProd], [kuard]);
  const c = cert(state, 'default', 'quickstart-example-tls');
  const s = secret(state, 'default', 'quickstart-example-tls');

  it('creates the quickstart-example-tls Certificate from the Ingress', () => {
    expect(c).toMatchObject({
      secretName: 'quickstart-example-tls',
      dnsNames: ['example.example.com'],
      issuerRef: { name: 'letsencrypt-prod', kind: 'Issuer', group: 'cert-manager.io' },
      createdBy: { kind: 'Ingress', namespace: 'default', name: 'kuard', tlsIndex: 0 },
      privateKey: { algorithm: 'RSA', size: 2048 },
      ready: true,
    });
  });

  it('names the lab CA in the issuer status and never contacts the directory', () => {
    expect(state.issuers[0]).toMatchObject({
      type: 'ACME',
      ready: true,
      acme: {
        server: 'https://acme-v02.api.letsencrypt.org/directory',
        email: 'user@example.com',
        issuedBy: 'kwire-lab-acme',
      },
    });
    expect(state.issuers[0]?.message).toContain('not contacted');
  });

  it('records one Order and one HTTP-01 Challenge per DNS name', () => {
    expect(state.orders).toHaveLength(1);
    expect(state.orders[0]).toMatchObject({
      certificate: 'quickstart-example-tls',
      certificateRequest: 'quickstart-example-tls-1',
      state: 'valid',
      dnsNames: ['example.example.com'],
    });
    expect(state.challenges).toHaveLength(1);
    const ch = state.challenges[0]!;
    expect(ch).toMatchObject({
      type: 'HTTP-01',
      dnsName: 'example.example.com',
      ingressClass: 'nginx',
      state: 'valid',
      order: state.orders[0]!.name,
    });
    expect(ch.path).toBe(`/.well-known/acme-challenge/${ch.token}`);
    expect(ch.url).toBe(`http://example.example.com${ch.path}`);
    expect(ch.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(ch.key).toMatch(new RegExp(`^${ch.token}\\.[A-Za-z0-9_-]{43}$`));
  });

  it('writes leaf + intermediate (no root) and no ca.crt; the chain verifies to the lab root', () => {
    const [leaf, intermediate, ...rest] = pems(s.data['tls.crt']);
    expect(rest).toHaveLength(0);
    expect(s.data['ca.crt']).toBeUndefined();
    const root = new X509Certificate(labCA().root.der);
    expect(leaf?.subjectAltName).toBe('DNS:example.example.com');
    expect(leaf?.issuer).toBe('O=kwire lab\nCN=kwire lab ACME intermediate R1');
    expect(leaf?.verify(intermediate!.publicKey)).toBe(true);
    expect(intermediate?.verify(root.publicKey)).toBe(true);
    expect(leaf?.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
  });
});

describe('ingress-shim annotations', () => {
  const issuer = selfSigned('web', 'ss');
  it('maps common-name, duration, renew-before and private-key-* onto the Certificate', () => {
    const ing = ingress(
      'web',
      'site',
      {
        'cert-manager.io/issuer': 'ss',
        'cert-manager.io/common-name': 'site.example',
        'cert-manager.io/duration': '48h',
        'cert-manager.io/renew-before': '12h',
        'cert-manager.io/private-key-algorithm': 'ECDSA',
        'cert-manager.io/private-key-size': '384',
      },
      [
        { hosts: ['site.example', 'www.site.example'], secretName: 'site-tls' },
        { hosts: ['other.example'], secretName: 'other-tls' },
      ],
    );
    const state = run([issuer], [ing]);
    expect(state.certificates.map((c) => c.name)).toEqual(['other-tls', 'site-tls']);
    const c = cert(state, 'web', 'site-tls');
    expect(c).toMatchObject({
      commonName: 'site.example',
      dnsNames: ['site.example', 'www.site.example'],
      duration: '48h0m0s',
      renewBefore: '12h',
      privateKey: { algorithm: 'ECDSA', size: 384 },
    });
    expect(ms(c.status.renewalTime) - NOW.getTime()).toBe(36 * HOUR);
  });

  it('lets a user-written Certificate of the same name win', () => {
    const user = cm('Certificate', 'web', 'site-tls', {
      secretName: 'site-tls',
      dnsNames: ['user.example'],
      privateKey: { algorithm: 'Ed25519' },
      issuerRef: { name: 'ss' },
    });
    const ing = ingress('web', 'site', { 'cert-manager.io/issuer': 'ss' }, [
      { hosts: ['site.example'], secretName: 'site-tls' },
    ]);
    const state = run([issuer, user], [ing]);
    expect(state.certificates).toHaveLength(1);
    expect(state.certificates[0]).toMatchObject({ dnsNames: ['user.example'] });
    expect(state.certificates[0]?.createdBy).toBeUndefined();
  });

  it('reports a bad annotation on the Ingress and issues nothing', () => {
    const ing = ingress(
      'web',
      'site',
      { 'cert-manager.io/issuer': 'ss', 'cert-manager.io/duration': '30m' },
      [{ hosts: ['site.example'], secretName: 'site-tls' }],
    );
    const state = run([issuer], [ing]);
    expect(cert(state, 'web', 'site-tls')).toMatchObject({
      ready: false,
      conditions: [{ reason: 'InvalidSpec' }],
    });
    expect(state.problems).toContainEqual(
      expect.objectContaining({
        code: 'KW-CM010',
        object: { kind: 'Ingress', namespace: 'web', name: 'site' },
        path: 'metadata.annotations["cert-manager.io/duration"]',
      }),
    );
    expect(state.secrets).toHaveLength(0);
  });

  it('refuses both issuer annotations, and tls-acme without a default issuer', () => {
    const both = ingress(
      'web',
      'a',
      { 'cert-manager.io/issuer': 'ss', 'cert-manager.io/cluster-issuer': 'x' },
      [{ hosts: ['a.example'], secretName: 'a' }],
    );
    const acme = ingress('web', 'b', { 'kubernetes.io/tls-acme': 'true' }, [
      { hosts: ['b.example'], secretName: 'b' },
    ]);
    const state = run([issuer], [both, acme]);
    expect(state.certificates).toHaveLength(0);
    expect(state.problems.map((p) => [p.code, p.object?.name])).toEqual([
      ['KW-CM020', 'a'],
      ['KW-CM020', 'b'],
    ]);
    const withDefault = reconcileCertificates({
      objects: [issuer],
      ingresses: [acme],
      now: NOW,
      seed: 'unit',
      defaultIssuer: { name: 'ss', kind: 'Issuer', group: 'cert-manager.io' },
    });
    expect(cert(withDefault, 'web', 'b').ready).toBe(true);
  });
});

describe('errors', () => {
  it('issuer missing: Ready False with reason, Issuing pending', () => {
    const state = run([], [kuard]);
    expect(cert(state, 'default', 'quickstart-example-tls').conditions).toEqual([
      {
        type: 'Ready',
        status: 'False',
        reason: 'IssuerNotFound',
        message: 'Referenced Issuer "letsencrypt-prod" not found in namespace "default"',
      },
      {
        type: 'Issuing',
        status: 'True',
        reason: 'Issuing',
        message:
          'Waiting on CertificateRequest "quickstart-example-tls-1": Referenced Issuer "letsencrypt-prod" not found in namespace "default"',
      },
    ]);
    expect(state.secrets).toHaveLength(0);
  });

  it.each([
    ['duration below 1h', { duration: '59m' }, 'spec.duration'],
    ['renewBefore not below duration', { duration: '2h', renewBefore: '2h' }, 'spec.renewBefore'],
    ['bad RSA size', { privateKey: { algorithm: 'RSA', size: 1024 } }, 'spec.privateKey.size'],
    ['bad ECDSA size', { privateKey: { algorithm: 'ECDSA', size: 255 } }, 'spec.privateKey.size'],
    ['unknown algorithm', { privateKey: { algorithm: 'DSA' } }, 'spec.privateKey.algorithm'],
    ['no names', { dnsNames: [] }, 'spec'],
    ['bad IP', { ipAddresses: ['300.1.1.1'] }, 'spec.ipAddresses[0]'],
  ])('invalid spec: %s', (_name, extra, path) => {
    const state = run([
      selfSigned('ns', 'ss'),
      cm('Certificate', 'ns', 'c', {
        secretName: 's',
        dnsNames: ['a.example'],
        issuerRef: { name: 'ss' },
        ...extra,
      }),
    ]);
    expect(cert(state, 'ns', 'c')).toMatchObject({
      ready: false,
      conditions: [{ type: 'Ready', status: 'False', reason: 'InvalidSpec' }],
    });
    expect(state.problems).toContainEqual(
      expect.objectContaining({
        code: 'KW-CM010',
        path,
        object: { kind: 'Certificate', namespace: 'ns', name: 'c' },
      }),
    );
  });

  it('HTTP-01 cannot validate a wildcard; a DNS-01 solver selected by zone can', () => {
    const issuer = (solvers: unknown[]): KubeObject =>
      cm('ClusterIssuer', '', 'le', {
        acme: { server: 'https://acme.example/dir', privateKeySecretRef: { name: 'le' }, solvers },
      });
    const wildcard = cm('Certificate', 'ns', 'w', {
      secretName: 'w',
      dnsNames: ['*.apps.example', 'apps.example'],
      privateKey: { algorithm: 'ECDSA' },
      issuerRef: { name: 'le', kind: 'ClusterIssuer' },
    });
    const http = run([issuer([{ http01: { ingress: { class: 'nginx' } } }]), wildcard]);
    expect(http.orders[0]?.state).toBe('invalid');
    expect(cert(http, 'ns', 'w')).toMatchObject({
      ready: false,
      conditions: [{ reason: 'Failed' }, { type: 'Issuing', status: 'False' }],
    });
    expect(http.problems.map((p) => p.code)).toContain('KW-CM015');

    const dns = run([
      issuer([
        { http01: { ingress: { class: 'nginx' } } },
        { selector: { dnsZones: ['apps.example'] }, dns01: { cloudflare: {} } },
      ]),
      wildcard,
    ]);
    expect(dns.orders[0]?.state).toBe('valid');
    expect(dns.challenges.map((c) => [c.dnsName, c.type, c.dnsRecord?.name])).toEqual([
      ['*.apps.example', 'DNS-01', '_acme-challenge.apps.example'],
      ['apps.example', 'DNS-01', '_acme-challenge.apps.example'],
    ]);
    expect(cert(dns, 'ns', 'w').ready).toBe(true);
  });

  it('two Certificates writing one Secret are both refused', () => {
    const a = cm('Certificate', 'ns', 'a', {
      secretName: 'same',
      dnsNames: ['a.example'],
      privateKey: { algorithm: 'Ed25519' },
      issuerRef: { name: 'ss' },
    });
    const b = cm('Certificate', 'ns', 'b', {
      secretName: 'same',
      dnsNames: ['b.example'],
      privateKey: { algorithm: 'Ed25519' },
      issuerRef: { name: 'ss' },
    });
    const state = run([selfSigned('ns', 'ss'), a, b]);
    expect(state.certificates.map((c) => [c.name, c.ready, c.conditions[0]?.reason])).toEqual([
      ['a', false, 'DuplicateSecretName'],
      ['b', false, 'DuplicateSecretName'],
    ]);
  });
});

describe('determinism', () => {
  const objects = [
    letsencryptProd,
    selfSigned('default', 'ss'),
    cm('Certificate', 'default', 'ed', {
      secretName: 'ed',
      dnsNames: ['ed.example'],
      privateKey: { algorithm: 'Ed25519', encoding: 'PKCS8' },
      issuerRef: { name: 'ss' },
    }),
  ];
  it('same inputs and seed give byte-identical output, even with keys rebuilt', () => {
    const first = JSON.stringify(run(objects, [kuard], { seed: 'lab' }));
    clearKeyCache();
    const second = JSON.stringify(run(objects, [kuard], { seed: 'lab' }));
    expect(second).toBe(first);
  });

  it('another seed gives other keys; no seed gives random keys', () => {
    const a = run(objects, [], { seed: 'one' });
    const b = run(objects, [], { seed: 'two' });
    expect(secret(a, 'default', 'ed').data['tls.key']).not.toBe(
      secret(b, 'default', 'ed').data['tls.key'],
    );
    const random = reconcileCertificates({ objects, ingresses: [], now: NOW });
    expect(secret(random, 'default', 'ed').data['tls.key']).not.toBe(
      secret(a, 'default', 'ed').data['tls.key'],
    );
    expect(secret(random, 'default', 'ed').data['tls.key']).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('rotationPolicy Never keeps the key already in the Secret', () => {
    const existing = keyFor({ algorithm: 'ECDSA', size: 256 }, 'existing', 'fixture');
    const keyPem = existing.privateKey.export({ type: 'sec1', format: 'pem' }).toString();
    const spec = {
      secretName: 'keep',
      dnsNames: ['keep.example'],
      privateKey: { algorithm: 'ECDSA', rotationPolicy: 'Never' },
      issuerRef: { name: 'ss' },
    };
    const state = run([
      selfSigned('default', 'ss'),
      cm('Certificate', 'default', 'keep', spec),
      tlsSecret('default', 'keep', '', keyPem),
    ]);
    expect(secret(state, 'default', 'keep').data['tls.key']).toBe(keyPem);
    const always = run([
      selfSigned('default', 'ss'),
      cm('Certificate', 'default', 'keep', { ...spec, privateKey: { algorithm: 'ECDSA' } }),
      tlsSecret('default', 'keep', '', keyPem),
    ]);
    expect(secret(always, 'default', 'keep').data['tls.key']).not.toBe(keyPem);
  });
});
