/**
 * Issuing: each pending Certificate asks its issuer (SelfSigned, CA or ACME through the lab CA)
 * for a certificate, keeping or making its key. Passes repeat while one issues, so a CA issuer
 * backed by a Certificate of the same inputs signs once that Certificate is issued; whatever still
 * waits after that is a cycle.
 */
import { createHash, createPrivateKey } from 'node:crypto';
import { quote } from '../../api/problems.js';
import { acmeOrder, LAB_ACME, labCA } from './acme.js';
import { keyFor, keyPairOf, specOfKey, type KeyPair } from './keys.js';
import {
  failEntry,
  issuerId,
  objectKey,
  reportEntry,
  type Entry,
  type InputSecret,
  type Run,
  type Signer,
} from './run.js';
import { caSigner } from './signers.js';
import { GROUP, type CertificateSpec, type IssuerSpec } from './spec.js';
import { makeCertificate } from './x509.js';

type Attempt = 'waiting' | 'done';

/** Issues every pending Certificate it can, then fails the rest as a cycle (KW-CM016). */
export function issueCertificates(run: Run): void {
  for (let progress = true; progress;) {
    progress = false;
    for (const entry of run.entries) {
      if (entry.status === 'pending' && tryIssue(run, entry) === 'done') progress = true;
    }
  }
  for (const entry of run.entries) {
    if (entry.status !== 'pending') continue;
    failEntry(
      entry,
      'IssuerNotReady',
      `the issuer's CA Secret is written by a Certificate that itself waits on ${quote(entry.spec.issuerRef.name)}: a cycle`,
      'pending',
    );
    reportEntry(run, entry, {
      code: 'KW-CM016',
      severity: 'error',
      path: 'spec.issuerRef',
      message: `issuer ${quote(entry.spec.issuerRef.name)} depends on its own output (its CA Secret is issued through it)`,
      hint: 'back the CA issuer with a Certificate issued by a SelfSigned issuer',
    });
  }
}

function tryIssue(run: Run, entry: Entry): Attempt {
  const ref = entry.spec.issuerRef;
  if (ref.group !== GROUP) {
    failEntry(
      entry,
      'IssuerNotModelled',
      `external issuer ${ref.kind}.${ref.group} ${quote(ref.name)} is not modelled by kwire`,
      'pending',
    );
    reportEntry(run, entry, {
      code: 'KW-CM017',
      severity: 'info',
      path: 'spec.issuerRef',
      message: `external issuer ${ref.kind}.${ref.group} ${quote(ref.name)} is not modelled; the Certificate stays pending`,
    });
    return 'done';
  }
  const issuer = issuerOf(run, entry);
  if (!issuer) {
    const where = ref.kind === 'Issuer' ? ` in namespace ${quote(entry.spec.namespace)}` : '';
    const message = `Referenced ${ref.kind} ${quote(ref.name)} not found${where}`;
    failEntry(entry, 'IssuerNotFound', message, 'pending');
    return 'done';
  }
  if (issuer.invalid) return issuerNotReady(entry, issuer, issuer.invalid.message);
  switch (issuer.type) {
    case 'SelfSigned':
      issueLeaf(run, entry, { chainTail: [] }, issuerId(issuer));
      if (entry.issued) entry.issued = { ...entry.issued, caCrt: entry.issued.leaf };
      return 'done';
    case 'CA': {
      const result = caSigner(run, issuer);
      if (result.state === 'waiting') return 'waiting';
      if (result.state === 'failed') return issuerNotReady(entry, issuer, result.message);
      issueLeaf(run, entry, result.signer, issuerId(issuer));
      return 'done';
    }
    case 'ACME':
      return issueThroughAcme(run, entry, issuer);
    case 'Unsupported':
      return issuerNotReady(entry, issuer, 'issuer type not supported');
  }
}

function issuerOf(run: Run, entry: Entry): IssuerSpec | undefined {
  const ref = entry.spec.issuerRef;
  if (ref.kind === 'ClusterIssuer') return run.issuerIndex.get(`ClusterIssuer//${ref.name}`);
  if (ref.kind === 'Issuer')
    return run.issuerIndex.get(`Issuer/${entry.spec.namespace}/${ref.name}`);
  return undefined;
}

function issuerNotReady(entry: Entry, issuer: IssuerSpec, message: string): Attempt {
  const why = `${issuer.kind} ${quote(issuer.name)} is not ready: ${message}`;
  failEntry(entry, 'IssuerNotReady', why, 'pending');
  return 'done';
}

/**
 * Records the ACME Order and Challenges for the Certificate; a valid Order issues from the lab
 * intermediate, an invalid one fails the Certificate (KW-CM015).
 */
function issueThroughAcme(run: Run, entry: Entry, issuer: IssuerSpec): Attempt {
  const outcome = acmeOrder(entry.spec, issuer, run.seed);
  run.orders.push(outcome.order);
  run.challenges.push(...outcome.challenges);
  if (outcome.order.state !== 'valid') {
    const reason = outcome.order.reason ?? 'order failed';
    const message = `Order ${quote(outcome.order.name)} is invalid: ${reason}`;
    failEntry(entry, 'Failed', message, 'failed');
    reportEntry(run, entry, {
      code: 'KW-CM015',
      severity: 'error',
      path: 'spec.dnsNames',
      message: `ACME Order ${quote(outcome.order.name)} cannot complete: ${reason}`,
      hint: 'add a solver that covers every name (wildcards need dns01)',
    });
    return 'done';
  }
  const ca = labCA();
  const signer = {
    issuer: ca.intermediate,
    chainTail: [ca.intermediate.der],
    notAfterCap: ca.intermediateNotAfter,
  };
  issueLeaf(run, entry, signer, LAB_ACME);
  return 'done';
}

/**
 * Signs the Certificate's leaf with `signer` and marks it issued and Ready; the serial is derived
 * from the seed, the Certificate, `issuerLabel` and the time.
 */
function issueLeaf(run: Run, entry: Entry, signer: Signer, issuerLabel: string): void {
  const spec = entry.spec;
  const now = run.now;
  const existing = run.secrets.get(objectKey(spec.namespace, spec.secretName));
  const keyPair = keyOf(spec, existing, run.seed);
  let notAfter = new Date(now.getTime() + spec.durationMs);
  if (signer.notAfterCap && notAfter > signer.notAfterCap) notAfter = signer.notAfterCap;
  const serialHash = createHash('sha256')
    .update(
      `${run.seed ?? ''}\u0000serial\u0000${spec.namespace}/${spec.name}\u0000${issuerLabel}\u0000${now.toISOString()}`,
    )
    .digest();
  const serial = (BigInt(`0x${serialHash.subarray(0, 16).toString('hex')}`) >> 1n) | 1n;
  const made = makeCertificate({
    subjectKey: keyPair,
    subject: spec.commonName ? [{ CN: spec.commonName }] : [],
    dnsNames: spec.dnsNames,
    ipAddresses: spec.ipAddresses,
    uris: spec.uris,
    emailAddresses: spec.emailAddresses,
    isCA: spec.isCA,
    usages: spec.usages,
    notBefore: now,
    notAfter,
    serial,
    ...(signer.issuer ? { issuer: signer.issuer } : {}),
  });
  entry.status = 'issued';
  entry.issued = {
    leaf: made.der,
    summary: made.summary,
    chain: [made.der, ...signer.chainTail],
    key: keyPair,
    ...(signer.caCrt ? { caCrt: signer.caCrt } : {}),
  };
  entry.certStatus = {
    notBefore: now.toISOString(),
    notAfter: notAfter.toISOString(),
    renewalTime: renewalTime(spec, now, notAfter).toISOString(),
    revision: 1,
    serialNumber: made.serialNumber,
  };
  entry.conditions = [
    {
      type: 'Ready',
      status: 'True',
      reason: 'Ready',
      message: 'Certificate is up to date and has not expired',
    },
  ];
}

/** `notAfter` less `renewBefore` (or its percentage, or a third of the lifetime), to the second. */
function renewalTime(spec: CertificateSpec, notBefore: Date, notAfter: Date): Date {
  const lifetime = notAfter.getTime() - notBefore.getTime();
  let renewBeforeMs = Math.floor(lifetime / 3);
  if (spec.renewBeforeMs !== undefined && spec.renewBeforeMs < lifetime)
    renewBeforeMs = spec.renewBeforeMs;
  else if (spec.renewBeforePercentage !== undefined)
    renewBeforeMs = Math.floor((lifetime * spec.renewBeforePercentage) / 100);
  return new Date(Math.floor((notAfter.getTime() - renewBeforeMs) / 1000) * 1000);
}

/** The existing key when `rotationPolicy: Never` and it still fits the spec, else a new one. */
function keyOf(
  spec: CertificateSpec,
  existing: InputSecret | undefined,
  seed: string | undefined,
): KeyPair {
  const wanted = {
    algorithm: spec.privateKey.algorithm,
    size: spec.privateKey.algorithm === 'Ed25519' ? 0 : spec.privateKey.size,
  };
  const existingKey = existing?.data['tls.key'];
  if (spec.privateKey.rotationPolicy === 'Never' && existingKey) {
    try {
      const privateKey = createPrivateKey(existingKey);
      const found = specOfKey(privateKey);
      if (found && found.algorithm === wanted.algorithm && found.size === wanted.size)
        return keyPairOf(found, privateKey);
    } catch {
      // an unreadable key is replaced, as cert-manager does
    }
  }
  return keyFor(wanted, `certificate/${spec.namespace}/${spec.name}`, seed);
}
