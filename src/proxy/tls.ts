/**
 * The certificates a controller serves: SNI → the Secret `tlsFor` names (from the model's
 * Secrets, overlaid by certificates handed over at runtime), and a self-signed default
 * certificate for every other name, as ingress-nginx's "Fake Certificate".
 */
import { webcrypto, createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import * as x509 from '@peculiar/x509';
import type { SecretState } from '../model/certmanager.js';
import { DEFAULT_CERTIFICATE } from '../model/certificates.js';
import type { TlsSecret } from './types.js';

/** ingress-nginx's default certificate subject (the model's, so trace names what the proxy serves). */
export const DEFAULT_CERT_SUBJECT = DEFAULT_CERTIFICATE.subject;

/** A PEM certificate and key. */
export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

/**
 * Makes the default self-signed certificate (RSA 2048, one year). RSA, because OpenSSL keeps the
 * default context's ECDSA slot when SNI switches to an RSA context and would serve it instead.
 */
export async function makeDefaultCertificate(now = new Date()): Promise<PemPair> {
  const alg = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Date.now().toString(16),
      name: DEFAULT_CERT_SUBJECT,
      notBefore: new Date(now.getTime() - 60_000),
      notAfter: new Date(now.getTime() + 365 * 86_400_000),
      signingAlgorithm: alg,
      keys,
      extensions: [
        new x509.SubjectAlternativeNameExtension(DEFAULT_CERTIFICATE.dnsNames.map((value) => ({ type: 'dns' as const, value }))),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      ],
    },
    webcrypto,
  );
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { cert: cert.toString('pem'), key };
}

/** The TLS Secrets of a state, keyed `namespace/name`. */
export function secretsOf(secrets: readonly (SecretState | TlsSecret)[]): Map<string, TlsSecret> {
  const out = new Map<string, TlsSecret>();
  for (const s of secrets) if (s.data['tls.crt'] && s.data['tls.key']) out.set(`${s.namespace}/${s.name}`, { namespace: s.namespace, name: s.name, data: s.data });
  return out;
}

/** Secure contexts by Secret, built once per certificate content. */
export class CertificateStore {
  private readonly contexts = new Map<string, { pem: string; context: SecureContext; subject: string }>();
  private secrets = new Map<string, TlsSecret>();
  private readonly overrides = new Map<string, TlsSecret>();
  readonly defaultContext: SecureContext;

  constructor(readonly defaultPair: PemPair) {
    this.defaultContext = createSecureContext({ cert: defaultPair.cert, key: defaultPair.key, minVersion: 'TLSv1.2' });
  }

  /** Replaces the model's Secrets (on reconcile); runtime certificates stay. */
  setModelSecrets(secrets: readonly (SecretState | TlsSecret)[]): void {
    this.secrets = secretsOf(secrets);
  }

  /** Hot-swaps certificates issued or renewed at runtime (ACME); they win over the model's. */
  setCertificates(secrets: readonly TlsSecret[]): void {
    for (const [k, s] of secretsOf(secrets)) this.overrides.set(k, s);
  }

  /** The secret served for `namespace/name`, if any. */
  secret(namespace: string, name: string): TlsSecret | undefined {
    const key = `${namespace}/${name}`;
    return this.overrides.get(key) ?? this.secrets.get(key);
  }

  /** The context for a Secret; undefined when it is missing or unusable (the default serves then). */
  contextFor(namespace: string, name: string): SecureContext | undefined {
    const secret = this.secret(namespace, name);
    if (!secret) return undefined;
    const key = `${namespace}/${name}`;
    const pem = secret.data['tls.crt'] + secret.data['tls.key'];
    const cached = this.contexts.get(key);
    if (cached && cached.pem === pem) return cached.context;
    try {
      const context = createSecureContext({ cert: secret.data['tls.crt'], key: secret.data['tls.key'], minVersion: 'TLSv1.2' });
      this.contexts.set(key, { pem, context, subject: new X509Certificate(secret.data['tls.crt']).subject });
      return context;
    } catch {
      return undefined;
    }
  }
}
