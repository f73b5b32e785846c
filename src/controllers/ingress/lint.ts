/**
 * Ingress findings: what compiling the routes found, plus per-Ingress checks (class without
 * controller, ignored and dangerous annotations, TLS hosts, unsupported backends).
 */
import type { Problem } from '../../api/problems.js';
import { quote } from '../../api/problems.js';
import type { IngressBackend } from '../../api/types.js';
import type { IngressState, NetworkState } from '../../model/types.js';
import { auditAnnotations } from './annotations.js';
import { INGRESS_CLASS_ANNOTATION } from './class.js';
import { INGRESS_CODES, annotationPath, ingressProblem } from './problems.js';
import type { IngressRouting } from '../../model/routing/types.js';

/** Lints the Ingresses of a state against its compiled routes; findings carry stable KW-ING codes. */
export function lintIngresses(state: NetworkState, routing: IngressRouting): Problem[] {
  const flavours = new Map(state.cluster.ingressControllers.map((c) => [c.name, c.flavour]));
  const found: Problem[] = [];
  for (const ingress of state.ingresses) {
    found.push(...classFindings(ingress));
    const flavour = ingress.controller === undefined ? undefined : flavours.get(ingress.controller);
    found.push(...auditAnnotations(ingress, flavour));
    found.push(...tlsFindings(ingress));
    found.push(...backendFindings(ingress));
  }
  found.push(...routing.problems);
  const rank = new Map(state.ingresses.map((i) => [`${i.namespace}/${i.name}`, i.order]));
  const orderOf = (p: Problem): number =>
    rank.get(`${p.object?.namespace ?? ''}/${p.object?.name ?? ''}`) ?? Number.MAX_SAFE_INTEGER;
  return found
    .map((p, i) => ({ p, i }))
    .sort((a, b) => orderOf(a.p) - orderOf(b.p) || a.i - b.i)
    .map(({ p }) => p);
}

function classFindings(ingress: IngressState): Problem[] {
  const out: Problem[] = [];
  const annotated = ingress.annotations[INGRESS_CLASS_ANNOTATION];
  if (ingress.spec.ingressClassName && annotated !== undefined) {
    out.push(
      ingressProblem(
        ingress,
        INGRESS_CODES.classConflict,
        'warning',
        `both spec.ingressClassName ${quote(ingress.spec.ingressClassName)} and annotation ${quote(INGRESS_CLASS_ANNOTATION)} ${quote(annotated)} are set; the field wins`,
        'spec.ingressClassName',
        `remove the ${INGRESS_CLASS_ANNOTATION} annotation (the apiserver refuses both on create)`,
      ),
    );
  }
  if (ingress.controller === undefined) {
    const message =
      ingress.className === undefined
        ? 'the Ingress names no class and there is no default IngressClass: no controller serves it and it gets no address'
        : `class ${quote(ingress.className)} has no ingress controller: nobody serves this Ingress and it gets no address`;
    const path =
      ingress.classFrom === 'annotation'
        ? annotationPath(INGRESS_CLASS_ANNOTATION)
        : 'spec.ingressClassName';
    out.push(
      ingressProblem(
        ingress,
        INGRESS_CODES.noController,
        'warning',
        message,
        path,
        'name the IngressClass of an installed controller in spec.ingressClassName',
      ),
    );
  }
  return out;
}

function tlsFindings(ingress: IngressState): Problem[] {
  const out: Problem[] = [];
  const ruleHosts = (ingress.spec.rules ?? []).map((r) => (r.host ?? '').toLowerCase());
  (ingress.spec.tls ?? []).forEach((entry, t) => {
    if (!entry.secretName) {
      out.push(
        ingressProblem(
          ingress,
          INGRESS_CODES.tlsWithoutSecret,
          'info',
          `spec.tls[${t}] has no secretName: the controller serves its default certificate for these hosts`,
          `spec.tls[${t}]`,
        ),
      );
    }
    (entry.hosts ?? []).forEach((raw, h) => {
      const host = raw.toLowerCase();
      if (ruleHosts.some((r) => r === host || (r.startsWith('*.') && coveredByWildcard(host, r))))
        return;
      out.push(
        ingressProblem(
          ingress,
          INGRESS_CODES.tlsHostNotInRules,
          'warning',
          `TLS host ${quote(raw)} is not the host of any rule of this Ingress`,
          `spec.tls[${t}].hosts[${h}]`,
          'add a rule for the host, or fix the spelling of one of the two',
        ),
      );
    });
  });
  return out;
}

function coveredByWildcard(host: string, wildcard: string): boolean {
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === wildcard.slice(2);
}

function backendFindings(ingress: IngressState): Problem[] {
  const out: Problem[] = [];
  const check = (backend: IngressBackend, field: string): void => {
    if (backend.resource) {
      out.push(
        ingressProblem(
          ingress,
          INGRESS_CODES.resourceBackend,
          'warning',
          `backend is a ${backend.resource.kind} resource; ingress controllers do not support resource backends and answer 503`,
          `${field}.resource`,
        ),
      );
    }
  };
  if (ingress.spec.defaultBackend) check(ingress.spec.defaultBackend, 'spec.defaultBackend');
  (ingress.spec.rules ?? []).forEach((rule, r) => {
    (rule.http?.paths ?? []).forEach((path, p) => {
      check(path.backend, `spec.rules[${r}].http.paths[${p}].backend`);
    });
  });
  return out;
}
