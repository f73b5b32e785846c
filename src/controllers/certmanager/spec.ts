/**
 * Issuer and Certificate specs with cert-manager's defaults applied and its webhook's validation
 * rules checked (pkg/apis/certmanager/v1 types and internal/apis/certmanager/validation).
 */
import { isIP } from 'node:net';
import type { Problem } from '../../api/problems.js';
import { quote } from '../../api/problems.js';
import type { KubeObject, StringMap } from '../../api/types.js';
import { formatGoDuration, parseGoDuration } from './duration.js';
import type { KeyAlgorithm } from './keys.js';
import { num, record, records, stringMap, text, texts } from './read.js';
import type { CertificateFields } from '../../model/certmanager.js';
import type { AcmeSolverState, IssuerRef, IssuerType, PrivateKeyState } from './types.js';
import { EXT_KEY_USAGE_OIDS, KEY_USAGE_FLAGS } from './x509.js';

/** cert-manager's API group. */
export const GROUP = 'cert-manager.io';

/** Default Certificate lifetime: 90 days. */
export const DEFAULT_DURATION_MS = 2160 * 3_600_000;
const MIN_DURATION_MS = 3_600_000;
const MIN_RENEW_BEFORE_MS = 5 * 60_000;

/** A parsed Issuer or ClusterIssuer (readiness is decided later, once Secrets are known). */
export interface IssuerSpec {
  readonly kind: 'Issuer' | 'ClusterIssuer';
  readonly namespace: string;
  readonly name: string;
  readonly type: IssuerType;
  /** Why the spec cannot work, if it cannot. */
  readonly invalid?: { readonly path: string; readonly message: string };
  readonly caSecretName?: string;
  readonly acme?: {
    readonly server: string;
    readonly email?: string;
    readonly privateKeySecretName?: string;
    readonly solvers: readonly AcmeSolverState[];
  };
  readonly object: KubeObject;
}

/** Reads an Issuer or ClusterIssuer. */
export function parseIssuer(obj: KubeObject): IssuerSpec {
  const kind = obj.kind === 'ClusterIssuer' ? 'ClusterIssuer' : 'Issuer';
  const base = {
    kind,
    namespace: kind === 'ClusterIssuer' ? '' : obj.metadata.namespace,
    name: obj.metadata.name,
    object: obj,
  } as const;
  const spec = record(obj['spec']) ?? {};
  if (record(spec['selfSigned']) !== undefined) return { ...base, type: 'SelfSigned' };
  const ca = record(spec['ca']);
  if (ca) {
    const secretName = text(ca['secretName']);
    if (!secretName) {
      return {
        ...base,
        type: 'CA',
        invalid: { path: 'spec.ca.secretName', message: 'spec.ca.secretName is required' },
      };
    }
    return { ...base, type: 'CA', caSecretName: secretName };
  }
  const acme = record(spec['acme']);
  if (acme) {
    const server = text(acme['server']) ?? '';
    const email = text(acme['email']);
    const privateKeySecretName = text(record(acme['privateKeySecretRef'])?.['name']);
    const solvers = records(acme['solvers']).flatMap((s, index) => solverOf(s, index));
    const parsed = {
      server,
      solvers,
      ...(email === undefined ? {} : { email }),
      ...(privateKeySecretName === undefined ? {} : { privateKeySecretName }),
    };
    if (!server) {
      return {
        ...base,
        type: 'ACME',
        acme: parsed,
        invalid: { path: 'spec.acme.server', message: 'spec.acme.server is required' },
      };
    }
    return { ...base, type: 'ACME', acme: parsed };
  }
  const other = ['vault', 'venafi'].find((k) => record(spec[k]) !== undefined);
  if (other) {
    return {
      ...base,
      type: 'Unsupported',
      invalid: { path: `spec.${other}`, message: `${other} issuers are not modelled by kwire` },
    };
  }
  return {
    ...base,
    type: 'Unsupported',
    invalid: {
      path: 'spec',
      message: 'no issuer type is configured (expected one of selfSigned, ca, acme)',
    },
  };
}

function solverOf(solver: Readonly<Record<string, unknown>>, index: number): AcmeSolverState[] {
  const selectorRecord = record(solver['selector']);
  const selector = selectorRecord
    ? {
        ...(Array.isArray(selectorRecord['dnsNames'])
          ? { dnsNames: texts(selectorRecord['dnsNames']) }
          : {}),
        ...(Array.isArray(selectorRecord['dnsZones'])
          ? { dnsZones: texts(selectorRecord['dnsZones']) }
          : {}),
        ...(record(selectorRecord['matchLabels'])
          ? { matchLabels: stringMap(selectorRecord['matchLabels']) }
          : {}),
      }
    : undefined;
  const withSelector = selector ? { selector } : {};
  const http01 = record(solver['http01']);
  if (http01) {
    const ingress = record(http01['ingress']) ?? {};
    const ingressClass = text(ingress['ingressClassName']) ?? text(ingress['class']);
    const ingressName = text(ingress['name']);
    return [
      {
        index,
        type: 'HTTP-01',
        ...(ingressClass === undefined ? {} : { ingressClass }),
        ...(ingressName === undefined ? {} : { ingressName }),
        ...withSelector,
      },
    ];
  }
  const dns01 = record(solver['dns01']);
  if (dns01) {
    const dnsProvider = Object.keys(dns01).find((k) => record(dns01[k]) !== undefined);
    return [
      {
        index,
        type: 'DNS-01',
        ...(dnsProvider === undefined ? {} : { dnsProvider }),
        ...withSelector,
      },
    ];
  }
  return [];
}

/** A Certificate spec with defaults applied. */
export interface CertificateSpec extends CertificateFields {
  readonly renewBeforeMs?: number;
  readonly annotations: StringMap;
}

/** One validation failure of a Certificate spec. */
export interface SpecError {
  readonly path: string;
  readonly message: string;
  readonly hint?: string;
}

const KEY_SIZES: Readonly<
  Record<
    KeyAlgorithm,
    { readonly default: number; readonly check: (n: number) => boolean; readonly allowed: string }
  >
> = {
  RSA: {
    default: 2048,
    check: (n) => Number.isInteger(n) && n >= 2048 && n <= 8192,
    allowed: 'between 2048 and 8192 (2048, 4096 or 8192)',
  },
  ECDSA: {
    default: 256,
    check: (n) => n === 256 || n === 384 || n === 521,
    allowed: 'one of 256, 384, 521',
  },
  Ed25519: { default: 0, check: () => true, allowed: 'ignored' },
};

/** Reads a Certificate, returning its spec and every validation error the webhook would report. */
export function parseCertificate(obj: KubeObject): { spec: CertificateSpec; errors: SpecError[] } {
  const errors: SpecError[] = [];
  const s = record(obj['spec']) ?? {};
  const secretName = text(s['secretName']) ?? '';
  if (!secretName) errors.push({ path: 'spec.secretName', message: 'spec.secretName is required' });

  const issuerRecord = record(s['issuerRef']) ?? {};
  const issuerRef: IssuerRef = {
    name: text(issuerRecord['name']) ?? '',
    kind: text(issuerRecord['kind']) ?? 'Issuer',
    group: text(issuerRecord['group']) ?? GROUP,
  };
  if (!issuerRef.name)
    errors.push({ path: 'spec.issuerRef.name', message: 'spec.issuerRef.name is required' });

  const commonName = text(s['commonName']);
  const dnsNames = texts(s['dnsNames']);
  const ipAddresses = texts(s['ipAddresses']);
  const uris = texts(s['uris']);
  const emailAddresses = texts(s['emailAddresses']);
  if (
    !commonName &&
    dnsNames.length + ipAddresses.length + uris.length + emailAddresses.length === 0 &&
    !record(s['literalSubject'])
  ) {
    errors.push({
      path: 'spec',
      message:
        'at least one of commonName, dnsNames, uris, ipAddresses or emailAddresses must be set',
    });
  }
  if (commonName !== undefined && commonName.length > 64) {
    errors.push({
      path: 'spec.commonName',
      message: `commonName ${quote(commonName)} is longer than 64 bytes`,
      hint: 'put the name in dnsNames instead',
    });
  }
  ipAddresses.forEach((ip, i) => {
    if (isIP(ip) === 0)
      errors.push({
        path: `spec.ipAddresses[${i}]`,
        message: `${quote(ip)} is not a valid IP address`,
      });
  });

  const isCA = s['isCA'] === true || s['isCA'] === 'true';
  const privateKey = privateKeyOf(record(s['privateKey']) ?? {}, errors);

  const durationText = text(s['duration']);
  let durationMs = DEFAULT_DURATION_MS;
  if (durationText !== undefined) {
    const parsed = parseGoDuration(durationText);
    if (parsed === undefined)
      errors.push({
        path: 'spec.duration',
        message: `${quote(durationText)} is not a duration`,
        hint: 'write it as Go does: 2160h, 720h, 1h30m',
      });
    else if (parsed < MIN_DURATION_MS) {
      errors.push({
        path: 'spec.duration',
        message: `certificate duration ${formatGoDuration(parsed)} must be greater than 1h0m0s`,
      });
    } else durationMs = parsed;
  }

  const renewBefore = text(s['renewBefore']);
  const renewBeforePercentage = num(s['renewBeforePercentage']);
  let renewBeforeMs: number | undefined;
  if (renewBefore !== undefined && renewBeforePercentage !== undefined) {
    errors.push({
      path: 'spec.renewBeforePercentage',
      message: 'renewBefore and renewBeforePercentage are mutually exclusive',
    });
  }
  if (renewBefore !== undefined) {
    const parsed = parseGoDuration(renewBefore);
    if (parsed === undefined)
      errors.push({ path: 'spec.renewBefore', message: `${quote(renewBefore)} is not a duration` });
    else if (parsed < MIN_RENEW_BEFORE_MS)
      errors.push({
        path: 'spec.renewBefore',
        message: `renewBefore ${formatGoDuration(parsed)} must be at least 5m0s`,
      });
    else if (parsed >= durationMs) {
      errors.push({
        path: 'spec.renewBefore',
        message: `certificate duration ${formatGoDuration(durationMs)} must be greater than renewBefore ${formatGoDuration(parsed)}`,
      });
    } else renewBeforeMs = parsed;
  }
  if (renewBeforePercentage !== undefined) {
    const effective = (durationMs * renewBeforePercentage) / 100;
    if (
      !(renewBeforePercentage > 0 && renewBeforePercentage < 100) ||
      effective < MIN_RENEW_BEFORE_MS
    ) {
      errors.push({
        path: 'spec.renewBeforePercentage',
        message: `renewBeforePercentage ${renewBeforePercentage} must be between 0 and 100 (exclusive) and leave at least 5m0s`,
      });
    }
  }

  const usagesWritten = Array.isArray(s['usages']) ? texts(s['usages']) : undefined;
  usagesWritten?.forEach((u, i) => {
    if (
      KEY_USAGE_FLAGS[u] === undefined &&
      EXT_KEY_USAGE_OIDS[u] === undefined &&
      u !== 'signing'
    ) {
      errors.push({
        path: `spec.usages[${i}]`,
        message: `unknown usage ${quote(u)}`,
        hint: 'use cert-manager names such as "digital signature", "key encipherment", "server auth"',
      });
    }
  });
  const usages = effectiveUsages(usagesWritten, privateKey.algorithm, isCA);

  const template = record(s['secretTemplate']);
  return {
    spec: {
      namespace: obj.metadata.namespace,
      name: obj.metadata.name,
      secretName,
      ...(commonName === undefined ? {} : { commonName }),
      dnsNames,
      ipAddresses,
      uris,
      emailAddresses,
      isCA,
      usages,
      durationMs,
      ...(renewBefore === undefined ? {} : { renewBefore }),
      ...(renewBeforeMs === undefined ? {} : { renewBeforeMs }),
      ...(renewBeforePercentage === undefined ? {} : { renewBeforePercentage }),
      privateKey,
      issuerRef,
      ...(template
        ? {
            secretTemplate: {
              annotations: stringMap(template['annotations']),
              labels: stringMap(template['labels']),
            },
          }
        : {}),
      labels: obj.metadata.labels,
      annotations: obj.metadata.annotations,
    },
    errors,
  };
}

function privateKeyOf(pk: Readonly<Record<string, unknown>>, errors: SpecError[]): PrivateKeyState {
  const algorithmText = text(pk['algorithm']) ?? 'RSA';
  let algorithm: KeyAlgorithm = 'RSA';
  if (algorithmText === 'RSA' || algorithmText === 'ECDSA' || algorithmText === 'Ed25519')
    algorithm = algorithmText;
  else
    errors.push({
      path: 'spec.privateKey.algorithm',
      message: `unsupported private key algorithm ${quote(algorithmText)}`,
      hint: 'use RSA, ECDSA or Ed25519',
    });
  const rule = KEY_SIZES[algorithm];
  const sizeWritten = num(pk['size']);
  let size = rule.default;
  if (sizeWritten !== undefined && sizeWritten !== 0 && algorithm !== 'Ed25519') {
    if (rule.check(sizeWritten)) size = sizeWritten;
    else
      errors.push({
        path: 'spec.privateKey.size',
        message: `${algorithm} key size ${sizeWritten} is not supported; it must be ${rule.allowed}`,
      });
  }
  const encodingText = text(pk['encoding']) ?? 'PKCS1';
  let encoding: 'PKCS1' | 'PKCS8' = 'PKCS1';
  if (encodingText === 'PKCS1' || encodingText === 'PKCS8') encoding = encodingText;
  else
    errors.push({
      path: 'spec.privateKey.encoding',
      message: `unknown encoding ${quote(encodingText)}`,
      hint: 'use PKCS1 or PKCS8',
    });
  const policyText = text(pk['rotationPolicy']) ?? 'Always';
  let rotationPolicy: 'Always' | 'Never' = 'Always';
  if (policyText === 'Always' || policyText === 'Never') rotationPolicy = policyText;
  else
    errors.push({
      path: 'spec.privateKey.rotationPolicy',
      message: `unknown rotationPolicy ${quote(policyText)}`,
      hint: 'use Always or Never',
    });
  return { algorithm, size, encoding, rotationPolicy };
}

/**
 * Usages put in the certificate: the ones written (plus `cert sign` for a CA), else cert-manager's
 * default `digital signature` + `key encipherment` (RSA keys only), `server auth` for leaves and
 * `cert sign` for CAs.
 */
export function effectiveUsages(
  written: readonly string[] | undefined,
  algorithm: KeyAlgorithm,
  isCA: boolean,
): string[] {
  const out = written
    ? written.map((u) => (u === 'signing' ? 'digital signature' : u))
    : [
        'digital signature',
        ...(algorithm === 'RSA' ? ['key encipherment'] : []),
        ...(isCA ? [] : ['server auth']),
      ];
  if (isCA && !out.includes('cert sign')) out.push('cert sign');
  return [...new Set(out)];
}

export { formatIssuerRef } from '../../model/certificates.js';

/** The Problem for a spec error (object and source are added by the caller). */
export function specProblem(code: string, error: SpecError): Omit<Problem, 'source' | 'object'> {
  return {
    code,
    severity: 'error',
    path: error.path,
    message: error.message,
    ...(error.hint === undefined ? {} : { hint: error.hint }),
  };
}
