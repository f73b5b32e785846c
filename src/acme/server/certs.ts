/**
 * Certificates the lab ACME CA signs with the model's lab intermediate (`labCA()`): leaves for
 * finalized orders and the lab server's own HTTPS certificate. `@peculiar/x509` builds them,
 * WebCrypto signs, and the issuer name is copied byte for byte from the intermediate.
 */
import 'reflect-metadata';
import { createPublicKey, generateKeyPairSync, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { labCA } from '../../controllers/certmanager/index.js';

/** The lab chain and the key that signs with it. */
export interface LabSigner {
  readonly rootPem: string;
  readonly intermediatePem: string;
  readonly intermediate: x509.X509Certificate;
  readonly signingKey: webcrypto.CryptoKey;
  readonly signingAlgorithm: EcdsaParams;
}

type EcdsaParams = webcrypto.EcdsaParams;

/** What a leaf says. */
export interface LeafRequest {
  /** SubjectPublicKeyInfo of the key being certified (from the CSR). */
  readonly publicKey: x509.PublicKey;
  readonly dnsNames: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly commonName?: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

let signer: Promise<LabSigner> | undefined;

/** The lab signer, made once per process. */
export function labSigner(): Promise<LabSigner> {
  signer ??= makeSigner();
  return signer;
}

async function makeSigner(): Promise<LabSigner> {
  const ca = labCA();
  const { spec, privateKey } = ca.intermediate.key;
  const namedCurve = spec.algorithm === 'ECDSA' ? CURVE_NAMES[spec.size] : undefined;
  if (namedCurve === undefined) {
    throw new Error(`the lab intermediate key is ${spec.algorithm} ${spec.size}, expected ECDSA`);
  }
  const signingKey = await webcrypto.subtle.importKey(
    'pkcs8',
    privateKey.export({ type: 'pkcs8', format: 'der' }),
    { name: 'ECDSA', namedCurve },
    false,
    ['sign'],
  );
  const intermediate = new x509.X509Certificate(ca.intermediate.der);
  return {
    rootPem: new x509.X509Certificate(ca.root.der).toString('pem') + '\n',
    intermediatePem: intermediate.toString('pem') + '\n',
    intermediate,
    signingKey,
    signingAlgorithm: { name: 'ECDSA', hash: HASH_OF_CURVE[namedCurve] ?? 'SHA-256' },
  };
}

const CURVE_NAMES: Readonly<Record<number, string>> = { 256: 'P-256', 384: 'P-384', 521: 'P-521' };
const HASH_OF_CURVE: Readonly<Record<string, string>> = {
  'P-256': 'SHA-256',
  'P-384': 'SHA-384',
  'P-521': 'SHA-512',
};

const EC_KEY_USAGE = new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true);
const RSA_KEY_USAGE = new x509.KeyUsagesExtension(
  x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
  true,
);

/** Signs a TLS server leaf with the lab intermediate; returns its PEM. */
export async function signLeaf(request: LeafRequest): Promise<string> {
  const lab = await labSigner();
  const rsa =
    createPublicKey({ key: Buffer.from(request.publicKey.rawData), format: 'der', type: 'spki' })
      .asymmetricKeyType === 'rsa';
  const names: x509.JsonGeneralName[] = [
    ...request.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...(request.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const aki = lab.intermediate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject: request.commonName === undefined ? [] : [{ CN: [request.commonName] }],
    issuer: lab.intermediate.subjectName,
    notBefore: request.notBefore,
    notAfter: request.notAfter,
    publicKey: request.publicKey,
    signingKey: lab.signingKey,
    signingAlgorithm: lab.signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      rsa ? RSA_KEY_USAGE : EC_KEY_USAGE,
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      await x509.SubjectKeyIdentifierExtension.create(request.publicKey),
      ...(aki === undefined ? [] : [new x509.AuthorityKeyIdentifierExtension(aki)]),
      new x509.SubjectAlternativeNameExtension(names, request.commonName === undefined),
    ],
  });
  return cert.toString('pem') + '\n';
}

/** A certificate and key for the lab server's own HTTPS listener (chain: leaf + intermediate). */
export async function serverCertificate(
  host: string,
  now: Date,
): Promise<{ readonly cert: string; readonly key: string }> {
  const lab = await labSigner();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ip = /^[\d.]+$/.test(host) || host.includes(':');
  const leaf = await signLeaf({
    publicKey: new x509.PublicKey(publicKey.export({ type: 'spki', format: 'der' })),
    dnsNames: ip ? ['localhost'] : [host, 'localhost'],
    ipAddresses: ip ? [host] : ['127.0.0.1'],
    commonName: 'kwire lab ACME server',
    notBefore: new Date(now.getTime() - 3_600_000),
    notAfter: new Date(now.getTime() + 365 * 86_400_000),
  });
  return {
    cert: leaf + lab.intermediatePem,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
