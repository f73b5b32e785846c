/**
 * Signatures over a TBSCertificate. RSA PKCS#1 v1.5 and Ed25519 are deterministic in node:crypto
 * already; ECDSA is signed here with RFC 6979 deterministic nonces (HMAC-DRBG over the private
 * scalar and the message hash), with the nonce's point k·G computed by OpenSSL through ECDH. So
 * the same key and message always give the same signature, seeded or not, and the signatures
 * verify with any ECDSA verifier.
 */
import { createECDH, createHash, createHmac, sign } from 'node:crypto';
import { algorithmIdentifier, bigintToBytes, bytesToBigint, integer, sequence } from './der.js';
import { curveOf, ecPrivateScalar, modInverse, type Curve, type KeyPair } from './keys.js';

/** A signature and the AlgorithmIdentifier (DER) that names it. */
export interface Signature {
  readonly algorithm: Buffer;
  readonly value: Buffer;
}

/** The AlgorithmIdentifier a key signs with: sha256WithRSAEncryption, ecdsa-with-SHAnnn, Ed25519. */
export function signatureAlgorithmOf(key: KeyPair): Buffer {
  switch (key.spec.algorithm) {
    case 'RSA':
      return algorithmIdentifier('1.2.840.113549.1.1.11', true);
    case 'ECDSA':
      return algorithmIdentifier(requireCurve(key).signatureOid, false);
    case 'Ed25519':
      return algorithmIdentifier('1.3.101.112', false);
  }
}

/** Signs `data` with the key, deterministically. */
export function signData(key: KeyPair, data: Buffer): Signature {
  const algorithm = signatureAlgorithmOf(key);
  switch (key.spec.algorithm) {
    case 'RSA':
      return { algorithm, value: sign('sha256', data, key.privateKey) };
    case 'Ed25519':
      return { algorithm, value: sign(null, data, key.privateKey) };
    case 'ECDSA': {
      const curve = requireCurve(key);
      return { algorithm, value: ecdsaSignRfc6979(curve, scalarOf(key), data) };
    }
  }
}

const scalars = new WeakMap<KeyPair, bigint>();

function scalarOf(key: KeyPair): bigint {
  let d = scalars.get(key);
  if (d === undefined) {
    d = ecPrivateScalar(key.privateKey);
    scalars.set(key, d);
  }
  return d;
}

function requireCurve(key: KeyPair): Curve {
  const curve = curveOf(key.spec.size);
  if (!curve) throw new RangeError(`ECDSA key size ${key.spec.size} is not one of 256, 384, 521`);
  return curve;
}

/** ECDSA over `message` with the nonce of RFC 6979 §3.2; returns the DER `Ecdsa-Sig-Value`. */
export function ecdsaSignRfc6979(curve: Curve, d: bigint, message: Buffer): Buffer {
  const { n, bits: qlen, hash } = curve;
  const rlen = Math.ceil(qlen / 8);
  const bits2int = (bytes: Buffer): bigint => {
    const value = bytesToBigint(bytes);
    const blen = bytes.length * 8;
    return blen > qlen ? value >> BigInt(blen - qlen) : value;
  };
  const h1 = createHash(hash).update(message).digest();
  const z = bits2int(h1);
  const hmac = (key: Buffer, ...parts: Buffer[]): Buffer => {
    const mac = createHmac(hash, key);
    for (const part of parts) mac.update(part);
    return mac.digest();
  };
  const x = bigintToBytes(d, rlen);
  const h1Octets = bigintToBytes(z % n, rlen);
  const hlen = h1.length;
  let v: Buffer = Buffer.alloc(hlen, 0x01);
  let k: Buffer = Buffer.alloc(hlen, 0x00);
  k = hmac(k, v, Buffer.from([0x00]), x, h1Octets);
  v = hmac(k, v);
  k = hmac(k, v, Buffer.from([0x01]), x, h1Octets);
  v = hmac(k, v);
  const ecdh = createECDH(curve.opensslName);
  for (;;) {
    let t: Buffer = Buffer.alloc(0);
    while (t.length < rlen) {
      v = hmac(k, v);
      t = Buffer.concat([t, v]);
    }
    const nonce = bits2int(t.subarray(0, rlen));
    if (nonce >= 1n && nonce < n) {
      ecdh.setPrivateKey(bigintToBytes(nonce, curve.byteLength));
      const point = ecdh.getPublicKey();
      const r = bytesToBigint(point.subarray(1, 1 + curve.byteLength)) % n;
      const s = (modInverse(nonce, n) * (z + r * d)) % n;
      if (r !== 0n && s !== 0n) return sequence(integer(r), integer(s));
    }
    k = hmac(k, v, Buffer.from([0x00]));
    v = hmac(k, v);
  }
}
