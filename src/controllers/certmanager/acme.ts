/**
 * ACME in the model. The issuer's directory URL is never contacted: kwire's lab ACME CA (a fixed
 * root and intermediate derived from a constant seed) stands in for Let's Encrypt offline. The
 * Order and one Challenge per DNS name are recorded as cert-manager would create them, with real
 * RFC 8555 key authorizations over a per-issuer account key.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { StringMap } from '../../api/types.js';
import { ByteStream, keyFor, type KeyPair } from './keys.js';
import { OVERRIDE } from './shim.js';
import type { CertificateSpec, IssuerSpec } from './spec.js';
import type { AcmeSolverState, AcmeState, ChallengeState, OrderState } from './types.js';
import { issuingCert, makeCertificate, type IssuingCert } from './x509.js';

/** Name kwire's lab CA goes by in issuer status. */
export const LAB_ACME = 'kwire-lab-acme';
const LAB_SEED = 'kwire lab ACME CA v1';

/** The lab CA: a self-signed root and the intermediate that signs leaves (like Let's Encrypt's R-series). */
export interface LabCA {
  readonly root: IssuingCert;
  readonly intermediate: IssuingCert;
  readonly intermediateNotAfter: Date;
}

let lab: LabCA | undefined;

/** The lab ACME CA; the same in every process. */
export function labCA(): LabCA {
  if (lab) return lab;
  const rootKey = keyFor({ algorithm: 'ECDSA', size: 384 }, 'root', LAB_SEED);
  const intermediateKey = keyFor({ algorithm: 'ECDSA', size: 256 }, 'intermediate', LAB_SEED);
  const caCertificate = (subjectKey: KeyPair, cn: string, notAfter: Date, serial: bigint, issuer?: ReturnType<typeof issuingCert>) =>
    makeCertificate({
      subjectKey,
      subject: [{ O: 'kwire lab' }, { CN: cn }],
      dnsNames: [],
      ipAddresses: [],
      uris: [],
      emailAddresses: [],
      isCA: true,
      usages: ['digital signature', 'cert sign', 'crl sign'],
      notBefore: new Date('2024-01-01T00:00:00Z'),
      notAfter,
      serial,
      ...(issuer ? { issuer } : {}),
    });
  const root = caCertificate(rootKey, 'kwire lab ACME CA', new Date('2124-01-01T00:00:00Z'), 1n);
  const rootIssuer = issuingCert(root.der, rootKey);
  const intermediateNotAfter = new Date('2099-01-01T00:00:00Z');
  const intermediate = caCertificate(intermediateKey, 'kwire lab ACME intermediate R1', intermediateNotAfter, 2n, rootIssuer);
  lab = {
    root: rootIssuer,
    intermediate: issuingCert(intermediate.der, intermediateKey),
    intermediateNotAfter,
  };
  return lab;
}

/** RFC 7638 thumbprint of an EC account key, base64url. */
export function jwkThumbprint(key: KeyPair): string {
  const jwk = key.publicKey.export({ format: 'jwk' });
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

/** What ACME did for one Certificate: its Order, Challenges, and whether the Order is valid. */
export interface AcmeOutcome {
  readonly order: OrderState;
  readonly challenges: readonly ChallengeState[];
}

/** The Order and Challenges for a Certificate issued by an ACME issuer. */
export function acmeOrder(
  cert: CertificateSpec,
  issuer: IssuerSpec,
  seed: string | undefined,
): AcmeOutcome {
  const solvers = issuer.acme?.solvers ?? [];
  const issuerId = `${issuer.kind}/${issuer.namespace}/${issuer.name}`;
  const account = keyFor({ algorithm: 'ECDSA', size: 256 }, `acme-account/${issuerId}`, seed);
  const thumbprint = jwkThumbprint(account);
  const names = [
    ...new Set([
      ...(cert.commonName && !cert.dnsNames.includes(cert.commonName) ? [cert.commonName] : []),
      ...cert.dnsNames,
    ]),
  ];
  const crName = `${cert.name}-1`;
  const orderName = `${crName}-${fnv32(JSON.stringify([cert.namespace, cert.name, names, issuerId]))}`;
  const tokens =
    seed === undefined
      ? undefined
      : new ByteStream(seed, `acme-token/${cert.namespace}/${cert.name}`);
  const challenges: ChallengeState[] = [];
  const failures: string[] = [];
  for (const dnsName of names) {
    const solver = selectSolver(solvers, dnsName, cert.labels);
    if (!solver) {
      failures.push(`no configured challenge solver can be used for ${JSON.stringify(dnsName)}`);
      continue;
    }
    const token = (tokens ? tokens.next(32) : randomBytes(32)).toString('base64url');
    const key = `${token}.${thumbprint}`;
    const wildcard = dnsName.startsWith('*.');
    const base = {
      namespace: cert.namespace,
      name: `${orderName}-${fnv32(JSON.stringify([dnsName, solver.index, token]))}`,
      order: orderName,
      dnsName,
      wildcard,
      token,
      key,
      solverIndex: solver.index,
    };
    if (solver.type === 'DNS-01') {
      const domain = wildcard ? dnsName.slice(2) : dnsName;
      challenges.push({
        ...base,
        type: 'DNS-01',
        dnsRecord: {
          name: `_acme-challenge.${domain}`,
          value: createHash('sha256').update(key).digest('base64url'),
        },
        state: 'valid',
        presented: true,
      });
      continue;
    }
    const path = `/.well-known/acme-challenge/${token}`;
    const ingressName = cert.annotations[OVERRIDE.ingressName] ?? solver.ingressName;
    const ingressClass =
      cert.annotations[OVERRIDE.ingressClassName] ??
      cert.annotations[OVERRIDE.ingressClass] ??
      solver.ingressClass;
    const http = {
      ...base,
      type: 'HTTP-01' as const,
      path,
      url: `http://${dnsName}${path}`,
      ...(ingressClass === undefined ? {} : { ingressClass }),
      ...(ingressName === undefined ? {} : { ingressName }),
    };
    if (wildcard) {
      const reason = `HTTP-01 cannot validate the wildcard name ${JSON.stringify(dnsName)}; it needs a DNS-01 solver`;
      failures.push(reason);
      challenges.push({ ...http, state: 'invalid', presented: false, reason });
    } else {
      challenges.push({ ...http, state: 'valid', presented: true });
    }
  }
  const state: AcmeState = failures.length > 0 ? 'invalid' : 'valid';
  const order: OrderState = {
    namespace: cert.namespace,
    name: orderName,
    certificate: cert.name,
    certificateRequest: crName,
    issuerRef: cert.issuerRef,
    dnsNames: names,
    state,
    ...(failures.length > 0 ? { reason: failures.join('; ') } : {}),
    challenges: challenges.map((c) => c.name),
  };
  return { order, challenges };
}

/**
 * The solver cert-manager picks for a name: a selector's `dnsNames` match beats the longest
 * `dnsZones` match, which beats more `matchLabels`, which beats no selector; earlier wins ties.
 */
export function selectSolver(
  solvers: readonly AcmeSolverState[],
  dnsName: string,
  labels: StringMap,
): AcmeSolverState | undefined {
  let best: { solver: AcmeSolverState; score: [number, number, number] } | undefined;
  const bare = dnsName.startsWith('*.') ? dnsName.slice(2) : dnsName;
  for (const solver of solvers) {
    const sel = solver.selector ?? {};
    let score: [number, number, number] = [0, 0, 0];
    if (sel.dnsNames && sel.dnsNames.length > 0) {
      if (!sel.dnsNames.includes(dnsName)) continue;
      score = [1, 0, 0];
    }
    if (sel.dnsZones && sel.dnsZones.length > 0 && score[0] === 0) {
      const zones = sel.dnsZones.filter((z) => bare === z || bare.endsWith(`.${z}`));
      if (zones.length === 0) continue;
      score = [0, Math.max(...zones.map((z) => z.length)), 0];
    }
    const matchLabels = Object.entries(sel.matchLabels ?? {});
    if (matchLabels.some(([k, v]) => labels[k] !== v)) continue;
    score[2] = matchLabels.length;
    if (!best || compare(score, best.score) > 0) best = { solver, score };
  }
  return best?.solver;
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** FNV-1a 32-bit, decimal, as cert-manager suffixes Order and Challenge names. */
export function fnv32(s: string): string {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(s, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return String(h);
}
