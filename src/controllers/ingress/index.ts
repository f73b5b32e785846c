/**
 * The ingress controller: IngressClass resolution, route compilation per controller and flavour
 * (`spec`, `nginx`, `traefik`), request routing, TLS by SNI, and ingress lint.
 */
export {
  resolveIngressClass,
  INGRESS_CLASS_ANNOTATION,
  DEFAULT_CLASS_ANNOTATION,
} from './class.js';
export type { IngressClassInput, IngressClassResolution, ClassResolutionOptions } from './class.js';
export { compileRoutes, oldestFirst } from './compile.js';
export { lintIngresses } from './lint.js';
export { INGRESS_CODES } from './problems.js';
export { parseNginxSize, NGINX_DEFAULT_BODY_BYTES } from './annotations.js';
