/**
 * The lab ACME CA end to end: kwire's ACME issuer (acme-client) against the lab server, HTTP-01
 * answered by a local stand-in for the ingress proxy, chains checked with openssl and node:crypto;
 * then the protocol's refusals (bad key authorization, nonces, algorithms, CSRs) as problem documents.
 */
import {
  createPrivateKey,
  generateKeyPairSync,
  sign,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import acme from 'acme-client';
import {
  createAcmeIssuer,
  createHttp01Responder,
  startLabAcmeServer,
  type IssuedSecret,
  type IssueFailure,
  type LabAcmeServer,
} from '../../src/acme/index.js';
import { trustForOrigin } from '../../src/acme/issuer/trust.js';
import { createCsr } from '../../src/acme/issuer/keys.js';
import { LAB_ACME } from '../../src/controllers/certmanager/index.js';
import { acmeModel, httpsCall, opensslVerify, pemBlocks, startChallengeServer } from './support.js';

const responder = createHttp01Responder();
let challenge: Awaited<ReturnType<typeof startChallengeServer>>;
let lab: LabAcmeServer;

beforeAll(async () => {
  challenge = await startChallengeServer(responder);
  lab = await startLabAcmeServer({ resolve: () => ({ host: '127.0.0.1', port: challenge.port }) });
  trustForOrigin(lab.directoryUrl, [lab.rootPem]);
});

afterAll(async () => {
  await lab.close();
  await challenge.close();
});

describe('issuing through the lab ACME CA', () => {
  const issued: IssuedSecret[] = [];
  let results: readonly (IssuedSecret | IssueFailure)[] = [];
  const issuer = () =>
    createAcmeIssuer({
      mode: 'lab',
      lab,
      responder,
      onIssued: (s) => issued.push(s),
      pollIntervalMs: 50,
    });

  beforeAll(async () => {
    const state = acmeModel('https://acme-v02.api.letsencrypt.org/directory', [
      { name: 'wildcard-host', dnsNames: ['domain1.bar.com', 'domain2.foo.com'] },
      { name: 'kuard', dnsNames: ['example.example.com'], privateKey: { algorithm: 'ECDSA' } },
      {
        name: 'edge',
        dnsNames: ['edge.example.com'],
        privateKey: { algorithm: 'ECDSA', size: 384, encoding: 'PKCS8' },
      },
      { name: 'ed', dnsNames: ['ed.example.com'], privateKey: { algorithm: 'Ed25519' } },
    ]);
    const acmeIssuer = issuer();
    results = await acmeIssuer.sync(state);
    expect(acmeIssuer.describe(state.issuers[0]!)).toBe(
      `served by kwire lab ACME CA at ${lab.directoryUrl} instead of https://acme-v02.api.letsencrypt.org/directory`,
    );
    acmeIssuer.stop();
  });

  it('issues every Certificate of an ACME issuer and hands each Secret over', () => {
    expect(results.map((r) => ('message' in r ? r.message : 'ok'))).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
    ]);
    expect(issued.map((s) => `${s.namespace}/${s.name} for ${s.certificate}`).sort()).toEqual([
      'default/ed-tls for ed',
      'default/edge-tls for edge',
      'default/kuard-tls for kuard',
      'default/wildcard-host-tls for wildcard-host',
    ]);
    expect(responder.get('anything')).toBeUndefined();
  });

  it('validated HTTP-01 for real, with each domain as Host header', () => {
    expect(new Set(challenge.hosts)).toEqual(
      new Set([
        'domain1.bar.com',
        'domain2.foo.com',
        'example.example.com',
        'edge.example.com',
        'ed.example.com',
      ]),
    );
  });

  it.each([
    [
      'wildcard-host',
      'rsa',
      undefined,
      'RSA PRIVATE KEY',
      'DNS:domain1.bar.com, DNS:domain2.foo.com',
    ],
    ['kuard', 'ec', 'prime256v1', 'EC PRIVATE KEY', 'DNS:example.example.com'],
    ['edge', 'ec', 'secp384r1', 'PRIVATE KEY', 'DNS:edge.example.com'],
    ['ed', 'ed25519', undefined, 'PRIVATE KEY', 'DNS:ed.example.com'],
  ])(
    '%s (%s key): the chain verifies to the lab root, SANs and key match',
    (name, keyType, curve, pemLabel, san) => {
      const secret = issued.find((s) => s.certificate === name)!;
      const [leafPem, intermediatePem, ...rest] = pemBlocks(secret.data['tls.crt']);
      expect(rest).toEqual([]);
      expect(intermediatePem).toBe(lab.intermediatePem);
      expect(opensslVerify(lab.rootPem, intermediatePem!, leafPem!)).toBe('leaf.pem: OK\n');
      const leaf = new X509Certificate(leafPem!);
      const intermediate = new X509Certificate(intermediatePem!);
      const root = new X509Certificate(lab.rootPem);
      expect(leaf.verify(intermediate.publicKey)).toBe(true);
      expect(intermediate.verify(root.publicKey)).toBe(true);
      expect(leaf.checkIssued(intermediate)).toBe(true);
      expect(leaf.subjectAltName).toBe(san);
      expect(leaf.ca).toBe(false);
      expect(leaf.issuer).toContain('kwire lab ACME intermediate R1');
      expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
      expect(secret.data['tls.key']).toContain(`-----BEGIN ${pemLabel}-----`);
      const key = createPrivateKey(secret.data['tls.key']);
      expect(key.asymmetricKeyType).toBe(keyType);
      expect(key.asymmetricKeyDetails?.namedCurve).toBe(curve);
      expect(leaf.checkPrivateKey(key)).toBe(true);
      const lifetime = Date.parse(secret.notAfter) - Date.parse(secret.notBefore);
      expect(lifetime).toBe(90 * 86_400_000);
      expect(Date.parse(secret.renewalTime)).toBe(Date.parse(secret.notAfter) - 30 * 86_400_000);
      expect(secret.directoryUrl).toBe(lab.directoryUrl);
    },
  );

  it('names itself as the lab CA the model means', () => {
    expect(LAB_ACME).toBe('kwire-lab-acme');
    expect(lab.directoryUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/directory$/);
  });
});

describe('issuers kwire cannot serve', () => {
  it('a Certificate whose solver is DNS-01 fails with the reason, without an order', async () => {
    const failures: IssueFailure[] = [];
    const issuer = createAcmeIssuer({
      mode: 'lab',
      lab,
      responder,
      onIssued: () => undefined,
      onFailed: (f) => failures.push(f),
    });
    const state = acmeModel(
      'https://acme-v02.api.letsencrypt.org/directory',
      [{ name: 'dns', dnsNames: ['dns.example.com'] }],
      new Date(),
      [{ dns01: { cloudflare: { apiTokenSecretRef: { name: 'cf', key: 'token' } } } }],
    );
    await issuer.sync(state);
    issuer.stop();
    expect(failures.map((f) => f.message)).toEqual([
      "the solvers of Issuer default/letsencrypt-prod pick DNS-01 for dns.example.com; kwire's ACME issuer presents HTTP-01 only",
    ]);
  });
});

describe('refusals', () => {
  const accountKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
  const client = () =>
    new acme.Client({
      directoryUrl: lab.directoryUrl,
      accountKey: accountKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      backoffMin: 20,
      backoffAttempts: 2,
    });

  it('a wrong key authorization makes the challenge, authorization and order invalid', async () => {
    const c = client();
    await c.createAccount({ termsOfServiceAgreed: true });
    const order = await c.createOrder({
      identifiers: [{ type: 'dns', value: 'wrong.example.com' }],
    });
    const [authz] = await c.getAuthorizations(order);
    const ch = authz!.challenges.find((x) => x.type === 'http-01')!;
    responder.set(ch.token, `${ch.token}.not-the-thumbprint`);
    const answered = await c.completeChallenge(ch);
    responder.delete(ch.token);
    expect(answered.status).toBe('invalid');
    expect(answered.error).toMatchObject({
      type: 'urn:ietf:params:acme:error:incorrectResponse',
      status: 403,
    });
    expect((answered.error as { detail?: string } | undefined)?.detail).toContain(
      'not-the-thumbprint',
    );
    expect((await c.getOrder(order)).status).toBe('invalid');
    const [again] = await c.getAuthorizations(order);
    expect(again!.status).toBe('invalid');
    const csr = await createCsr(
      generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey,
      ['wrong.example.com'],
      undefined,
    );
    await expect(c.finalizeOrder(order, csr)).rejects.toThrow(/the order is invalid, not ready/);
  });

  it('an unanswered challenge (404 at the proxy) is unauthorized', async () => {
    const c = client();
    await c.createAccount({ termsOfServiceAgreed: true });
    const order = await c.createOrder({
      identifiers: [{ type: 'dns', value: 'nobody.example.com' }],
    });
    const [authz] = await c.getAuthorizations(order);
    const answered = await c.completeChallenge(authz!.challenges[0]!);
    expect(answered.error).toMatchObject({ type: 'urn:ietf:params:acme:error:unauthorized' });
    expect((answered.error as { detail?: string } | undefined)?.detail).toContain('HTTP 404');
  });

  it('finalize with a CSR whose names differ from the order is badCSR', async () => {
    const c = client();
    await c.createAccount({ termsOfServiceAgreed: true });
    const order = await c.createOrder({
      identifiers: [{ type: 'dns', value: 'right.example.com' }],
    });
    const [authz] = await c.getAuthorizations(order);
    const ch = authz!.challenges[0]!;
    responder.set(ch.token, await c.getChallengeKeyAuthorization(ch));
    expect((await c.completeChallenge(ch)).status).toBe('valid');
    responder.delete(ch.token);
    expect((await c.getOrder(order)).status).toBe('ready');
    const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    await expect(
      c.finalizeOrder(
        order,
        await createCsr(key, ['right.example.com', 'other.example.com'], undefined),
      ),
    ).rejects.toThrow(/CSR names do not match the order: not in the order other\.example\.com/);
  });

  it.each([
    ['a wildcard', [{ type: 'dns', value: '*.example.com' }], /wildcard, which needs DNS-01/],
    [
      'an IP identifier',
      [{ type: 'ip', value: '192.0.2.1' }],
      /identifier type "ip" is not supported/,
    ],
  ])('newOrder refuses %s', async (_what, identifiers, error) => {
    const c = client();
    await c.createAccount({ termsOfServiceAgreed: true });
    await expect(c.createOrder({ identifiers })).rejects.toThrow(error);
  });

  describe('JWS and nonces', () => {
    const nonce = async (): Promise<string> => {
      const res = await httpsCall(
        lab.directoryUrl.replace('/directory', '/new-nonce'),
        lab.rootPem,
        { method: 'HEAD' },
      );
      expect(res.status).toBe(200);
      return String(res.headers['replay-nonce']);
    };
    const jws = (
      key: KeyObject,
      alg: string,
      header: Record<string, unknown>,
      payload: unknown,
    ): string => {
      const protectedB64 = Buffer.from(JSON.stringify({ alg, ...header })).toString('base64url');
      const payloadB64 =
        payload === undefined ? '' : Buffer.from(JSON.stringify(payload)).toString('base64url');
      const input = Buffer.from(`${protectedB64}.${payloadB64}`);
      const signature =
        alg === 'RS256'
          ? sign('sha256', input, key)
          : sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' });
      return JSON.stringify({
        protected: protectedB64,
        payload: payloadB64,
        signature: signature.toString('base64url'),
      });
    };
    const newAccountUrl = () => lab.directoryUrl.replace('/directory', '/new-account');

    it('the directory lists the resources and every response carries a Replay-Nonce', async () => {
      const res = await httpsCall(lab.directoryUrl, lab.rootPem);
      expect(JSON.parse(res.body)).toMatchObject({
        newNonce: expect.stringMatching(/\/new-nonce$/),
        newAccount: expect.stringMatching(/\/new-account$/),
        newOrder: expect.stringMatching(/\/new-order$/),
      });
      expect(res.headers['replay-nonce']).toMatch(/^[\w-]{22}$/);
    });

    it.each([
      ['ES256', () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey, 201],
      ['RS256', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, 201],
    ])(
      'newAccount accepts %s and answers 200 with the same URL for the same key',
      async (alg, make, status) => {
        const key = make();
        const jwk = key.export({ format: 'jwk' });
        const publicJwk =
          alg === 'RS256'
            ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
            : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
        const body = async () =>
          jws(
            key,
            alg,
            { nonce: await nonce(), url: newAccountUrl(), jwk: publicJwk },
            { termsOfServiceAgreed: true },
          );
        const first = await httpsCall(newAccountUrl(), lab.rootPem, {
          method: 'POST',
          body: await body(),
        });
        expect(first.status).toBe(status);
        const second = await httpsCall(newAccountUrl(), lab.rootPem, {
          method: 'POST',
          body: await body(),
        });
        expect(second.status).toBe(200);
        expect(second.headers.location).toBe(first.headers.location);
      },
    );

    const problemCases: [
      string,
      (
        k: KeyObject,
        jwk: unknown,
      ) => Promise<{ body: string; contentType?: string; target?: string }>,
      string,
      number,
    ][] = [
      [
        'a reused nonce',
        async (k, jwk) => {
          const n = await nonce();
          await httpsCall(newAccountUrl(), lab.rootPem, {
            method: 'POST',
            body: jws(k, 'ES256', { nonce: n, url: newAccountUrl(), jwk }, {}),
          });
          return { body: jws(k, 'ES256', { nonce: n, url: newAccountUrl(), jwk }, {}) };
        },
        'badNonce',
        400,
      ],
      [
        'an invented nonce',
        (k, jwk) =>
          Promise.resolve({
            body: jws(k, 'ES256', { nonce: 'made-up', url: newAccountUrl(), jwk }, {}),
          }),
        'badNonce',
        400,
      ],
      [
        'HS256',
        async (k, jwk) => ({
          body: jws(k, 'ES256', { nonce: await nonce(), url: newAccountUrl(), jwk }, {}).replace(
            /"protected":"[^"]+"/,
            `"protected":"${Buffer.from(JSON.stringify({ alg: 'HS256', nonce: 'x', url: newAccountUrl(), jwk })).toString('base64url')}"`,
          ),
        }),
        'badSignatureAlgorithm',
        400,
      ],
      [
        'a signature by another key',
        async (_k, jwk) => ({
          body: jws(
            generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey,
            'ES256',
            { nonce: await nonce(), url: newAccountUrl(), jwk },
            {},
          ),
        }),
        'malformed',
        400,
      ],
      [
        'a url that is not the request URL',
        async (k, jwk) => ({
          body: jws(
            k,
            'ES256',
            { nonce: await nonce(), url: 'https://elsewhere/new-account', jwk },
            {},
          ),
        }),
        'unauthorized',
        403,
      ],
      [
        'a kid of no account',
        async (k) => ({
          target: lab.directoryUrl.replace('/directory', '/new-order'),
          body: jws(
            k,
            'ES256',
            {
              nonce: await nonce(),
              url: lab.directoryUrl.replace('/directory', '/new-order'),
              kid: lab.directoryUrl.replace('/directory', '/acct/nope'),
            },
            {},
          ),
        }),
        'accountDoesNotExist',
        400,
      ],
      [
        'a non-JOSE content type',
        async (k, jwk) => ({
          body: jws(k, 'ES256', { nonce: await nonce(), url: newAccountUrl(), jwk }, {}),
          contentType: 'application/json',
        }),
        'malformed',
        415,
      ],
    ];

    it.each(problemCases)(
      '%s is refused with a problem document',
      async (_what, build, type, status) => {
        const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
        const full = key.export({ format: 'jwk' });
        const {
          body,
          contentType,
          target = newAccountUrl(),
        } = await build(key, { crv: full.crv, kty: full.kty, x: full.x, y: full.y });
        const res = await httpsCall(target, lab.rootPem, {
          method: 'POST',
          body,
          ...(contentType ? { contentType } : {}),
        });
        expect(res.status).toBe(status);
        expect(res.headers['content-type']).toBe('application/problem+json');
        expect(res.headers['replay-nonce']).toBeTruthy();
        expect(JSON.parse(res.body)).toMatchObject({
          type: `urn:ietf:params:acme:error:${type}`,
          status,
        });
      },
    );
  });
});
