/**
 * The compiled ingress route model. It is plain data (a RegExp is the only compiled value), laid
 * out like an nginx configuration: per controller, servers by host, locations in the order they are
 * tried. The router interprets it; a renderer can turn the same data into nginx.conf.
 */
import type { HTTPIngressPath, StringMap } from '../../api/types.js';
import type { Problem } from '../../api/problems.js';
import type { IpSet } from '../ip.js';
import type { IngressFlavour } from '../types.js';

/** An Ingress by namespace and name. */
export interface IngressRef {
  readonly namespace: string;
  readonly name: string;
}

/** A Service port as the Ingress names it: a number, or a port name the caller resolves. */
export type IngressServicePort = number | string;

/** What a route sends the request to. */
export type BackendRef =
  | {
      readonly kind: 'service';
      readonly service: {
        readonly namespace: string;
        readonly name: string;
        readonly port: IngressServicePort;
      };
    }
  | {
      readonly kind: 'resource';
      readonly resource: {
        readonly apiGroup?: string;
        readonly kind: string;
        readonly name: string;
      };
    };

/** A backend together with the Ingress field that declared it. */
export interface RouteTarget {
  readonly ingress: IngressRef;
  /** Absent for `spec.defaultBackend`. */
  readonly ruleIndex?: number;
  readonly pathIndex?: number;
  /** `spec.rules[0].http.paths[1]` or `spec.defaultBackend`. */
  readonly field: string;
  readonly backend: BackendRef;
}

/**
 * How a location's path is tested.
 * * `exact`: string equality.
 * * `prefix`: element-wise (the Kubernetes `Prefix`); `path` has no trailing slash, `/` is ''.
 * * `string-prefix`: character-wise (Traefik `PathPrefix`).
 * * `regex`: `pattern` as written in the rendered config, `regex` compiled once.
 */
export type PathMatch =
  | { readonly kind: 'exact'; readonly path: string }
  | { readonly kind: 'prefix'; readonly path: string }
  | { readonly kind: 'string-prefix'; readonly path: string }
  | {
      readonly kind: 'regex';
      readonly pattern: string;
      readonly caseInsensitive: boolean;
      readonly regex: RegExp;
    };

/** ingress-nginx `backend-protocol` values. */
export type UpstreamProtocol = 'HTTP' | 'HTTPS' | 'AUTO_HTTP' | 'GRPC' | 'GRPCS' | 'FCGI';

/** An address allow- or deny-list compiled to masks. */
export interface SourceRange {
  /** The CIDRs as written (normalized), for rendering. */
  readonly cidrs: readonly string[];
  /** The addresses they cover. */
  readonly set: IpSet;
}

/** A redirect a location answers with, without calling the upstream. */
export interface LocationRedirect {
  readonly status: number;
  readonly url: string;
  /** The annotation that asked for it. */
  readonly annotation: string;
}

/** A `rewrite-target`: the location regex is applied to the path and `$n` replaced. */
export interface LocationRewrite {
  readonly target: string;
  readonly regex: RegExp;
}

/** Per-location behaviour from annotations (ingress-nginx), all optional with upstream defaults. */
export interface LocationPolicy {
  /** Redirect plain HTTP to HTTPS when the host has TLS. @default true for nginx, false otherwise */
  readonly sslRedirect: boolean;
  /** Redirect plain HTTP to HTTPS even without TLS. @default false */
  readonly forceSslRedirect: boolean;
  readonly redirect?: LocationRedirect;
  readonly rewrite?: LocationRewrite;
  readonly allowSourceRange?: SourceRange;
  readonly denySourceRange?: SourceRange;
  readonly upstreamProtocol?: UpstreamProtocol;
  /** `client_max_body_size` in bytes; absent means unlimited. */
  readonly maxBodyBytes?: number;
  /** Which Ingress's annotations made this policy. */
  readonly from?: IngressRef;
}

/** How a canary decides, in ingress-nginx's order: header, then cookie, then weight. */
export interface CanaryPolicy {
  readonly header?: string;
  readonly headerValue?: string;
  readonly headerPattern?: RegExp;
  readonly cookie?: string;
  readonly weight: number;
  readonly weightTotal: number;
}

/** A canary Ingress attached to the location of its main Ingress. */
export interface CanaryRoute {
  readonly target: RouteTarget;
  readonly policy: CanaryPolicy;
}

/** One path of one rule, compiled. */
export interface RouteLocation {
  /** The path as written ('' for an ImplementationSpecific path left empty). */
  readonly path: string;
  readonly pathType: HTTPIngressPath['pathType'];
  readonly match: PathMatch;
  readonly target: RouteTarget;
  /** Traefik router priority (`len(rule)` or `router.priority`); the path length elsewhere. */
  readonly priority: number;
  /** The Traefik rule string this location stands for (traefik flavour). */
  readonly rule?: string;
  /** The server host this location belongs to (the Traefik router's host predicate). */
  readonly host: string;
  /** Age rank: oldest Ingress first, then rule and path index (the final tiebreaker). */
  readonly order: number;
  readonly policy: LocationPolicy;
  readonly canary?: CanaryRoute;
}

/** How a server's host matches. */
export type HostKind = 'exact' | 'wildcard' | 'any';

/** A virtual server: one host (lowercased, `*.suffix`, or '' for every host). */
export interface RouteServer {
  readonly host: string;
  readonly hostKind: HostKind;
  /** ingress-nginx regex mode: every path of the host is a case-insensitive `^path` regex. */
  readonly regex: boolean;
  /** Ingresses whose annotations switched the host to regex mode. */
  readonly regexBy: readonly IngressRef[];
  /** Tried in order, first match wins. */
  readonly locations: readonly RouteLocation[];
  /** Where requests that match no location go, before the controller's own 404. */
  readonly defaultBackend?: RouteTarget;
  /** Policy for requests that match no location (the introducing Ingress's annotations). */
  readonly defaultPolicy: LocationPolicy;
  /** ingress-nginx `app-root`: a request for `/` is redirected there (302). */
  readonly appRoot?: { readonly path: string; readonly from: IngressRef };
  /** The TLS binding that covers this host, if any. */
  readonly tls?: TlsBinding;
}

/** One `spec.tls[]` host bound to its Secret. */
export interface TlsBinding {
  /** Lowercased host, possibly `*.suffix`. */
  readonly host: string;
  /** Absent: the controller's default certificate serves the host. */
  readonly secretName?: string;
  readonly namespace: string;
  readonly ingress: IngressRef;
  /** `spec.tls[0]`. */
  readonly field: string;
}

/** What `tlsFor` answers for an SNI name. */
export interface TlsChoice {
  readonly secretName?: string;
  readonly namespace: string;
  readonly ingress: IngressRef;
  readonly field: string;
  /** The TLS host that matched (may be a wildcard). */
  readonly host: string;
}

/** The compiled routes of one controller. */
export interface ControllerRouting {
  readonly name: string;
  readonly flavour: IngressFlavour;
  readonly className: string;
  /** Exact-host servers, then wildcard servers, then the catch-all, each sorted by host. */
  readonly servers: readonly RouteServer[];
  readonly exactHosts: ReadonlyMap<string, RouteServer>;
  /** Wildcard servers keyed by the suffix after `*.`. */
  readonly wildcardHosts: ReadonlyMap<string, RouteServer>;
  /** The server for every other host (nginx `_`). */
  readonly catchAll: RouteServer;
  /** Traefik: every location of every server by descending priority (routers are flat). */
  readonly routers: readonly RouteLocation[];
  /** Controller-wide default backend (flavour rules decide which Ingress provides it). */
  readonly defaultBackend?: RouteTarget;
  readonly tls: {
    readonly exact: ReadonlyMap<string, TlsBinding>;
    readonly wildcard: ReadonlyMap<string, TlsBinding>;
    readonly bindings: readonly TlsBinding[];
  };
  /** The Ingresses this controller serves, oldest first. */
  readonly ingresses: readonly IngressRef[];
}

/** Compiled routes of every controller, plus what compiling them found. */
export interface IngressRouting {
  readonly controllers: ReadonlyMap<string, ControllerRouting>;
  readonly problems: readonly Problem[];
}

/** Options for `compileRoutes`. */
export interface CompileOptions {
  /** Traefik `providers.kubernetesIngress.strictPrefixMatching`. @default false */
  readonly strictPrefixMatching?: boolean;
}

/** A request as the ingress controller sees it. */
export interface IngressRequest {
  readonly scheme: 'http' | 'https';
  /** The Host header (port and case are ignored); empty or absent when the client sent none. */
  readonly host?: string | null;
  /** Path, optionally with a query string or fragment (ignored for matching). */
  readonly path: string;
  readonly method?: string;
  readonly headers?: StringMap;
  readonly cookies?: StringMap;
  readonly clientIP?: string;
  readonly sni?: string;
  /** Seeds the canary weight draw when no `random` is given. */
  readonly requestId?: string;
}

/** Options for one `routeRequest` call. */
export interface RouteOptions {
  /** Returns a number in [0, 1) for the canary weight draw. @default hash of the request */
  readonly random?: () => number;
}

/** Why a canary Ingress served the request instead of its main Ingress. */
export interface CanaryDecision {
  readonly by: 'header' | 'cookie' | 'weight';
  /** The main Ingress's target the canary replaced. */
  readonly primary: RouteTarget;
}

/** The controller proxies the request to a Service. */
export interface BackendDecision {
  readonly kind: 'backend';
  readonly by: string;
  readonly ingress: IngressRef;
  readonly ruleIndex?: number;
  readonly pathIndex?: number;
  readonly field: string;
  /** The server host that matched ('' for the catch-all). */
  readonly host: string;
  /** The matched path and its pathType; absent when a default backend served the request. */
  readonly path?: string;
  readonly pathType?: HTTPIngressPath['pathType'];
  readonly service: {
    readonly namespace: string;
    readonly name: string;
    readonly port: IngressServicePort;
  };
  readonly rewrittenPath?: string;
  readonly upstreamProtocol?: UpstreamProtocol;
  /** Requests with a larger body get 413 from the controller (the caller knows the body size). */
  readonly maxBodyBytes?: number;
  readonly canary?: CanaryDecision;
  readonly reason: string;
}

/** The controller answers by itself (404, 308, 403, 301, 302, 503). */
export interface AnswerDecision {
  readonly kind: 'answer';
  readonly status: number;
  readonly location?: string;
  readonly reason: string;
  readonly by: string;
  readonly ref?: IngressRef & { readonly field?: string };
}

/** What the controller does with a request. */
export type RouteDecision = BackendDecision | AnswerDecision;
