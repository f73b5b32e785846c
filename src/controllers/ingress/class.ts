/**
 * IngressClass resolution: `spec.ingressClassName`, the legacy `kubernetes.io/ingress.class`
 * annotation, then the default class, as the apiserver's DefaultIngressClass plugin and the
 * controllers do.
 */
import type { IngressSpec, StringMap } from '../../api/types.js';
import type { IngressClassState, IngressControllerConfig } from '../../model/types.js';

/** The legacy class annotation controllers still honour. */
export const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

/** The IngressClass annotation that marks the default class. */
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';

/** What class resolution reads from an Ingress. */
export interface IngressClassInput {
  readonly annotations: StringMap;
  readonly spec: IngressSpec;
}

/** Options for `resolveIngressClass`. */
export interface ClassResolutionOptions {
  /**
   * With several default classes: `newest` (the admission plugin's code: newest, then by name; kwire
   * has no timestamps on classes, so by name) or `refuse` (the docs: no class is assigned).
   * @default 'newest'
   */
  readonly multipleDefaults?: 'newest' | 'refuse';
}

/** The class an Ingress resolved to and the controller that serves it (none: served by nobody). */
export interface IngressClassResolution {
  readonly className?: string;
  readonly classFrom?: 'ingressClassName' | 'annotation' | 'default';
  readonly controller?: string;
  /** Why no controller serves the Ingress, when none does. */
  readonly unservedReason?: string;
}

/** Resolves an Ingress's class and the controller that serves it. */
export function resolveIngressClass(
  ingress: IngressClassInput,
  classes: readonly IngressClassState[],
  controllers: readonly IngressControllerConfig[],
  options: ClassResolutionOptions = {},
): IngressClassResolution {
  const fieldClass = ingress.spec.ingressClassName;
  if (fieldClass !== undefined && fieldClass !== '') {
    const cls = classes.find((c) => c.name === fieldClass);
    if (!cls) {
      return {
        className: fieldClass,
        classFrom: 'ingressClassName',
        unservedReason: `IngressClass "${fieldClass}" does not exist`,
      };
    }
    return withController(fieldClass, 'ingressClassName', controllerOfClass(cls, controllers));
  }
  const annotated = ingress.annotations[INGRESS_CLASS_ANNOTATION];
  if (annotated !== undefined && annotated !== '') {
    const byFlag = controllers.find((c) => c.className === annotated);
    const cls = classes.find((c) => c.name === annotated);
    const served = byFlag ?? (cls ? controllerOfClass(cls, controllers) : undefined);
    return withController(annotated, 'annotation', served);
  }
  const defaultClass = pickDefaultClass(classes, options.multipleDefaults ?? 'newest');
  if (defaultClass) {
    return withController(
      defaultClass.name,
      'default',
      controllerOfClass(defaultClass, controllers),
    );
  }
  if (!classes.some((c) => c.isDefault)) {
    const defaultController = controllers.find((c) => c.defaultClass);
    if (defaultController)
      return withController(defaultController.className, 'default', defaultController);
  }
  return { unservedReason: 'the Ingress names no class and no IngressClass is the default' };
}

function withController(
  className: string,
  classFrom: NonNullable<IngressClassResolution['classFrom']>,
  controller: IngressControllerConfig | undefined,
): IngressClassResolution {
  if (controller) return { className, classFrom, controller: controller.name };
  return {
    className,
    classFrom,
    unservedReason: `no installed ingress controller serves class "${className}"`,
  };
}

function controllerOfClass(
  cls: IngressClassState,
  controllers: readonly IngressControllerConfig[],
): IngressControllerConfig | undefined {
  const candidates = controllers.filter((c) => c.controller === cls.controller);
  return candidates.find((c) => c.className === cls.name) ?? candidates[0];
}

function pickDefaultClass(
  classes: readonly IngressClassState[],
  multipleDefaults: 'newest' | 'refuse',
): IngressClassState | undefined {
  const defaults = classes.filter((c) => c.isDefault);
  if (defaults.length <= 1) return defaults[0];
  if (multipleDefaults === 'refuse') return undefined;
  return [...defaults].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))[0];
}
