/**
 * Routing one request through a controller's compiled routes: host lookup, first matching
 * location, then the location's policy (redirects, allow-lists, canary, rewrite) in nginx's phase
 * order. Pure: the caller resolves Services, endpoints and body sizes.
 */
import { inSourceRange } from './cidr.js';
import { matchesPath, pathOnly, queryOf, rewritePath } from './paths.js';
import type {
  CanaryDecision,
  CanaryRoute,
  ControllerRouting,
  IngressRequest,
  IngressRouting,
  LocationPolicy,
  RouteDecision,
  RouteLocation,
  RouteOptions,
  RouteServer,
  RouteTarget,
  TlsChoice,
} from './types.js';

/** Thrown when a request is routed through a controller that is not installed. */
export class UnknownControllerError extends Error {
  readonly code = 'EINGRESSCONTROLLER';
  constructor(
    readonly controller: string,
    known: readonly string[],
  ) {
    super(
      `ingress controller "${controller}" is not installed (installed: ${known.join(', ') || 'none'})`,
    );
    this.name = 'UnknownControllerError';
  }
}

/** The Host header as matched: port stripped, lowercased, trailing dot removed ('' when absent). */
export function normalizeHost(host: string | null | undefined): string {
  if (!host) return '';
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    h = end < 0 ? h : h.slice(0, end + 1);
  } else {
    const colon = h.indexOf(':');
    if (colon >= 0 && h.indexOf(':', colon + 1) < 0) h = h.slice(0, colon);
  }
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/** The compiled routes of one controller, or the error naming the installed ones. */
export function controllerRouting(routing: IngressRouting, controller: string): ControllerRouting {
  const found = routing.controllers.get(controller);
  if (!found) throw new UnknownControllerError(controller, [...routing.controllers.keys()]);
  return found;
}

/** The server a host reaches: exact, then `*.` wildcard (one label), then the catch-all. */
export function serverFor(routes: ControllerRouting, host: string): RouteServer {
  const exact = routes.exactHosts.get(host);
  if (exact) return exact;
  const dot = host.indexOf('.');
  if (dot > 0) {
    const wildcard = routes.wildcardHosts.get(host.slice(dot + 1));
    if (wildcard) return wildcard;
  }
  return routes.catchAll;
}

/** Decides what a controller does with a request. */
export function routeRequest(
  routing: IngressRouting,
  controller: string,
  req: IngressRequest,
  options: RouteOptions = {},
): RouteDecision {
  const routes = controllerRouting(routing, controller);
  const host = normalizeHost(req.host);
  const path = pathOnly(req.path);
  if (routes.flavour === 'traefik') return routeFlat(routes, host, path, req);

  const server = serverFor(routes, host);
  if (routes.flavour === 'nginx' && server.appRoot && path === '/') {
    return {
      kind: 'answer',
      status: 302,
      location: `${req.scheme}://${req.host ?? host}${server.appRoot.path}`,
      reason: `app-root of Ingress ${server.appRoot.from.namespace}/${server.appRoot.from.name} redirects "/"`,
      by: routes.name,
      ref: {
        ...server.appRoot.from,
        field: 'metadata.annotations[nginx.ingress.kubernetes.io/app-root]',
      },
    };
  }
  const location = server.locations.find((l) => matchesPath(l.match, path));
  const target = location?.target ?? server.defaultBackend;
  const policy = location?.policy ?? server.defaultPolicy;
  const answer = applyPolicy(routes, server, policy, host, req);
  if (answer) return answer;
  if (!target) return notFound(routes, host, path, server);
  return toBackend(routes, server.host, target, location, path, req, options);
}

/** Traefik: routers are flat; the highest priority router whose host and path match wins. */
function routeFlat(
  routes: ControllerRouting,
  host: string,
  path: string,
  req: IngressRequest,
): RouteDecision {
  let best: RouteLocation | undefined;
  const candidates = [routes.exactHosts.get(host), wildcardOf(routes, host), routes.catchAll];
  for (const server of candidates) {
    if (!server) continue;
    const found = server.locations.find((l) => matchesPath(l.match, path));
    if (
      found &&
      (!best ||
        found.priority > best.priority ||
        (found.priority === best.priority && found.order < best.order))
    ) {
      best = found;
    }
  }
  const target = best?.target ?? routes.defaultBackend;
  if (!target) return notFound(routes, host, path, undefined);
  return toBackend(routes, best?.host ?? '', target, best, path, req, {});
}

function wildcardOf(routes: ControllerRouting, host: string): RouteServer | undefined {
  const dot = host.indexOf('.');
  return dot > 0 ? routes.wildcardHosts.get(host.slice(dot + 1)) : undefined;
}

/** Redirects and allow-lists, in nginx's phase order (rewrite phase, then access phase). */
function applyPolicy(
  routes: ControllerRouting,
  server: RouteServer,
  policy: LocationPolicy,
  host: string,
  req: IngressRequest,
): RouteDecision | undefined {
  const ref = policy.from;
  if (policy.redirect) {
    return {
      kind: 'answer',
      status: policy.redirect.status,
      location: policy.redirect.url,
      reason: `${policy.redirect.annotation} answers every request of this path`,
      by: routes.name,
      ...(ref
        ? { ref: { ...ref, field: `metadata.annotations[${policy.redirect.annotation}]` } }
        : {}),
    };
  }
  if (req.scheme === 'http' && (policy.forceSslRedirect || (policy.sslRedirect && server.tls))) {
    const why = policy.forceSslRedirect
      ? 'force-ssl-redirect sends plain HTTP to HTTPS'
      : `host ${JSON.stringify(host)} has TLS (${server.tls?.ingress.namespace ?? ''}/${server.tls?.ingress.name ?? ''} ${server.tls?.field ?? ''}), so ingress-nginx redirects plain HTTP to HTTPS (ssl-redirect defaults to true)`;
    return {
      kind: 'answer',
      status: 308,
      location: `https://${host}${req.path}`,
      reason: why,
      by: routes.name,
      ...(server.tls && !policy.forceSslRedirect
        ? { ref: { ...server.tls.ingress, field: server.tls.field } }
        : ref
          ? { ref }
          : {}),
    };
  }
  if (policy.allowSourceRange) {
    const client = req.clientIP;
    if (client === undefined || !inSourceRange(policy.allowSourceRange, client)) {
      return {
        kind: 'answer',
        status: 403,
        reason: `client ${client ?? '(unknown address)'} is not in whitelist-source-range ${policy.allowSourceRange.cidrs.join(',')}`,
        by: routes.name,
        ...(ref
          ? {
              ref: {
                ...ref,
                field: 'metadata.annotations[nginx.ingress.kubernetes.io/whitelist-source-range]',
              },
            }
          : {}),
      };
    }
  }
  if (
    policy.denySourceRange &&
    req.clientIP !== undefined &&
    inSourceRange(policy.denySourceRange, req.clientIP)
  ) {
    return {
      kind: 'answer',
      status: 403,
      reason: `client ${req.clientIP} is in denylist-source-range ${policy.denySourceRange.cidrs.join(',')}`,
      by: routes.name,
      ...(ref
        ? {
            ref: {
              ...ref,
              field: 'metadata.annotations[nginx.ingress.kubernetes.io/denylist-source-range]',
            },
          }
        : {}),
    };
  }
  return undefined;
}

function notFound(
  routes: ControllerRouting,
  host: string,
  path: string,
  server: RouteServer | undefined,
): RouteDecision {
  const where =
    server && server.hostKind !== 'any'
      ? `host ${JSON.stringify(server.host)} has no path matching ${JSON.stringify(path)} and no default backend`
      : `no rule matches host ${JSON.stringify(host)} path ${JSON.stringify(path)} and no Ingress gives a default backend`;
  return {
    kind: 'answer',
    status: 404,
    reason: `${where}: the controller answers 404`,
    by: routes.name,
  };
}

function toBackend(
  routes: ControllerRouting,
  serverHost: string,
  target: RouteTarget,
  location: RouteLocation | undefined,
  path: string,
  req: IngressRequest,
  options: RouteOptions,
): RouteDecision {
  let chosen = target;
  let canary: CanaryDecision | undefined;
  if (location?.canary) {
    const by = canaryChoice(location.canary, req, options);
    if (by) {
      chosen = location.canary.target;
      canary = { by, primary: target };
    }
  }
  const policy = location?.policy;
  const backend = chosen.backend;
  if (backend.kind === 'resource') {
    return {
      kind: 'answer',
      status: 503,
      reason: `backend ${chosen.field} is a ${backend.resource.kind} resource, which the controller does not support`,
      by: routes.name,
      ref: { ...chosen.ingress, field: chosen.field },
    };
  }
  const rewrite = policy?.rewrite;
  const query = queryOf(req.path);
  const rewrittenPath = rewrite
    ? rewritePath(rewrite.regex, rewrite.target, path) + (query ? `?${query}` : '')
    : undefined;
  const what = location
    ? `${location.pathType} ${JSON.stringify(location.path)}${location.rule ? ` (${location.rule}, priority ${location.priority})` : ''}`
    : 'no path matched: default backend';
  return {
    kind: 'backend',
    by: routes.name,
    ingress: chosen.ingress,
    ...(chosen.ruleIndex !== undefined ? { ruleIndex: chosen.ruleIndex } : {}),
    ...(chosen.pathIndex !== undefined ? { pathIndex: chosen.pathIndex } : {}),
    field: chosen.field,
    host: serverHost,
    ...(location ? { path: location.path, pathType: location.pathType } : {}),
    service: backend.service,
    ...(rewrittenPath !== undefined ? { rewrittenPath } : {}),
    ...(policy?.upstreamProtocol ? { upstreamProtocol: policy.upstreamProtocol } : {}),
    ...(policy?.maxBodyBytes !== undefined ? { maxBodyBytes: policy.maxBodyBytes } : {}),
    ...(canary ? { canary } : {}),
    reason: `${what} of Ingress ${chosen.ingress.namespace}/${chosen.ingress.name} ${chosen.field}${canary ? ` (canary by ${canary.by})` : ''}`,
  };
}

/** ingress-nginx canary order: header, then cookie, then weight; `never` stops at its step. */
function canaryChoice(
  canary: CanaryRoute,
  req: IngressRequest,
  options: RouteOptions,
): CanaryDecision['by'] | undefined {
  const p = canary.policy;
  if (p.header) {
    const value = headerOf(req, p.header);
    if (value !== undefined) {
      if (p.headerValue !== undefined) {
        if (value === p.headerValue) return 'header';
      } else if (p.headerPattern) {
        if (p.headerPattern.test(value)) return 'header';
      } else if (value === 'always') {
        return 'header';
      } else if (value === 'never') {
        return undefined;
      }
    }
  }
  if (p.cookie) {
    const value = cookieOf(req, p.cookie);
    if (value === 'always') return 'cookie';
    if (value === 'never') return undefined;
  }
  if (p.weight <= 0) return undefined;
  if (p.weight >= p.weightTotal) return 'weight';
  const draw = options.random ? options.random() : hashUnit(requestKey(req));
  return draw * p.weightTotal < p.weight ? 'weight' : undefined;
}

function headerOf(req: IngressRequest, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(req.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

function cookieOf(req: IngressRequest, name: string): string | undefined {
  const direct = req.cookies?.[name];
  if (direct !== undefined) return direct;
  const header = headerOf(req, 'cookie');
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function requestKey(req: IngressRequest): string {
  return (
    req.requestId ?? `${req.clientIP ?? ''}|${req.method ?? 'GET'}|${req.host ?? ''}|${req.path}`
  );
}

/** FNV-1a of a string mapped to [0, 1): the deterministic canary draw. */
export function hashUnit(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h / 0x100000000;
}

/** Which TLS Secret a controller serves for an SNI name (exact host, then `*.` wildcard). */
export function tlsFor(
  routing: IngressRouting,
  controller: string,
  sniHost: string,
): TlsChoice | undefined {
  const routes = controllerRouting(routing, controller);
  const host = normalizeHost(sniHost);
  const binding =
    routes.tls.exact.get(host) ??
    (host.includes('.') ? routes.tls.wildcard.get(host.slice(host.indexOf('.') + 1)) : undefined);
  if (!binding) return undefined;
  return {
    ...(binding.secretName ? { secretName: binding.secretName } : {}),
    namespace: binding.namespace,
    ingress: binding.ingress,
    field: binding.field,
    host: binding.host,
  };
}
