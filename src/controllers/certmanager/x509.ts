/**
 * Real X.509 certificates, made synchronously: `@peculiar/x509` encodes names and extensions, the
 * TBSCertificate frame is assembled here (RFC 5280 §4.1), `node:crypto` signs, and the result is
 * parsed back with `@peculiar/x509` before it is returned, so nothing malformed leaves this file.
 */
import 'reflect-metadata';
import { createHash, X509Certificate as NodeX509 } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { bitString, explicit, integer, objectIdentifier, sequence, time, tlv } from './der.js';
import type { KeyPair } from './keys.js';
import { signatureAlgorithmOf, signData } from './signing.js';
import type { LeafSummary } from './types.js';

/** Key usage names as cert-manager spells them in `spec.usages`, with their X.509 bit. */
export const KEY_USAGE_FLAGS: Readonly<Record<string, x509.KeyUsageFlags>> = {
  'digital signature': x509.KeyUsageFlags.digitalSignature,
  'content commitment': x509.KeyUsageFlags.nonRepudiation,
  'key encipherment': x509.KeyUsageFlags.keyEncipherment,
  'data encipherment': x509.KeyUsageFlags.dataEncipherment,
  'key agreement': x509.KeyUsageFlags.keyAgreement,
  'cert sign': x509.KeyUsageFlags.keyCertSign,
  'crl sign': x509.KeyUsageFlags.cRLSign,
  'encipher only': x509.KeyUsageFlags.encipherOnly,
  'decipher only': x509.KeyUsageFlags.decipherOnly,
};

/** Extended key usage names as cert-manager spells them, with their OID. */
export const EXT_KEY_USAGE_OIDS: Readonly<Record<string, string>> = {
  'server auth': x509.ExtendedKeyUsage.serverAuth,
  'client auth': x509.ExtendedKeyUsage.clientAuth,
  'code signing': x509.ExtendedKeyUsage.codeSigning,
  'email protection': x509.ExtendedKeyUsage.emailProtection,
  timestamping: x509.ExtendedKeyUsage.timeStamping,
  'ocsp signing': x509.ExtendedKeyUsage.ocspSigning,
};

/** A certificate ready to be used as an issuer: its DER, subject name DER and key identifier. */
export interface IssuingCert {
  readonly der: Buffer;
  readonly subjectDer: Buffer;
  /** The subject as `@peculiar/x509` prints it (`CN=…`), the issuer string of what it signs. */
  readonly subject: string;
  readonly keyId: string;
  readonly key: KeyPair;
}

/** What to put in a certificate. */
export interface CertificateTemplate {
  readonly subjectKey: KeyPair;
  /** Subject attributes in order, e.g. `[{ CN: 'x' }, { O: 'kwire' }]`; empty for no subject. */
  readonly subject: readonly Readonly<Record<string, string>>[];
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly uris: readonly string[];
  readonly emailAddresses: readonly string[];
  readonly isCA: boolean;
  readonly usages: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly serial: bigint;
  /** The issuing certificate; absent for a self-signed certificate. */
  readonly issuer?: IssuingCert;
}

/** A made certificate. */
export interface MadeCertificate {
  readonly der: Buffer;
  readonly pem: string;
  readonly serialNumber: string;
  /** What `summarizeLeaf` would read back, known without parsing. */
  readonly summary: LeafSummary;
}

/** Makes and signs one certificate. */
export function makeCertificate(t: CertificateTemplate): MadeCertificate {
  const subjectName = new x509.Name(t.subject.map((rdn) => mapValues(rdn)));
  const subjectDer = Buffer.from(subjectName.toArrayBuffer());
  const signer = t.issuer?.key ?? t.subjectKey;
  const issuerDer = t.issuer?.subjectDer ?? subjectDer;
  let keyUsage = 0;
  const extKeyUsages: string[] = [];
  for (const usage of t.usages) {
    const flag = KEY_USAGE_FLAGS[usage];
    if (flag !== undefined) keyUsage |= flag;
    const oid = EXT_KEY_USAGE_OIDS[usage];
    if (oid !== undefined) extKeyUsages.push(oid);
  }
  const extensions: Buffer[] = [];
  if (keyUsage !== 0) extensions.push(extension('2.5.29.15', true, keyUsageBits(keyUsage)));
  if (extKeyUsages.length > 0) {
    extensions.push(extension('2.5.29.37', false, sequence(...extKeyUsages.map(objectIdentifier))));
  }
  const basicConstraints = t.isCA ? sequence(Buffer.from([0x01, 0x01, 0xff])) : sequence();
  extensions.push(extension('2.5.29.19', true, basicConstraints));
  const subjectKeyId = Buffer.from(keyIdOf(t.subjectKey.spki), 'hex');
  extensions.push(extension('2.5.29.14', false, tlv(0x04, subjectKeyId)));
  if (t.issuer) {
    const authorityKeyId = sequence(tlv(0x80, Buffer.from(t.issuer.keyId, 'hex')));
    extensions.push(extension('2.5.29.35', false, authorityKeyId));
  }
  const names: x509.JsonGeneralName[] = [
    ...t.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...t.emailAddresses.map((value) => ({ type: 'email' as const, value })),
    ...t.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    ...t.uris.map((value) => ({ type: 'url' as const, value })),
  ];
  if (names.length > 0) {
    const san = new x509.SubjectAlternativeNameExtension(names, t.subject.length === 0);
    extensions.push(Buffer.from(san.rawData));
  }
  const tbs = sequence(
    explicit(0, integer(2n)),
    integer(t.serial),
    signatureAlgorithmOf(signer),
    issuerDer,
    sequence(time(t.notBefore), time(t.notAfter)),
    subjectDer,
    t.subjectKey.spki,
    explicit(3, sequence(...extensions)),
  );
  const signature = signData(signer, tbs);
  const der = sequence(tbs, signature.algorithm, bitString(signature.value));
  const serialNumber = integer(t.serial).subarray(2).toString('hex');
  const subject = subjectName.toString();
  const commonName = t.subject.find((rdn) => rdn['CN'] !== undefined)?.['CN'];
  return {
    der,
    pem: toPem(der),
    serialNumber,
    summary: {
      subject,
      issuer: t.issuer?.subject ?? subject,
      ...(commonName === undefined ? {} : { commonName }),
      dnsNames: [...t.dnsNames],
      ipAddresses: [...t.ipAddresses],
      notBefore: t.notBefore.toISOString(),
      notAfter: t.notAfter.toISOString(),
      serialNumber,
    },
  };
}

/** One Extension: `SEQUENCE { extnID, critical (only when TRUE), extnValue OCTET STRING }`. */
function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  const flag = critical ? [Buffer.from([0x01, 0x01, 0xff])] : [];
  return sequence(objectIdentifier(oid), ...flag, tlv(0x04, value));
}

/** The KeyUsage BIT STRING (DER, named bits with trailing zeros dropped) of `@peculiar/x509` flags. */
export function keyUsageBits(flags: number): Buffer {
  const bytes = [0, 0];
  let highest = -1;
  for (let bit = 0; bit < 9; bit++) {
    if ((flags & (1 << bit)) === 0) continue;
    bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) | (0x80 >> (bit & 7));
    highest = bit;
  }
  const used = bytes.slice(0, (highest >> 3) + 1);
  const unused = 7 - (highest & 7);
  return tlv(0x03, Buffer.from([unused, ...used]));
}

/** The issuer view of a made (or read) certificate and its key. */
export function issuingCert(der: Buffer, key: KeyPair): IssuingCert {
  const parsed = new x509.X509Certificate(der);
  const ski = parsed.getExtension(x509.SubjectKeyIdentifierExtension);
  return {
    der,
    subjectDer: Buffer.from(parsed.subjectName.toArrayBuffer()),
    subject: parsed.subject,
    keyId: ski?.keyId ?? keyIdOf(key.spki),
    key,
  };
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits, hex. */
export function keyIdOf(spki: Buffer): string {
  return createHash('sha1').update(subjectPublicKeyBits(spki)).digest('hex');
}

function subjectPublicKeyBits(spki: Buffer): Buffer {
  const outer = readHeader(spki, 0);
  const algorithm = readHeader(spki, outer.contentStart);
  const bits = readHeader(spki, algorithm.contentStart + algorithm.length);
  return spki.subarray(bits.contentStart + 1, bits.contentStart + bits.length);
}

function readHeader(buf: Buffer, offset: number): { contentStart: number; length: number } {
  const first = buf[offset + 1] ?? 0;
  if (first < 0x80) return { contentStart: offset + 2, length: first };
  const count = first & 0x7f;
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + (buf[offset + 2 + i] ?? 0);
  return { contentStart: offset + 2 + count, length };
}

function mapValues(rdn: Readonly<Record<string, string>>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [type, value] of Object.entries(rdn)) out[type] = [value];
  return out;
}

/** PEM `CERTIFICATE` block of a DER certificate. */
export function toPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** Every CERTIFICATE block of a PEM bundle, as DER; non-certificate blocks are skipped. */
export function certificatesOfPem(pem: string): Buffer[] {
  const out: Buffer[] = [];
  for (const match of pem.matchAll(
    /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g,
  )) {
    out.push(Buffer.from((match[1] ?? '').replace(/\s+/g, ''), 'base64'));
  }
  return out;
}

/** Whether a certificate is self-signed: issuer equals subject and its own key verifies it. */
export function isSelfSigned(der: Buffer): boolean {
  const cert = new NodeX509(der);
  return cert.issuer === cert.subject && cert.verify(cert.publicKey);
}

/** Whether a certificate's basicConstraints say CA. */
export function isCACertificate(der: Buffer): boolean {
  return new NodeX509(der).ca;
}

/** What a leaf says: names, validity, issuer. Throws when the DER is not a certificate. */
export function summarizeLeaf(der: Buffer): LeafSummary {
  const cert = new x509.X509Certificate(der);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names = san?.names.toJSON() ?? [];
  const commonName = cert.subjectName.getField('CN')[0];
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    ...(commonName === undefined ? {} : { commonName }),
    dnsNames: names.filter((n) => n.type === 'dns').map((n) => n.value),
    ipAddresses: names.filter((n) => n.type === 'ip').map((n) => n.value),
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    serialNumber: cert.serialNumber,
  };
}
