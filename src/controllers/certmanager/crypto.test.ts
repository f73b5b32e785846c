import { verify, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseGoDuration, formatGoDuration } from './duration.js';
import { clearKeyCache, CURVES, keyFor, type KeySpec } from './keys.js';
import { ecdsaSignRfc6979, signData } from './signing.js';
import * as x509 from '@peculiar/x509';
import { issuingCert, keyUsageBits, makeCertificate, summarizeLeaf } from './x509.js';

describe('RFC 6979 deterministic ECDSA', () => {
  it('reproduces the P-256/SHA-256 "sample" vector of RFC 6979 A.2.5', () => {
    const x = 0xc9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721n;
    const sig = ecdsaSignRfc6979(CURVES[256], x, Buffer.from('sample'));
    expect(sig.toString('hex')).toBe(
      '3046022100efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716' +
        '022100f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8',
    );
  });

  it.each([256, 384, 521])(
    'signs deterministically on P-%i and node:crypto verifies it',
    (size) => {
      const key = keyFor({ algorithm: 'ECDSA', size }, `sig-${size}`, 'test-seed');
      const message = Buffer.from('kwire');
      const a = signData(key, message).value;
      const b = signData(key, message).value;
      expect(a.equals(b)).toBe(true);
      expect(verify(CURVES[size as 256 | 384 | 521].hash, message, key.publicKey, a)).toBe(true);
    },
  );
});

describe('seeded keys', () => {
  const specs: [string, KeySpec, string, number | undefined][] = [
    ['Ed25519', { algorithm: 'Ed25519', size: 0 }, 'ed25519', undefined],
    ['ECDSA P-256', { algorithm: 'ECDSA', size: 256 }, 'ec', undefined],
    ['ECDSA P-521', { algorithm: 'ECDSA', size: 521 }, 'ec', undefined],
    ['RSA 2048', { algorithm: 'RSA', size: 2048 }, 'rsa', 2048],
  ];
  it.each(specs)(
    '%s: same seed and identity give the same key after the cache is cleared',
    (_name, spec, type, modulus) => {
      const first = keyFor(spec, 'ns/cert', 'seed-1').spki;
      clearKeyCache();
      const again = keyFor(spec, 'ns/cert', 'seed-1');
      expect(again.spki.equals(first)).toBe(true);
      expect(again.privateKey.asymmetricKeyType).toBe(type);
      if (modulus) expect(again.privateKey.asymmetricKeyDetails?.modulusLength).toBe(modulus);
      if (spec.algorithm !== 'RSA')
        expect(keyFor(spec, 'ns/cert', 'seed-2').spki.equals(first)).toBe(false);
    },
  );

  it('caches random keys by identity within the process', () => {
    const spec: KeySpec = { algorithm: 'ECDSA', size: 256 };
    expect(keyFor(spec, 'random/a')).toBe(keyFor(spec, 'random/a'));
    expect(keyFor(spec, 'random/a').spki.equals(keyFor(spec, 'random/b').spki)).toBe(false);
  });
});

describe('makeCertificate', () => {
  it('builds a CA and a leaf that node:crypto parses and verifies', () => {
    const caKey = keyFor({ algorithm: 'ECDSA', size: 384 }, 'ca', 'seed');
    const ca = makeCertificate({
      subjectKey: caKey,
      subject: [{ CN: 'test CA' }],
      dnsNames: [],
      ipAddresses: [],
      uris: [],
      emailAddresses: [],
      isCA: true,
      usages: ['cert sign', 'digital signature'],
      notBefore: new Date('2026-01-01T00:00:00Z'),
      notAfter: new Date('2056-01-01T00:00:00Z'),
      serial: 7n,
    });
    const leafKey = keyFor({ algorithm: 'Ed25519', size: 0 }, 'leaf', 'seed');
    const leaf = makeCertificate({
      subjectKey: leafKey,
      subject: [],
      dnsNames: ['a.example.com'],
      ipAddresses: ['192.0.2.7'],
      uris: [],
      emailAddresses: [],
      isCA: false,
      usages: ['digital signature', 'server auth'],
      notBefore: new Date('2026-01-01T00:00:00Z'),
      notAfter: new Date('2026-04-01T00:00:00Z'),
      serial: 8n,
      issuer: issuingCert(ca.der, caKey),
    });
    const caCert = new X509Certificate(ca.der);
    const leafCert = new X509Certificate(leaf.der);
    expect(caCert.ca).toBe(true);
    expect(caCert.verify(caCert.publicKey)).toBe(true);
    expect(leafCert.ca).toBe(false);
    expect(leafCert.verify(caCert.publicKey)).toBe(true);
    expect(leafCert.checkIssued(caCert)).toBe(true);
    expect(leafCert.subjectAltName).toBe('DNS:a.example.com, IP Address:192.0.2.7');
    expect(leafCert.issuer).toBe('CN=test CA');
    expect(leafCert.serialNumber).toBe('08');
    expect(leafCert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(leafCert.publicKey.asymmetricKeyType).toBe('ed25519');
    expect(new Date(leafCert.validTo).toISOString()).toBe('2026-04-01T00:00:00.000Z');
    expect(leaf.summary).toEqual(summarizeLeaf(leaf.der));
    expect(ca.summary).toEqual(summarizeLeaf(ca.der));
    const parsed = new x509.X509Certificate(leaf.der);
    expect(parsed.getExtension(x509.KeyUsagesExtension)?.usages).toBe(
      x509.KeyUsageFlags.digitalSignature,
    );
    expect(parsed.getExtension(x509.BasicConstraintsExtension)).toMatchObject({
      ca: false,
      critical: true,
    });
    expect(parsed.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(
      new x509.X509Certificate(ca.der).getExtension(x509.SubjectKeyIdentifierExtension)?.keyId,
    );
  });

  it.each([
    [1, '03020780'],
    [1 | 4, '030205a0'],
    [1 | 32 | 64, '03020186'],
    [256, '0303070080'],
  ])('encodes key usage flags %i as the DER bit string %s', (flags, hex) => {
    expect(keyUsageBits(flags).toString('hex')).toBe(hex);
  });
});

describe('Go durations', () => {
  it.each([
    ['2160h', 2160 * 3_600_000, '2160h0m0s'],
    ['1h30m', 5_400_000, '1h30m0s'],
    ['90m', 5_400_000, '1h30m0s'],
    ['45s', 45_000, '45s'],
    ['1.5h', 5_400_000, '1h30m0s'],
    ['0', 0, '0s'],
  ])('%s is %i ms and prints as %s', (text, ms, printed) => {
    expect(parseGoDuration(text)).toBe(ms);
    expect(formatGoDuration(ms)).toBe(printed);
  });

  it.each(['90d', '', 'h', '10', '1h x'])('rejects %j', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });
});
