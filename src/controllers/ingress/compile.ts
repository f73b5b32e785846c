/**
 * Compiles the Ingresses each controller serves into its route table, once per reconcile: servers
 * by host, locations in the order the flavour tries them, canaries attached, TLS hosts indexed.
 */
import type { HTTPIngressPath, IngressBackend } from '../../api/types.js';
import type { Problem } from '../../api/problems.js';
import { quote } from '../../api/problems.js';
import type {
  IngressControllerConfig,
  IngressFlavour,
  IngressState,
  ReconciledState,
} from '../../model/types.js';
import type { NginxOptions, TraefikOptions } from './annotations.js';
import { NGINX_PREFIX, readNginxOptions, readTraefikOptions } from './annotations.js';
import {
  captureGroups,
  compileRegex,
  elementPrefix,
  exactPath,
  hasRegexChars,
  nginxRegexPath,
  regexPath,
  stringPrefix,
} from '../../model/routing/paths.js';
import { INGRESS_CODES, ingressProblem } from './problems.js';
import type {
  CanaryRoute,
  CompileOptions,
  ControllerRouting,
  HostKind,
  IngressRef,
  IngressRouting,
  LocationPolicy,
  PathMatch,
  RouteLocation,
  RouteServer,
  RouteTarget,
  TlsBinding,
} from '../../model/routing/types.js';

/** Compiles the routes of every installed ingress controller from the Ingresses it serves. */
export function compileRoutes(state: ReconciledState, options: CompileOptions = {}): IngressRouting {
  const problems: Problem[] = [];
  const controllers = new Map<string, ControllerRouting>();
  for (const config of state.cluster.ingressControllers) {
    const served = state.ingresses.filter((i) => i.controller === config.name).sort(oldestFirst);
    controllers.set(config.name, new ControllerCompiler(config, options, problems).compile(served));
  }
  return { controllers, problems };
}

/** Oldest first: creationTimestamp when present (timestamped before untimestamped), then order. */
export function oldestFirst(a: IngressState, b: IngressState): number {
  const ta = timestampOf(a);
  const tb = timestampOf(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.order - b.order;
}

function timestampOf(ingress: IngressState): number {
  const t = ingress.creationTimestamp ? Date.parse(ingress.creationTimestamp) : NaN;
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
}

/** The server key of a rule host: lowercased, `*.` wildcard, '' for every host. */
export function hostKindOf(host: string): HostKind {
  if (host === '') return 'any';
  return host.startsWith('*.') ? 'wildcard' : 'exact';
}

/** A path of a rule waiting to be compiled into a location. */
interface PathDraft {
  readonly ingress: IngressState;
  readonly ruleIndex: number;
  readonly pathIndex: number;
  readonly spec: HTTPIngressPath;
  readonly order: number;
}

interface ServerDraft {
  readonly host: string;
  readonly paths: PathDraft[];
  readonly canaries: PathDraft[];
  readonly ingresses: IngressState[];
  introducedBy?: IngressState;
}

interface IngressOptions {
  readonly nginx?: NginxOptions;
  readonly traefik?: TraefikOptions;
}

const SPEC_POLICY: LocationPolicy = { sslRedirect: false, forceSslRedirect: false };

class ControllerCompiler {
  private readonly drafts = new Map<string, ServerDraft>();
  private readonly ingressOptions = new Map<IngressState, IngressOptions>();
  private readonly flavour: IngressFlavour;
  /** The Ingress whose defaultBackend is the controller-wide one. */
  private defaultFrom: IngressState | undefined;

  constructor(
    private readonly config: IngressControllerConfig,
    private readonly options: CompileOptions,
    private readonly problems: Problem[],
  ) {
    this.flavour = config.flavour;
  }

  compile(served: readonly IngressState[]): ControllerRouting {
    const report = (p: Problem): void => {
      this.problems.push(p);
    };
    let order = 0;
    for (const ingress of served) {
      if (this.flavour === 'nginx')
        this.ingressOptions.set(ingress, { nginx: readNginxOptions(ingress, report) });
      if (this.flavour === 'traefik')
        this.ingressOptions.set(ingress, { traefik: readTraefikOptions(ingress, report) });
      const isCanary = this.nginxOf(ingress)?.canary !== undefined;
      (ingress.spec.rules ?? []).forEach((rule, ruleIndex) => {
        const server = this.draftFor((rule.host ?? '').toLowerCase());
        if (!isCanary) {
          server.introducedBy ??= ingress;
          if (!server.ingresses.includes(ingress)) server.ingresses.push(ingress);
        }
        (rule.http?.paths ?? []).forEach((spec, pathIndex) => {
          const draft = { ingress, ruleIndex, pathIndex, spec, order: order++ };
          (isCanary ? server.canaries : server.paths).push(draft);
        });
      });
    }
    this.draftFor('');
    const tls = this.indexTls(served);
    const defaultBackend = this.controllerDefault(served);
    const servers = [...this.drafts.values()]
      .map((d) => this.compileServer(d, tls, defaultBackend))
      .sort(serverOrder);
    const exactHosts = new Map<string, RouteServer>();
    const wildcardHosts = new Map<string, RouteServer>();
    let catchAll: RouteServer | undefined;
    for (const server of servers) {
      if (server.hostKind === 'exact') exactHosts.set(server.host, server);
      else if (server.hostKind === 'wildcard') wildcardHosts.set(server.host.slice(2), server);
      else catchAll = server;
    }
    if (!catchAll) throw new Error('ingress compiler lost its catch-all server');
    this.reportUnusedDefaults(served);
    const routers =
      this.flavour === 'traefik' ? servers.flatMap((s) => s.locations).sort(byPriority) : [];
    return {
      name: this.config.name,
      flavour: this.flavour,
      className: this.config.className,
      servers,
      exactHosts,
      wildcardHosts,
      catchAll,
      routers,
      ...(defaultBackend ? { defaultBackend } : {}),
      tls,
      ingresses: served.map(refOf),
    };
  }

  private nginxOf(ingress: IngressState): NginxOptions | undefined {
    return this.ingressOptions.get(ingress)?.nginx;
  }

  private draftFor(host: string): ServerDraft {
    let draft = this.drafts.get(host);
    if (!draft) {
      draft = { host, paths: [], canaries: [], ingresses: [] };
      this.drafts.set(host, draft);
    }
    return draft;
  }

  /** The backend every unrouted request of any host reaches (spec, traefik) or the nginx `_` server's. */
  private controllerDefault(served: readonly IngressState[]): RouteTarget | undefined {
    const candidates = served.filter(
      (i) => i.spec.defaultBackend && this.nginxOf(i)?.canary === undefined,
    );
    const chosen =
      this.flavour === 'nginx'
        ? candidates.find((i) => (i.spec.rules ?? []).length === 0)
        : candidates[0];
    this.defaultFrom = chosen;
    return chosen?.spec.defaultBackend
      ? defaultTarget(chosen, chosen.spec.defaultBackend)
      : undefined;
  }

  private compileServer(
    draft: ServerDraft,
    tls: ControllerRouting['tls'],
    controllerDefault: RouteTarget | undefined,
  ): RouteServer {
    const hostKind = hostKindOf(draft.host);
    const regexBy =
      this.flavour === 'nginx'
        ? draft.ingresses.filter((i) => {
            const o = this.nginxOf(i);
            return o !== undefined && (o.useRegex || o.rewriteTarget !== undefined);
          })
        : [];
    const regex = regexBy.length > 0;
    if (regex) this.reportRegexMode(draft, regexBy);

    const locations: RouteLocation[] = [];
    const seen = new Map<string, PathDraft>();
    for (const path of draft.paths) {
      const key = `${normalizedType(path.spec, this.flavour)} ${path.spec.path ?? ''}`;
      const older = seen.get(key);
      if (older) {
        this.reportDuplicate(draft.host, path, older);
        continue;
      }
      const location = this.compileLocation(draft.host, path, regex);
      if (!location) continue;
      seen.set(key, path);
      locations.push(location);
    }
    const withCanaries = this.attachCanaries(draft, locations, seen);
    withCanaries.sort(this.flavour === 'traefik' ? byPriority : this.locationOrder(regex));

    const introducer = draft.introducedBy;
    const defaultBackend = this.serverDefault(draft, controllerDefault);
    const binding =
      hostKind === 'exact'
        ? (tls.exact.get(draft.host) ?? tls.wildcard.get(parentOf(draft.host)))
        : hostKind === 'wildcard'
          ? tls.wildcard.get(draft.host.slice(2))
          : undefined;
    const appRootFrom = draft.ingresses.find((i) => this.nginxOf(i)?.appRoot !== undefined);
    const appRoot = appRootFrom ? this.nginxOf(appRootFrom)?.appRoot : undefined;
    const defaultPolicyFrom = hostKind === 'any' ? this.defaultFrom : introducer;
    return {
      host: draft.host,
      hostKind,
      regex,
      regexBy: regexBy.map(refOf),
      locations: withCanaries,
      ...(defaultBackend ? { defaultBackend } : {}),
      defaultPolicy: defaultPolicyFrom
        ? this.policyOf(defaultPolicyFrom, undefined)
        : this.basePolicy(),
      ...(appRootFrom && appRoot !== undefined
        ? { appRoot: { path: appRoot, from: refOf(appRootFrom) } }
        : {}),
      ...(binding ? { tls: binding } : {}),
    };
  }

  private serverDefault(
    draft: ServerDraft,
    controllerDefault: RouteTarget | undefined,
  ): RouteTarget | undefined {
    switch (this.flavour) {
      case 'traefik':
        return undefined;
      case 'nginx': {
        if (draft.host === '') return controllerDefault;
        const introducer = draft.introducedBy;
        return introducer?.spec.defaultBackend
          ? defaultTarget(introducer, introducer.spec.defaultBackend)
          : undefined;
      }
      case 'spec': {
        const own = draft.ingresses.find((i) => i.spec.defaultBackend);
        return own?.spec.defaultBackend
          ? defaultTarget(own, own.spec.defaultBackend)
          : controllerDefault;
      }
    }
  }

  private compileLocation(
    host: string,
    draft: PathDraft,
    regexHost: boolean,
  ): RouteLocation | undefined {
    const { spec, ingress } = draft;
    const path = spec.path ?? '';
    const target = pathTarget(draft);
    let match: PathMatch | undefined;
    let rule: string | undefined;
    let priority = path.length;
    switch (this.flavour) {
      case 'spec':
        match = spec.pathType === 'Exact' ? exactPath(path) : elementPrefix(path);
        break;
      case 'nginx':
        if (regexHost) {
          match = nginxRegexPath(path === '' ? '/' : path);
        } else {
          match = spec.pathType === 'Exact' ? exactPath(path) : elementPrefix(path);
          if (spec.pathType !== 'ImplementationSpecific' && hasRegexChars(path)) {
            this.problems.push(
              ingressProblem(
                ingress,
                INGRESS_CODES.regexInPlainPath,
                'warning',
                `path ${quote(path)} contains regex characters but pathType is ${spec.pathType}; it is matched literally`,
                `${target.field}.path`,
                `ingress-nginx's strict path validation rejects it: use pathType ImplementationSpecific with ${NGINX_PREFIX}use-regex`,
              ),
            );
          }
        }
        break;
      case 'traefik': {
        const compiled = this.traefikPath(host, draft);
        match = compiled.match;
        rule = compiled.rule;
        priority = this.ingressOptions.get(ingress)?.traefik?.priority ?? rule.length;
        break;
      }
    }
    if (!match) {
      this.problems.push(
        ingressProblem(
          ingress,
          INGRESS_CODES.invalidRegex,
          'error',
          `path ${quote(path)} is not a valid regular expression; the path is dropped`,
          `${target.field}.path`,
        ),
      );
      return undefined;
    }
    return {
      path,
      pathType: spec.pathType,
      match,
      target,
      priority,
      ...(rule !== undefined ? { rule } : {}),
      host,
      order: draft.order,
      policy: this.policyOf(ingress, draft),
    };
  }

  private traefikPath(
    host: string,
    draft: PathDraft,
  ): { match: PathMatch | undefined; rule: string } {
    const path = draft.spec.path ?? '';
    const hostRule = host === '' ? undefined : traefikHostRule(host);
    let matcher: 'Path' | 'PathPrefix' | 'PathRegexp' = 'PathPrefix';
    if (draft.spec.pathType === 'Exact') matcher = 'Path';
    else if (draft.spec.pathType === 'ImplementationSpecific') {
      matcher = this.ingressOptions.get(draft.ingress)?.traefik?.pathMatcher ?? 'PathPrefix';
    }
    let match: PathMatch | undefined;
    let pathRule: string | undefined;
    if (path === '') {
      match = stringPrefix('');
    } else if (matcher === 'Path') {
      match = exactPath(path);
      pathRule = `Path(\`${path}\`)`;
    } else if (matcher === 'PathRegexp') {
      match = regexPath(path, false);
      pathRule = `PathRegexp(\`${path}\`)`;
    } else if (
      this.options.strictPrefixMatching &&
      draft.spec.pathType === 'Prefix' &&
      path !== '/'
    ) {
      const base = path.replace(/\/+$/, '');
      match = elementPrefix(path);
      pathRule = `(Path(\`${base}\`) || PathPrefix(\`${base}/\`))`;
    } else {
      match = stringPrefix(path);
      pathRule = `PathPrefix(\`${path}\`)`;
    }
    const rule =
      [hostRule, pathRule].filter((r) => r !== undefined).join(' && ') || 'PathPrefix(`/`)';
    return { match, rule };
  }

  private basePolicy(): LocationPolicy {
    return this.flavour === 'nginx' ? { sslRedirect: true, forceSslRedirect: false } : SPEC_POLICY;
  }

  private policyOf(ingress: IngressState, draft: PathDraft | undefined): LocationPolicy {
    const o = this.nginxOf(ingress);
    if (!o) return SPEC_POLICY;
    let rewrite: LocationPolicy['rewrite'];
    if (o.rewriteTarget !== undefined && draft) {
      const path = draft.spec.path ?? '/';
      const regex = compileRegex(path === '' ? '/' : path, true);
      if (regex) {
        rewrite = { target: o.rewriteTarget, regex };
        this.checkRewrite(draft, regex, o.rewriteTarget);
      }
    }
    return {
      sslRedirect: o.sslRedirect,
      forceSslRedirect: o.forceSslRedirect,
      ...(o.permanentRedirect ? { redirect: o.permanentRedirect } : {}),
      ...(rewrite ? { rewrite } : {}),
      ...(o.allowSourceRange ? { allowSourceRange: o.allowSourceRange } : {}),
      ...(o.denySourceRange ? { denySourceRange: o.denySourceRange } : {}),
      ...(o.upstreamProtocol ? { upstreamProtocol: o.upstreamProtocol } : {}),
      ...(o.maxBodyBytes !== undefined ? { maxBodyBytes: o.maxBodyBytes } : {}),
      from: refOf(ingress),
    };
  }

  private checkRewrite(draft: PathDraft, regex: RegExp, target: string): void {
    const groups = captureGroups(regex);
    const used = [...target.matchAll(/\$(\d)/g)].map((m) => Number(m[1]));
    const highest = Math.max(0, ...used);
    const key = NGINX_PREFIX + 'rewrite-target';
    const field = `${pathTarget(draft).field}.path`;
    if (highest > groups) {
      this.problems.push(
        ingressProblem(
          draft.ingress,
          INGRESS_CODES.rewriteWithoutCaptures,
          'warning',
          `${key} ${quote(target)} uses $${highest} but path ${quote(draft.spec.path ?? '')} has ${groups} capture group(s); the missing groups are empty`,
          field,
          'add capture groups to the path, e.g. /something(/|$)(.*) with target /$2',
        ),
      );
    } else if (groups === 0 && used.length === 0 && (draft.spec.path ?? '/') !== '/') {
      this.problems.push(
        ingressProblem(
          draft.ingress,
          INGRESS_CODES.rewriteWithoutCaptures,
          'warning',
          `${key} ${quote(target)} has no capture groups to use: every request under ${quote(draft.spec.path ?? '')} is rewritten to exactly ${quote(target)}`,
          field,
          'capture the rest of the path, e.g. path /something(/|$)(.*) with target /$2',
        ),
      );
    }
  }

  private attachCanaries(
    draft: ServerDraft,
    locations: RouteLocation[],
    seen: ReadonlyMap<string, PathDraft>,
  ): RouteLocation[] {
    const out = [...locations];
    for (const canary of draft.canaries) {
      const key = `${normalizedType(canary.spec, this.flavour)} ${canary.spec.path ?? ''}`;
      const main = seen.get(key);
      const index = main ? out.findIndex((l) => l.order === main.order) : -1;
      const location = out[index];
      const policy = this.nginxOf(canary.ingress)?.canary;
      if (!location || !policy || location.canary) {
        const why = location?.canary
          ? 'the main path already has a canary (one canary per path)'
          : `no non-canary Ingress serves host ${quote(draft.host || '*')} path ${quote(canary.spec.path ?? '')}`;
        this.problems.push(
          ingressProblem(
            canary.ingress,
            INGRESS_CODES.orphanCanary,
            'warning',
            `canary path ${quote(canary.spec.path ?? '')} does nothing: ${why}`,
            pathTarget(canary).field,
            'a canary needs the same host, path and pathType as its main Ingress',
          ),
        );
        continue;
      }
      const attached: CanaryRoute = { target: pathTarget(canary), policy };
      out[index] = { ...location, canary: attached };
    }
    return out;
  }

  private locationOrder(regex: boolean): (a: RouteLocation, b: RouteLocation) => number {
    if (this.flavour === 'nginx' && regex) {
      return (a, b) => b.path.length - a.path.length || a.order - b.order;
    }
    if (this.flavour === 'nginx') {
      return (a, b) =>
        exactRank(a) - exactRank(b) || b.path.length - a.path.length || a.order - b.order;
    }
    return (a, b) =>
      b.path.length - a.path.length || exactRank(a) - exactRank(b) || a.order - b.order;
  }

  private indexTls(served: readonly IngressState[]): ControllerRouting['tls'] {
    const exact = new Map<string, TlsBinding>();
    const wildcard = new Map<string, TlsBinding>();
    const bindings: TlsBinding[] = [];
    for (const ingress of served) {
      if (this.nginxOf(ingress)?.canary !== undefined) continue;
      (ingress.spec.tls ?? []).forEach((entry, t) => {
        for (const raw of entry.hosts ?? []) {
          const host = raw.toLowerCase();
          const binding: TlsBinding = {
            host,
            ...(entry.secretName ? { secretName: entry.secretName } : {}),
            namespace: ingress.namespace,
            ingress: refOf(ingress),
            field: `spec.tls[${t}]`,
          };
          bindings.push(binding);
          const map = host.startsWith('*.') ? wildcard : exact;
          const key = host.startsWith('*.') ? host.slice(2) : host;
          if (!map.has(key)) map.set(key, binding);
        }
      });
    }
    return { exact, wildcard, bindings };
  }

  private reportRegexMode(draft: ServerDraft, regexBy: readonly IngressState[]): void {
    const by = new Set(regexBy);
    for (const ingress of draft.ingresses) {
      if (by.has(ingress)) continue;
      const first = regexBy[0];
      if (!first) continue;
      this.problems.push(
        ingressProblem(
          ingress,
          INGRESS_CODES.hostRegexMode,
          'warning',
          `Ingress ${first.namespace}/${first.name} switches host ${quote(draft.host || '*')} to regex mode: this Ingress's paths become case-insensitive regex prefixes too`,
          'spec.rules',
          `keep ${NGINX_PREFIX}use-regex and rewrite-target Ingresses on a host of their own`,
        ),
      );
    }
  }

  private reportDuplicate(host: string, path: PathDraft, older: PathDraft): void {
    const same = older.ingress === path.ingress;
    this.problems.push(
      ingressProblem(
        path.ingress,
        INGRESS_CODES.duplicatePath,
        'warning',
        `host ${quote(host || '*')} path ${quote(path.spec.path ?? '')} (${path.spec.pathType}) is already routed by ` +
          (same
            ? `${pathTarget(older).field} of the same Ingress`
            : `the older Ingress ${older.ingress.namespace}/${older.ingress.name}`) +
          '; this path is never used',
        pathTarget(path).field,
        'remove one of the two paths or give them different hosts',
      ),
    );
  }

  private reportUnusedDefaults(served: readonly IngressState[]): void {
    if (this.flavour !== 'nginx') return;
    const introducers = new Set<IngressState>();
    for (const d of this.drafts.values())
      if (d.host !== '' && d.introducedBy) introducers.add(d.introducedBy);
    for (const ingress of served) {
      if (!ingress.spec.defaultBackend || (ingress.spec.rules ?? []).length === 0) continue;
      if (this.nginxOf(ingress)?.canary !== undefined) continue;
      if (introducers.has(ingress)) continue;
      this.problems.push(
        ingressProblem(
          ingress,
          INGRESS_CODES.defaultBackendUnused,
          'warning',
          "spec.defaultBackend is never used by ingress-nginx: it applies only to hosts this Ingress introduces, and older Ingresses introduce all of its hosts (requests for unknown hosts get the controller's 404)",
          'spec.defaultBackend',
          'put the defaultBackend in an Ingress without rules to make it the catch-all',
        ),
      );
    }
  }
}

function exactRank(location: RouteLocation): number {
  return location.pathType === 'Exact' ? 0 : 1;
}

function byPriority(a: RouteLocation, b: RouteLocation): number {
  return b.priority - a.priority || a.order - b.order;
}

function serverOrder(a: RouteServer, b: RouteServer): number {
  const rank = { exact: 0, wildcard: 1, any: 2 } as const;
  return rank[a.hostKind] - rank[b.hostKind] || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0);
}

function normalizedType(spec: HTTPIngressPath, flavour: IngressFlavour): string {
  if (spec.pathType === 'ImplementationSpecific' && flavour !== 'traefik') return 'Prefix';
  return spec.pathType;
}

/** `Host(...)` or, for a wildcard, Traefik's `HostRegexp(^[a-zA-Z0-9-]+\.suffix$)`. */
function traefikHostRule(host: string): string {
  if (!host.startsWith('*.')) return `Host(\`${host}\`)`;
  const quoted = host.slice(2).replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
  return `HostRegexp(\`^[a-zA-Z0-9-]+\\.${quoted}$\`)`;
}

function parentOf(host: string): string {
  const dot = host.indexOf('.');
  return dot < 0 ? '' : host.slice(dot + 1);
}

/** `{namespace, name}` of an Ingress. */
export function refOf(ingress: IngressState): IngressRef {
  return { namespace: ingress.namespace, name: ingress.name };
}

function pathTarget(draft: PathDraft): RouteTarget {
  return {
    ingress: refOf(draft.ingress),
    ruleIndex: draft.ruleIndex,
    pathIndex: draft.pathIndex,
    field: `spec.rules[${draft.ruleIndex}].http.paths[${draft.pathIndex}]`,
    backend: backendRef(draft.ingress, draft.spec.backend),
  };
}

function defaultTarget(ingress: IngressState, backend: IngressBackend): RouteTarget {
  return {
    ingress: refOf(ingress),
    field: 'spec.defaultBackend',
    backend: backendRef(ingress, backend),
  };
}

function backendRef(ingress: IngressState, backend: IngressBackend): RouteTarget['backend'] {
  if (backend.service) {
    const port = backend.service.port?.number ?? backend.service.port?.name ?? 80;
    return {
      kind: 'service',
      service: { namespace: ingress.namespace, name: backend.service.name, port },
    };
  }
  return {
    kind: 'resource',
    resource: backend.resource ?? { kind: 'Unknown', name: '' },
  };
}
