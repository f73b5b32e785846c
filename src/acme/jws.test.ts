import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  JwsError,
  jwkThumbprint,
  keyAuthorization,
  parseJws,
  publicKeyOfJwk,
  verifyJws,
} from './jws.js';

/** A flattened JWS over `payload` signed by `key` with `alg`, the header given. */
function flattened(
  key: KeyObject,
  alg: string,
  hash: string,
  header: Record<string, unknown>,
  payload: unknown,
): string {
  const p = Buffer.from(JSON.stringify({ alg, ...header })).toString('base64url');
  const body =
    payload === undefined ? '' : Buffer.from(JSON.stringify(payload)).toString('base64url');
  const input = Buffer.from(`${p}.${body}`);
  const signature = alg.startsWith('RS')
    ? sign(hash, input, key)
    : sign(hash, input, { key, dsaEncoding: 'ieee-p1363' });
  return JSON.stringify({
    protected: p,
    payload: body,
    signature: signature.toString('base64url'),
  });
}

describe('RFC 7638 thumbprints', () => {
  it('reproduces the RSA example of RFC 7638 §3.1', () => {
    const jwk = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    };
    expect(jwkThumbprint(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
    expect(keyAuthorization('tok', jwk)).toBe('tok.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it('ignores members outside the required set for EC keys', () => {
    const jwk = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({
      format: 'jwk',
    });
    expect(jwkThumbprint({ ...jwk, use: 'sig', kid: 'x' })).toBe(jwkThumbprint(jwk));
  });
});

describe('JWS verification', () => {
  const cases: [string, string, () => KeyObject][] = [
    ['ES256', 'sha256', () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey],
    ['ES384', 'sha384', () => generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey],
    ['ES512', 'sha512', () => generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).privateKey],
    ['RS256', 'sha256', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey],
  ];
  it.each(cases)(
    '%s: a good signature verifies, a tampered payload does not',
    (alg, hash, make) => {
      const key = make();
      const jwk = key.export({ format: 'jwk' });
      delete jwk.d;
      delete jwk.p;
      delete jwk.q;
      delete jwk.dp;
      delete jwk.dq;
      delete jwk.qi;
      const text = flattened(
        key,
        alg,
        hash,
        { nonce: 'n1', url: 'https://ca/new-account', jwk },
        { termsOfServiceAgreed: true },
      );
      const jws = parseJws(text);
      expect(jws.payload).toEqual({ termsOfServiceAgreed: true });
      expect(verifyJws(jws, publicKeyOfJwk(jws.header.jwk!))).toBe(true);
      const outer = JSON.parse(text) as { payload: string };
      outer.payload = Buffer.from('{"termsOfServiceAgreed":false}').toString('base64url');
      expect(verifyJws(parseJws(JSON.stringify(outer)), publicKeyOfJwk(jws.header.jwk!))).toBe(
        false,
      );
    },
  );

  it('refuses an ES256 header over a P-384 key', () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey;
    const jws = parseJws(
      flattened(key, 'ES256', 'sha256', { nonce: 'n', url: 'u', kid: 'k' }, undefined),
    );
    expect(jws.payload).toBeUndefined();
    expect(verifyJws(jws, key)).toBe(false);
  });

  it.each([
    ['not JSON', 'nope', 'malformed'],
    ['no signature', JSON.stringify({ protected: 'e30', payload: '' }), 'malformed'],
    [
      'HS256',
      JSON.stringify({
        protected: Buffer.from('{"alg":"HS256","nonce":"n","url":"u","kid":"k"}').toString(
          'base64url',
        ),
        payload: '',
        signature: '',
      }),
      'badSignatureAlgorithm',
    ],
    [
      'both jwk and kid',
      JSON.stringify({
        protected: Buffer.from('{"alg":"ES256","nonce":"n","url":"u","kid":"k","jwk":{}}').toString(
          'base64url',
        ),
        payload: '',
        signature: '',
      }),
      'malformed',
    ],
  ])('refuses %s', (_what, text, type) => {
    expect(() => parseJws(text)).toThrow(JwsError);
    try {
      parseJws(text);
    } catch (err) {
      expect((err as JwsError).type).toBe(type);
    }
  });

  it('refuses a JWK carrying a private key', () => {
    const jwk = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
      format: 'jwk',
    });
    expect(() => publicKeyOfJwk(jwk)).toThrow(/private key/);
  });
});
