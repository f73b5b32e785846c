/**
 * Private keys and CSRs for ACME orders, from a Certificate's `spec.privateKey` (RSA, ECDSA,
 * Ed25519): keys from `node:crypto`, the PKCS#10 request built and signed with `@peculiar/x509`.
 */
import 'reflect-metadata';
import { createPublicKey, generateKeyPair, webcrypto, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { PrivateKeyState } from '../../controllers/certmanager/index.js';

/** A fresh private key as `spec.privateKey` asks (random; never derived from a seed). */
export function generatePrivateKey(spec: PrivateKeyState): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, _publicKey: KeyObject, privateKey: KeyObject): void => {
      if (err) reject(err);
      else resolve(privateKey);
    };
    switch (spec.algorithm) {
      case 'RSA':
        generateKeyPair('rsa', { modulusLength: spec.size }, done);
        return;
      case 'ECDSA':
        generateKeyPair('ec', { namedCurve: EC_CURVES[spec.size]?.openssl ?? 'prime256v1' }, done);
        return;
      case 'Ed25519':
        generateKeyPair('ed25519', {}, done);
        return;
    }
  });
}

const EC_CURVES: Readonly<Record<number, { openssl: string; jwk: string; hash: string }>> = {
  256: { openssl: 'prime256v1', jwk: 'P-256', hash: 'SHA-256' },
  384: { openssl: 'secp384r1', jwk: 'P-384', hash: 'SHA-384' },
  521: { openssl: 'secp521r1', jwk: 'P-521', hash: 'SHA-512' },
};

/** `tls.key` as cert-manager writes it: PKCS#1 (RSA) or SEC 1 (ECDSA) by default, PKCS#8 on request. */
export function privateKeyPem(key: KeyObject, encoding: 'PKCS1' | 'PKCS8'): string {
  const kind = key.asymmetricKeyType;
  if (encoding === 'PKCS1' && kind === 'rsa') {
    return key.export({ type: 'pkcs1', format: 'pem' }).toString();
  }
  if (encoding === 'PKCS1' && kind === 'ec') {
    return key.export({ type: 'sec1', format: 'pem' }).toString();
  }
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** A PEM PKCS#10 request for `dnsNames` (and `commonName`, if set) signed by `key`. */
export async function createCsr(
  key: KeyObject,
  dnsNames: readonly string[],
  commonName: string | undefined,
): Promise<string> {
  const { importAlgorithm, signingAlgorithm } = webCryptoAlgorithms(key);
  const privateKey = await webcrypto.subtle.importKey(
    'pkcs8',
    key.export({ type: 'pkcs8', format: 'der' }),
    importAlgorithm,
    false,
    ['sign'],
  );
  const publicKey = await webcrypto.subtle.importKey(
    'spki',
    createPublicKey(key).export({ type: 'spki', format: 'der' }),
    importAlgorithm,
    true,
    ['verify'],
  );
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: commonName === undefined ? [] : [{ CN: [commonName] }],
    keys: { privateKey, publicKey },
    signingAlgorithm,
    extensions: [
      new x509.SubjectAlternativeNameExtension(
        dnsNames.map((value) => ({ type: 'dns' as const, value })),
      ),
    ],
  });
  return csr.toString('pem');
}

function webCryptoAlgorithms(key: KeyObject): {
  importAlgorithm:
    webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams | webcrypto.Algorithm;
  signingAlgorithm: webcrypto.Algorithm | webcrypto.EcdsaParams;
} {
  const kind = key.asymmetricKeyType;
  if (kind === 'rsa') {
    return {
      importAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' },
    };
  }
  if (kind === 'ec') {
    const curve = Object.values(EC_CURVES).find(
      (c) => c.openssl === key.asymmetricKeyDetails?.namedCurve,
    );
    if (!curve)
      throw new Error(`unsupported EC curve ${String(key.asymmetricKeyDetails?.namedCurve)}`);
    return {
      importAlgorithm: { name: 'ECDSA', namedCurve: curve.jwk },
      signingAlgorithm: { name: 'ECDSA', hash: curve.hash },
    };
  }
  if (kind === 'ed25519') {
    return { importAlgorithm: { name: 'Ed25519' }, signingAlgorithm: { name: 'Ed25519' } };
  }
  throw new Error(`cannot make a CSR with a ${String(kind)} key`);
}
