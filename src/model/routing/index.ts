/**
 * Ingress routing in the model: the compiled routes of every controller (made once per reconcile
 * by the ingress controller), request routing, TLS by SNI and path matching, shared by every plane.
 */
export {
  routeRequest,
  tlsFor,
  normalizeHost,
  serverFor,
  controllerRouting,
  hashUnit,
  UnknownControllerError,
} from './route.js';
export { matchesPath, pathOnly } from './paths.js';
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
