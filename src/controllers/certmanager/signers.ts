/**
 * CA issuers' signers: the key pair and chain in the issuer's Secret, read from the inputs or from
 * the Certificate of this reconcile that writes that Secret. Results are kept in `run.signers`.
 */
import { createPrivateKey, X509Certificate as NodeX509 } from 'node:crypto';
import { quote } from '../../api/problems.js';
import { keyPairOf, specOfKey, type KeyPair } from './keys.js';
import { issuerId, objectKey, type InputSecret, type Run, type SignerResult } from './run.js';
import type { IssuerSpec } from './spec.js';
import { certificatesOfPem, isSelfSigned, issuingCert, summarizeLeaf } from './x509.js';

/**
 * The signer of a CA issuer; `waiting` while the Certificate that writes its Secret is pending.
 * Ready and failed results are cached in `run.signers`.
 */
export function caSigner(run: Run, issuer: IssuerSpec): SignerResult {
  const id = issuerId(issuer);
  const cached = run.signers.get(id);
  if (cached && cached.state !== 'waiting') return cached;
  const secretNamespace = issuer.kind === 'ClusterIssuer' ? run.crn : issuer.namespace;
  const secretName = issuer.caSecretName ?? '';
  const producer = run.producers.get(objectKey(secretNamespace, secretName))?.[0];
  let result: SignerResult;
  if (producer) {
    if (producer.status === 'pending') return { state: 'waiting', on: producer };
    if (producer.status === 'failed' || !producer.issued) {
      result = {
        state: 'failed',
        reason: 'ErrGetKeyPair',
        message: `Error getting keypair for CA issuer: Secret ${quote(secretName)} is written by Certificate ${quote(producer.spec.name)}, which is not Ready`,
      };
    } else {
      const { leaf, chain, caCrt, key: pair } = producer.issued;
      result = caSignerFrom([...chain], pair, caCrt ?? leaf);
    }
  } else {
    const secret = run.secrets.get(objectKey(secretNamespace, secretName));
    result = secret
      ? caSignerFromSecret(secret)
      : missingSecret(run, issuer, secretNamespace, secretName);
  }
  run.signers.set(id, result);
  return result;
}

/** The failure for a missing CA Secret, with a hint on where it must be created. */
function missingSecret(
  run: Run,
  issuer: IssuerSpec,
  secretNamespace: string,
  secretName: string,
): SignerResult {
  const elsewhere = [...run.secrets.values()].find((s) => s.object.metadata.name === secretName);
  return {
    state: 'failed',
    reason: 'ErrGetKeyPair',
    message: `Error getting keypair for CA issuer: secrets ${quote(secretName)} not found in namespace ${quote(secretNamespace)}`,
    ...(issuer.kind === 'ClusterIssuer' && elsewhere
      ? {
          hint: `a Secret ${quote(secretName)} exists in namespace ${quote(elsewhere.object.metadata.namespace)}, but a ClusterIssuer reads Secrets from the cluster resource namespace ${quote(run.crn)}`,
        }
      : {
          hint: `create the kubernetes.io/tls Secret ${quote(secretName)} in namespace ${quote(secretNamespace)}`,
        }),
  };
}

/** The signer in an input `kubernetes.io/tls` Secret: `tls.crt` chain and `tls.key`. */
function caSignerFromSecret(secret: InputSecret): SignerResult {
  const name = quote(secret.object.metadata.name);
  const chain = certificatesOfPem(secret.data['tls.crt'] ?? '');
  const keyPem = secret.data['tls.key'];
  if (chain.length === 0 || !keyPem) {
    return {
      state: 'failed',
      reason: 'ErrInvalidKeyPair',
      message: `Error getting keypair for CA issuer: Secret ${name} has no tls.crt certificate or no tls.key`,
    };
  }
  let pair: KeyPair;
  try {
    const privateKey = createPrivateKey(keyPem);
    const spec = specOfKey(privateKey);
    if (!spec) throw new Error(`unsupported key type ${privateKey.asymmetricKeyType ?? 'unknown'}`);
    pair = keyPairOf(spec, privateKey);
  } catch (cause) {
    return {
      state: 'failed',
      reason: 'ErrInvalidKeyPair',
      message: `Error getting keypair for CA issuer: tls.key of Secret ${name} does not parse (${String(cause)})`,
    };
  }
  return caSignerFrom(chain, pair, undefined);
}

/** The signer of a chain whose first certificate matches `pair`; the root is left off the tail. */
function caSignerFrom(chain: Buffer[], pair: KeyPair, knownCa: Buffer | undefined): SignerResult {
  const [first] = chain;
  if (!first)
    return {
      state: 'failed',
      reason: 'ErrInvalidKeyPair',
      message: 'Error getting keypair for CA issuer: no certificate',
    };
  let certSpki: Buffer;
  try {
    certSpki = new NodeX509(first).publicKey.export({ type: 'spki', format: 'der' });
  } catch (cause) {
    return {
      state: 'failed',
      reason: 'ErrInvalidKeyPair',
      message: `Error getting keypair for CA issuer: tls.crt does not parse (${String(cause)})`,
    };
  }
  if (!certSpki.equals(pair.spki)) {
    return {
      state: 'failed',
      reason: 'ErrInvalidKeyPair',
      message:
        'Error getting keypair for CA issuer: tls.key does not match the certificate in tls.crt',
    };
  }
  const last = chain[chain.length - 1] ?? first;
  const rootAtEnd = isSelfSigned(last);
  const chainTail = rootAtEnd ? chain.slice(0, -1) : chain;
  const notAfter = summarizeLeaf(first).notAfter;
  return {
    state: 'ready',
    signer: {
      issuer: issuingCert(first, pair),
      chainTail,
      caCrt: rootAtEnd ? last : (knownCa ?? last),
      notAfterCap: new Date(notAfter),
    },
  };
}
