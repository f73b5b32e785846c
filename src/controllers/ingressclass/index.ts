/**
 * IngressClasses in the state, and every Ingress resolved to its class and controller (the
 * resolution rules live in the ingress controller area).
 */
import type { Problem } from '../../api/problems.js';
import type { IngressSpec, KubeObject, SourcePos } from '../../api/types.js';
import type { ClusterConfig, IngressClassState, IngressState } from '../../model/types.js';
import { ADDON_ANNOTATION } from '../cluster/index.js';
import { DEFAULT_CLASS_ANNOTATION, resolveIngressClass } from '../ingress/index.js';

/** Inputs of class resolution. */
export interface IngressClassInput {
  readonly objects: readonly KubeObject[];
  readonly cluster: ClusterConfig;
  readonly sourceOf: (o: KubeObject) => SourcePos | undefined;
}

/** Resolves every Ingress's class and controller. */
export function resolveIngressClasses(input: IngressClassInput): {
  ingressClasses: IngressClassState[];
  ingresses: IngressState[];
  problems: Problem[];
} {
  const ingressClasses: IngressClassState[] = input.objects
    .filter((o) => o.kind === 'IngressClass')
    .map((o) => ({
      name: o.metadata.name,
      controller: (o.spec as { controller?: string } | undefined)?.controller ?? '',
      isDefault: o.metadata.annotations[DEFAULT_CLASS_ANNOTATION] === 'true',
      implicit: o.metadata.annotations[ADDON_ANNOTATION] === 'true',
      source: input.sourceOf(o),
    }));
  const ingresses: IngressState[] = input.objects
    .filter((o) => o.kind === 'Ingress')
    .map((o, order) => {
      const spec = (o.spec ?? {}) as IngressSpec;
      const r = resolveIngressClass({ annotations: o.metadata.annotations, spec }, ingressClasses, input.cluster.ingressControllers);
      return {
        namespace: o.metadata.namespace,
        name: o.metadata.name,
        annotations: o.metadata.annotations,
        spec,
        className: r.className,
        classFrom: r.classFrom,
        controller: r.controller,
        creationTimestamp: o.metadata.creationTimestamp,
        order,
        source: input.sourceOf(o),
      };
    });
  return { ingressClasses, ingresses, problems: [] };
}
