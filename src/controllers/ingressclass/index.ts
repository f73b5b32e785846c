/**
 * IngressClasses and class resolution: which controller serves each Ingress
 * (`spec.ingressClassName`, the legacy `kubernetes.io/ingress.class` annotation, the default class).
 */
import type { Problem } from '../../api/problems.js';
import type { IngressSpec, KubeObject, SourcePos } from '../../api/types.js';
import type { ClusterConfig, IngressClassState, IngressState } from '../../model/types.js';
import { ADDON_ANNOTATION } from '../cluster/index.js';

/** Annotation that makes an IngressClass the default. */
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
/** The legacy class annotation. */
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

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
  const problems: Problem[] = [];
  const ingressClasses: IngressClassState[] = input.objects
    .filter((o) => o.kind === 'IngressClass')
    .map((o) => ({
      name: o.metadata.name,
      controller: String((o.spec as { controller?: string } | undefined)?.controller ?? ''),
      isDefault: o.metadata.annotations[DEFAULT_CLASS_ANNOTATION] === 'true',
      implicit: o.metadata.annotations[ADDON_ANNOTATION] === 'true',
      source: input.sourceOf(o),
    }));
  const defaults = ingressClasses.filter((c) => c.isDefault);
  // Several defaults: the admission plugin picks the newest; without timestamps, the last written.
  const defaultClass = defaults[defaults.length - 1];
  if (defaults.length > 1) {
    problems.push({
      code: 'KW-ING-CLASS001',
      severity: 'warning',
      message: `${defaults.length} IngressClasses are marked default (${defaults.map((d) => d.name).join(', ')}); classless Ingresses get "${defaultClass?.name ?? ''}"`,
      source: defaultClass?.source,
      hint: `keep ${DEFAULT_CLASS_ANNOTATION}: "true" on one class only`,
    });
  }
  const controllerFor = (className: string | undefined): string | undefined => {
    const cls = ingressClasses.find((c) => c.name === className);
    if (!cls) return undefined;
    return input.cluster.ingressControllers.find((c) => c.controller === cls.controller && c.className === cls.name)?.name ??
      input.cluster.ingressControllers.find((c) => c.controller === cls.controller)?.name;
  };
  const ingresses: IngressState[] = input.objects
    .filter((o) => o.kind === 'Ingress')
    .map((o, order) => {
      const spec = (o.spec ?? {}) as IngressSpec;
      const legacy = o.metadata.annotations[LEGACY_CLASS_ANNOTATION];
      let className: string | undefined;
      let classFrom: IngressState['classFrom'];
      if (spec.ingressClassName) {
        className = spec.ingressClassName;
        classFrom = 'ingressClassName';
      } else if (legacy) {
        className = legacy;
        classFrom = 'annotation';
      } else if (defaultClass) {
        className = defaultClass.name;
        classFrom = 'default';
      }
      const controller = controllerFor(className);
      if (!controller) {
        problems.push({
          code: 'KW-ING-CLASS002',
          severity: 'warning',
          message: className
            ? `IngressClass "${className}" ${ingressClasses.some((c) => c.name === className) ? 'has no ingress controller in this cluster' : 'does not exist'}; no controller serves this Ingress`
            : 'no ingressClassName, no class annotation and no default IngressClass; no controller serves this Ingress',
          object: { kind: 'Ingress', namespace: o.metadata.namespace, name: o.metadata.name },
          path: classFrom === 'annotation' ? `metadata.annotations.${LEGACY_CLASS_ANNOTATION}` : 'spec.ingressClassName',
          source: input.sourceOf(o),
          hint: `classes: ${ingressClasses.map((c) => c.name).join(', ') || 'none'}`,
        });
      }
      return {
        namespace: o.metadata.namespace,
        name: o.metadata.name,
        annotations: o.metadata.annotations,
        spec,
        className,
        classFrom,
        controller,
        creationTimestamp: o.metadata.creationTimestamp,
        order,
        source: input.sourceOf(o),
      };
    });
  return { ingressClasses, ingresses, problems };
}
