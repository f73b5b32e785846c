/**
 * The JOSE pieces an ACME server needs (RFC 7515 flattened JSON serialization, RFC 7638
 * thumbprints, RFC 8555 §6.2 header rules), verified with `node:crypto`.
 */
import { createHash, createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';

/** JWS algorithms the lab ACME CA accepts, with the digest and key each needs. */
export const JWS_ALGORITHMS = {
  ES256: { hash: 'sha256', kty: 'EC', crv: 'P-256' },
  ES384: { hash: 'sha384', kty: 'EC', crv: 'P-384' },
  ES512: { hash: 'sha512', kty: 'EC', crv: 'P-521' },
  RS256: { hash: 'sha256', kty: 'RSA', crv: undefined },
} as const;

/** A JWS algorithm name the lab ACME CA verifies. */
export type JwsAlgorithm = keyof typeof JWS_ALGORITHMS;

/** The protected header of an ACME request. */
export interface AcmeProtectedHeader {
  readonly alg: JwsAlgorithm;
  readonly nonce: string;
  readonly url: string;
  /** Present on newAccount: the account's public key. */
  readonly jwk?: JsonWebKey;
  /** Present on every other request: the account URL. */
  readonly kid?: string;
}

/** A parsed, not yet verified, flattened JWS. */
export interface ParsedJws {
  readonly header: AcmeProtectedHeader;
  /** The decoded payload; `undefined` for POST-as-GET (empty payload). */
  readonly payload: unknown;
  readonly signingInput: Buffer;
  readonly signature: Buffer;
}

/** Why a JWS was refused: the ACME error type to answer with and a sentence for people. */
export class JwsError extends Error {
  /** @param type the `urn:ietf:params:acme:error:` suffix */
  constructor(
    readonly type: 'malformed' | 'badSignatureAlgorithm' | 'unauthorized',
    message: string,
  ) {
    super(message);
    this.name = 'JwsError';
  }
}

/** Parses a flattened JWS body and checks its protected header's shape (not the signature). */
export function parseJws(body: string): ParsedJws {
  let outer: unknown;
  try {
    outer = JSON.parse(body);
  } catch {
    throw new JwsError('malformed', 'the request body is not JSON');
  }
  if (!isRecord(outer)) throw new JwsError('malformed', 'the request body is not a JWS object');
  const { protected: protectedB64, payload: payloadB64, signature: signatureB64 } = outer;
  if (
    typeof protectedB64 !== 'string' ||
    typeof payloadB64 !== 'string' ||
    typeof signatureB64 !== 'string'
  ) {
    throw new JwsError(
      'malformed',
      'a flattened JWS needs string "protected", "payload" and "signature" members',
    );
  }
  const header = decodeJson(protectedB64, 'protected header');
  if (!isRecord(header)) throw new JwsError('malformed', 'the protected header is not an object');
  const alg = header['alg'];
  if (typeof alg !== 'string' || !(alg in JWS_ALGORITHMS)) {
    throw new JwsError(
      'badSignatureAlgorithm',
      `the JWS algorithm ${JSON.stringify(alg)} is not supported; use one of ${Object.keys(JWS_ALGORITHMS).join(', ')}`,
    );
  }
  const { nonce, url, jwk, kid } = header;
  if (typeof nonce !== 'string' || nonce === '') {
    throw new JwsError('malformed', 'the protected header has no "nonce"');
  }
  if (typeof url !== 'string') throw new JwsError('malformed', 'the protected header has no "url"');
  if ((jwk === undefined) === (kid === undefined)) {
    throw new JwsError('malformed', 'the protected header needs exactly one of "jwk" and "kid"');
  }
  if (jwk !== undefined && !isRecord(jwk))
    throw new JwsError('malformed', '"jwk" is not an object');
  if (kid !== undefined && typeof kid !== 'string')
    throw new JwsError('malformed', '"kid" is not a string');
  return {
    header: {
      alg: alg as JwsAlgorithm,
      nonce,
      url,
      ...(jwk === undefined ? {} : { jwk }),
      ...(kid === undefined ? {} : { kid }),
    },
    payload: payloadB64 === '' ? undefined : decodeJson(payloadB64, 'payload'),
    signingInput: Buffer.from(`${protectedB64}.${payloadB64}`, 'ascii'),
    signature: Buffer.from(signatureB64, 'base64url'),
  };
}

/** Turns a public JWK into a key, refusing private keys and kinds ACME accounts do not use. */
export function publicKeyOfJwk(jwk: JsonWebKey): KeyObject {
  if (jwk.d !== undefined) throw new JwsError('malformed', 'the JWK contains a private key');
  if (jwk.kty !== 'EC' && jwk.kty !== 'RSA') {
    throw new JwsError(
      'badSignatureAlgorithm',
      `JWK key type ${JSON.stringify(jwk.kty)} is not supported`,
    );
  }
  try {
    return createPublicKey({ key: jwk, format: 'jwk' });
  } catch (cause) {
    throw new JwsError('malformed', `the JWK is not a valid public key: ${String(cause)}`);
  }
}

/** Verifies a JWS signature with `key`; the algorithm must fit the key (ES256 needs P-256, …). */
export function verifyJws(jws: ParsedJws, key: KeyObject): boolean {
  const spec = JWS_ALGORITHMS[jws.header.alg];
  const details = key.asymmetricKeyDetails ?? {};
  if (spec.kty === 'RSA') {
    if (key.asymmetricKeyType !== 'rsa') return false;
    return verify(spec.hash, jws.signingInput, key, jws.signature);
  }
  if (key.asymmetricKeyType !== 'ec' || curveName(details.namedCurve) !== spec.crv) return false;
  return verify(spec.hash, jws.signingInput, { key, dsaEncoding: 'ieee-p1363' }, jws.signature);
}

/** The required members of each key type, in lexicographic order (RFC 7638 §3.2). */
const THUMBPRINT_MEMBERS: Readonly<Record<string, (jwk: JsonWebKey) => Record<string, unknown>>> = {
  EC: (jwk) => ({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }),
  RSA: (jwk) => ({ e: jwk.e, kty: jwk.kty, n: jwk.n }),
  OKP: (jwk) => ({ crv: jwk.crv, kty: jwk.kty, x: jwk.x }),
};

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of an EC, RSA or OKP public key. */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const members = THUMBPRINT_MEMBERS[jwk.kty ?? '']?.(jwk);
  if (!members) {
    throw new JwsError('malformed', `JWK key type ${JSON.stringify(jwk.kty)} has no thumbprint`);
  }
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** The RFC 8555 §8.1 key authorization of a token for an account key. */
export function keyAuthorization(token: string, jwk: JsonWebKey): string {
  return `${token}.${jwkThumbprint(jwk)}`;
}

const CURVE_NAMES: Readonly<Record<string, string>> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

function curveName(opensslName: string | undefined): string | undefined {
  return opensslName === undefined ? undefined : CURVE_NAMES[opensslName];
}

function decodeJson(b64: string, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(b64, 'base64url').toString('utf8'));
  } catch {
    throw new JwsError('malformed', `the JWS ${what} is not base64url-encoded JSON`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
