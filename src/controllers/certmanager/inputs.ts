/**
 * The first phases of a reconcile: read Secrets, Issuers and Certificates from the inputs, add the
 * Certificates ingress-shim makes, and settle which Certificates cannot be issued before any
 * issuer is asked (invalid specs, two Certificates writing one Secret).
 */
import { quote, type Problem } from '../../api/problems.js';
import type { KubeObject, SourcePos } from '../../api/types.js';
import { stringMap, text } from './read.js';
import {
  failEntry,
  issuerId,
  objectKey,
  reportEntry,
  type Entry,
  type InputSecret,
  type Run,
} from './run.js';
import { shimCertificates } from './shim.js';
import { GROUP, parseCertificate, parseIssuer, specProblem, type IssuerSpec } from './spec.js';
import type { CertManagerInput } from './types.js';

/** The cert-manager objects among the inputs. */
export interface Inputs {
  /** Secrets by `namespace/name`. */
  readonly secrets: ReadonlyMap<string, InputSecret>;
  /** Issuers and ClusterIssuers, sorted by `kind/namespace/name`. */
  readonly issuers: readonly IssuerSpec[];
  /** Certificates as written, in input order. */
  readonly certificates: readonly KubeObject[];
}

/** Reads Secrets, Issuers, ClusterIssuers and Certificates from the input objects. */
export function readInputs(objects: readonly KubeObject[]): Inputs {
  const secrets = new Map<string, InputSecret>();
  const issuers: IssuerSpec[] = [];
  const certificates: KubeObject[] = [];
  for (const obj of objects) {
    const group = obj.apiVersion.split('/')[0];
    if (obj.kind === 'Secret' && obj.apiVersion === 'v1')
      secrets.set(objectKey(obj.metadata.namespace, obj.metadata.name), secretOf(obj));
    else if (group !== GROUP) continue;
    else if (obj.kind === 'Issuer' || obj.kind === 'ClusterIssuer') issuers.push(parseIssuer(obj));
    else if (obj.kind === 'Certificate') certificates.push(obj);
  }
  issuers.sort((a, b) => issuerId(a).localeCompare(issuerId(b)));
  return { secrets, issuers, certificates };
}

/**
 * Every Certificate to reconcile, sorted by `namespace/name`: those written, then those
 * ingress-shim makes for Ingresses (never over a written one), with ingress-shim's problems.
 */
export function resolveCertificates(
  input: CertManagerInput,
  written: readonly KubeObject[],
  sourceOf: Run['sourceOf'],
): { entries: Entry[]; problems: Problem[] } {
  const shim = shimCertificates(
    input.ingresses,
    new Set(written.map((c) => objectKey(c.metadata.namespace, c.metadata.name))),
    input.defaultIssuer,
  );
  const entries = [
    ...written.map((obj) => pendingEntry(obj, sourceOf(obj))),
    ...shim.certificates.map((made) =>
      pendingEntry(made.object, made.ingress.source, {
        kind: 'Ingress',
        namespace: made.ingress.namespace,
        name: made.ingress.name,
        tlsIndex: made.tlsIndex,
      }),
    ),
  ];
  entries.sort((a, b) =>
    objectKey(a.spec.namespace, a.spec.name).localeCompare(
      objectKey(b.spec.namespace, b.spec.name),
    ),
  );
  return { entries, problems: shim.problems };
}

/** Fails every Certificate whose spec does not parse, with a KW-CM010 problem per error. */
export function rejectInvalidSpecs(run: Run): void {
  for (const entry of run.entries) {
    if (entry.errors.length === 0) continue;
    for (const error of entry.errors) reportEntry(run, entry, specProblem('KW-CM010', error));
    const message = entry.errors.map((e) => `${e.path}: ${e.message}`).join('; ');
    failEntry(entry, 'InvalidSpec', message, 'none');
  }
}

/**
 * Fills `run.producers` with the pending Certificate that writes each Secret; Certificates that
 * share a `secretName` all fail (KW-CM014) and produce nothing.
 */
export function claimSecretNames(run: Run): void {
  const producers = run.producers;
  for (const entry of run.entries) {
    if (entry.status !== 'pending') continue;
    const k = objectKey(entry.spec.namespace, entry.spec.secretName);
    producers.set(k, [...(producers.get(k) ?? []), entry]);
  }
  for (const [k, group] of producers) {
    if (group.length < 2) continue;
    for (const entry of group) {
      const others = group.filter((e) => e !== entry).map((e) => e.spec.name);
      failEntry(
        entry,
        'DuplicateSecretName',
        `Secret ${quote(entry.spec.secretName)} is also the target of Certificate ${others.map((o) => quote(o)).join(', ')}`,
        'pending',
      );
      reportEntry(run, entry, {
        code: 'KW-CM014',
        severity: 'error',
        path: 'spec.secretName',
        message: `Certificates ${group.map((e) => quote(e.spec.name)).join(' and ')} all write Secret ${quote(entry.spec.secretName)}`,
        hint: 'give each Certificate its own secretName',
      });
    }
    producers.delete(k);
  }
}

function pendingEntry(
  object: KubeObject,
  source: SourcePos | undefined,
  createdBy?: Entry['createdBy'],
): Entry {
  const { spec, errors } = parseCertificate(object);
  return {
    object,
    spec,
    errors,
    ...(source ? { source } : {}),
    ...(createdBy ? { createdBy } : {}),
    status: 'pending',
    conditions: [],
  };
}

function secretOf(obj: KubeObject): InputSecret {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(stringMap(obj['data'])))
    data[k] = Buffer.from(v, 'base64').toString('utf8');
  Object.assign(data, stringMap(obj['stringData']));
  return { object: obj, type: text(obj['type']) ?? 'Opaque', data };
}
