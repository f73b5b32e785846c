/**
 * Stable finding codes of the ingress controller and the helpers that build its problems.
 */
import type { Problem, Severity } from '../../api/problems.js';
import type { IngressState } from '../../model/types.js';

/** Every code the ingress controller reports, with what it means. */
export const INGRESS_CODES = {
  /** A dangerous annotation (snippet, injectable value) is ignored, never interpreted. */
  dangerousAnnotation: 'KW-ING001',
  /** An annotation under a controller prefix that the controller does not know. */
  unknownAnnotation: 'KW-ING002',
  /** A real controller annotation that kwire does not model: it has no effect here. */
  unmodelledAnnotation: 'KW-ING003',
  /** An annotation value the controller rejects; the annotation is ignored. */
  invalidAnnotation: 'KW-ING004',
  /** An annotation meant for another controller than the one serving the Ingress. */
  foreignAnnotation: 'KW-ING005',
  /** The Ingress's class has no controller: nobody serves it. */
  noController: 'KW-ING010',
  /** Both `spec.ingressClassName` and the legacy annotation are set. */
  classConflict: 'KW-ING011',
  /** Two Ingresses declare the same host, path and pathType: one is shadowed. */
  duplicatePath: 'KW-ING020',
  /** A canary Ingress with no main Ingress of the same host and path: it does nothing. */
  orphanCanary: 'KW-ING021',
  /** Regex mode (use-regex / rewrite-target) applies to every path of the host. */
  hostRegexMode: 'KW-ING022',
  /** A path that does not compile as a regex: the location is dropped. */
  invalidRegex: 'KW-ING023',
  /** Regex characters in an Exact/Prefix path (ingress-nginx strict path validation rejects it). */
  regexInPlainPath: 'KW-ING024',
  /** `rewrite-target` refers to capture groups the path does not have, or has none at all. */
  rewriteWithoutCaptures: 'KW-ING025',
  /** A TLS host that no rule of the Ingress routes. */
  tlsHostNotInRules: 'KW-ING030',
  /** A TLS entry without `secretName`: the controller's default certificate is served. */
  tlsWithoutSecret: 'KW-ING031',
  /** A `resource` backend: not supported by the controller (503). */
  resourceBackend: 'KW-ING032',
  /** A defaultBackend the flavour does not use where the author probably expects it. */
  defaultBackendUnused: 'KW-ING033',
} as const;

/** Builds a problem about one Ingress. */
export function ingressProblem(
  ingress: Pick<IngressState, 'namespace' | 'name' | 'source'>,
  code: string,
  severity: Severity,
  message: string,
  path?: string,
  hint?: string,
): Problem {
  return {
    code,
    severity,
    message,
    object: { kind: 'Ingress', namespace: ingress.namespace, name: ingress.name },
    ...(path !== undefined ? { path } : {}),
    ...(ingress.source ? { source: ingress.source } : {}),
    ...(hint !== undefined ? { hint } : {}),
  };
}

/** Field path of an annotation: `metadata.annotations[nginx.ingress.kubernetes.io/use-regex]`. */
export function annotationPath(key: string): string {
  return `metadata.annotations[${key}]`;
}
