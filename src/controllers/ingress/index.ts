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
export {
  routeRequest,
  tlsFor,
  normalizeHost,
  serverFor,
  controllerRouting,
  hashUnit,
  UnknownControllerError,
} from './route.js';
export { lintIngresses } from './lint.js';
export { INGRESS_CODES } from './problems.js';
export { matchesPath, pathOnly } from './paths.js';
export { parseNginxSize, NGINX_DEFAULT_BODY_BYTES } from './annotations.js';
export type {
  AnswerDecision,
  BackendDecision,
  BackendRef,
  CanaryDecision,
  CanaryPolicy,
  CanaryRoute,
  CompileOptions,
  ControllerRouting,
  HostKind,
  IngressRef,
  IngressRequest,
  IngressRouting,
  IngressServicePort,
  LocationPolicy,
  PathMatch,
  RouteDecision,
  RouteLocation,
  RouteOptions,
  RouteServer,
  RouteTarget,
  TlsBinding,
  TlsChoice,
  UpstreamProtocol,
} from './types.js';
