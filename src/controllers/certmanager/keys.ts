/**
 * Private keys for issued certificates: random (node:crypto) or derived from a seed and the
 * certificate's identity, so a seeded run produces byte-identical keys. Keys are cached by identity
 * for the life of the process, so RSA primes are searched once.
 *
 * Seeded derivation: HMAC-SHA256(seed, identity ‖ counter) is the byte stream. Ed25519 uses 32
 * bytes of it as the private seed (PKCS#8); ECDSA reduces 8 extra bytes' worth of it into
 * [1, n−1] and lets OpenSSL compute the public point (ECDH); RSA searches primes upward from
 * stream-drawn odd starting points with OpenSSL's `checkPrimeSync`.
 */
import {
  checkPrimeSync,
  createECDH,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { bigintToBytes, bytesToBigint } from './der.js';

/** cert-manager's private key algorithms. */
import type { KeyAlgorithm } from '../../model/certmanager.js';
export type { KeyAlgorithm };

/** What key to make: algorithm and size (RSA modulus bits, ECDSA curve bits; 0 for Ed25519). */
export interface KeySpec {
  readonly algorithm: KeyAlgorithm;
  readonly size: number;
}

/** A key pair with its DER SubjectPublicKeyInfo. */
export interface KeyPair {
  readonly spec: KeySpec;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly spki: Buffer;
}

/** One NIST curve as ECDSA needs it. */
export interface Curve {
  readonly bits: 256 | 384 | 521;
  readonly opensslName: string;
  readonly jwkName: string;
  /** Order of the base point. */
  readonly n: bigint;
  /** Bytes of a field element / scalar. */
  readonly byteLength: number;
  readonly hash: 'sha256' | 'sha384' | 'sha512';
  readonly signatureOid: string;
}

/** P-256, P-384 and P-521 by key size. */
export const CURVES: Readonly<Record<256 | 384 | 521, Curve>> = {
  256: {
    bits: 256,
    opensslName: 'prime256v1',
    jwkName: 'P-256',
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    byteLength: 32,
    hash: 'sha256',
    signatureOid: '1.2.840.10045.4.3.2',
  },
  384: {
    bits: 384,
    opensslName: 'secp384r1',
    jwkName: 'P-384',
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    byteLength: 48,
    hash: 'sha384',
    signatureOid: '1.2.840.10045.4.3.3',
  },
  521: {
    bits: 521,
    opensslName: 'secp521r1',
    jwkName: 'P-521',
    n: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
    byteLength: 66,
    hash: 'sha512',
    signatureOid: '1.2.840.10045.4.3.4',
  },
};

/** The curve of an ECDSA key size, if it is one of 256, 384, 521. */
export function curveOf(size: number): Curve | undefined {
  return size === 256 || size === 384 || size === 521 ? CURVES[size] : undefined;
}

const cache = new Map<string, KeyPair>();

/** Forgets every cached key (tests use it to show that seeded keys are rebuilt identically). */
export function clearKeyCache(): void {
  cache.clear();
}

/**
 * The key for `identity`: derived from `seed` when given, random otherwise; the same call in the
 * same process returns the same key.
 */
export function keyFor(spec: KeySpec, identity: string, seed?: string): KeyPair {
  const cacheKey = `${seed === undefined ? 'random' : `seed:${seed}`}|${identity}|${spec.algorithm}|${spec.size}`;
  const cached = cache.get(cacheKey);
  if (cached) return cached;
  const privateKey =
    seed === undefined
      ? randomPrivateKey(spec)
      : derivedPrivateKey(spec, new ByteStream(seed, identity));
  const pair = keyPairOf(spec, privateKey);
  cache.set(cacheKey, pair);
  return pair;
}

/** Wraps an existing private key (a CA Secret's, or a Secret's key reused under rotationPolicy Never). */
export function keyPairOf(spec: KeySpec, privateKey: KeyObject): KeyPair {
  const publicKey = createPublicKey(privateKey);
  return { spec, privateKey, publicKey, spki: publicKey.export({ type: 'spki', format: 'der' }) };
}

/** The algorithm and size of a key read from a Secret, or undefined for kinds cert-manager does not issue. */
export function specOfKey(key: KeyObject): KeySpec | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { algorithm: 'RSA', size: details.modulusLength ?? 0 };
    case 'ec': {
      const curve = Object.values(CURVES).find((c) => c.opensslName === details.namedCurve);
      return curve ? { algorithm: 'ECDSA', size: curve.bits } : undefined;
    }
    case 'ed25519':
      return { algorithm: 'Ed25519', size: 0 };
    case 'dsa':
    case 'ed448':
    case 'rsa-pss':
    case 'x25519':
    case 'x448':
    case undefined:
      return undefined;
  }
}

/** PEM of a private key as cert-manager writes `tls.key`: PKCS#1/SEC1 by default, PKCS#8 on request. */
export function privateKeyPem(pair: KeyPair, encoding: 'PKCS1' | 'PKCS8'): string {
  if (encoding === 'PKCS8' || pair.spec.algorithm === 'Ed25519') {
    return pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }
  const type = pair.spec.algorithm === 'RSA' ? 'pkcs1' : 'sec1';
  return pair.privateKey.export({ type, format: 'pem' }).toString();
}

/** The private scalar of an EC key. */
export function ecPrivateScalar(key: KeyObject): bigint {
  const jwk = key.export({ format: 'jwk' });
  return bytesToBigint(Buffer.from(jwk.d ?? '', 'base64url'));
}

/** Deterministic bytes: HMAC-SHA256(seed, label ‖ identity ‖ counter), block after block. */
export class ByteStream {
  private counter = 0;
  constructor(
    private readonly seed: string,
    private readonly label: string,
  ) {}

  /** The next `length` bytes of the stream. */
  next(length: number): Buffer {
    const blocks: Buffer[] = [];
    let have = 0;
    while (have < length) {
      const block = createHmac('sha256', this.seed)
        .update(`${this.label}\u0000${this.counter}`)
        .digest();
      this.counter += 1;
      blocks.push(block);
      have += block.length;
    }
    return Buffer.concat(blocks).subarray(0, length);
  }
}

function randomPrivateKey(spec: KeySpec): KeyObject {
  switch (spec.algorithm) {
    case 'RSA':
      return generateKeyPairSync('rsa', { modulusLength: spec.size, publicExponent: 65537 })
        .privateKey;
    case 'ECDSA':
      return generateKeyPairSync('ec', { namedCurve: requireCurve(spec.size).opensslName })
        .privateKey;
    case 'Ed25519':
      return generateKeyPairSync('ed25519').privateKey;
  }
}

function derivedPrivateKey(spec: KeySpec, stream: ByteStream): KeyObject {
  switch (spec.algorithm) {
    case 'Ed25519': {
      const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
      return createPrivateKey({
        key: Buffer.concat([pkcs8Prefix, stream.next(32)]),
        format: 'der',
        type: 'pkcs8',
      });
    }
    case 'ECDSA': {
      const curve = requireCurve(spec.size);
      const d = (bytesToBigint(stream.next(curve.byteLength + 8)) % (curve.n - 1n)) + 1n;
      return ecPrivateKeyFromScalar(curve, d);
    }
    case 'RSA':
      return rsaPrivateKeyFromStream(spec.size, stream);
  }
}

/** An EC private key from its scalar; OpenSSL computes the public point. */
export function ecPrivateKeyFromScalar(curve: Curve, d: bigint): KeyObject {
  const ecdh = createECDH(curve.opensslName);
  const dBytes = bigintToBytes(d, curve.byteLength);
  ecdh.setPrivateKey(dBytes);
  const point = ecdh.getPublicKey();
  const x = point.subarray(1, 1 + curve.byteLength);
  const y = point.subarray(1 + curve.byteLength);
  return createPrivateKey({
    key: {
      kty: 'EC',
      crv: curve.jwkName,
      d: dBytes.toString('base64url'),
      x: x.toString('base64url'),
      y: y.toString('base64url'),
    },
    format: 'jwk',
  });
}

const E = 65537n;

function rsaPrivateKeyFromStream(bits: number, stream: ByteStream): KeyObject {
  const half = Math.ceil(bits / 2);
  const p = seededPrime(half, stream);
  let q = seededPrime(bits - half, stream);
  while (q === p) q = seededPrime(bits - half, stream);
  const [big, small] = p > q ? [p, q] : [q, p];
  const n = big * small;
  const lambda = lcm(big - 1n, small - 1n);
  const d = modInverse(E, lambda);
  const b64 = (v: bigint): string =>
    bigintToBytes(v, Math.ceil(v.toString(16).length / 2)).toString('base64url');
  return createPrivateKey({
    key: {
      kty: 'RSA',
      n: b64(n),
      e: b64(E),
      d: b64(d),
      p: b64(big),
      q: b64(small),
      dp: b64(d % (big - 1n)),
      dq: b64(d % (small - 1n)),
      qi: b64(modInverse(small, big)),
    },
    format: 'jwk',
  });
}

function seededPrime(bits: number, stream: ByteStream): bigint {
  const top = 3n << BigInt(bits - 2);
  const mask = (1n << BigInt(bits)) - 1n;
  const draw = (): bigint => (bytesToBigint(stream.next(Math.ceil(bits / 8))) & mask) | top | 1n;
  let candidate = draw();
  for (;;) {
    if (candidate % E !== 1n && checkPrimeSync(candidate)) return candidate;
    candidate += 2n;
    if (candidate > mask) candidate = draw();
  }
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function lcm(a: bigint, b: bigint): bigint {
  return (a / gcd(a, b)) * b;
}

/** a⁻¹ mod m (extended Euclid); a and m coprime. */
export function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [((a % m) + m) % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const quotient = oldR / r;
    [oldR, r] = [r, oldR - quotient * r];
    [oldS, s] = [s, oldS - quotient * s];
  }
  return ((oldS % m) + m) % m;
}

function requireCurve(size: number): Curve {
  const curve = curveOf(size);
  if (!curve) throw new RangeError(`ECDSA key size ${size} is not one of 256, 384, 521`);
  return curve;
}
