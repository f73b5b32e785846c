/**
 * Controller annotations: which ones a flavour interprets, which it knows but kwire does not model,
 * which are dangerous (raw nginx directives, injectable values) and are never interpreted, and the
 * typed options read from the interpreted ones.
 */
import type { Problem } from '../../api/problems.js';
import { quote } from '../../api/problems.js';
import type { IngressFlavour, IngressState } from '../../model/types.js';
import { compileSourceRange } from '../../model/routing/cidr.js';
import { compileRegex } from '../../model/routing/paths.js';
import { INGRESS_CODES, annotationPath, ingressProblem } from './problems.js';
import type { CanaryPolicy, SourceRange, UpstreamProtocol } from '../../model/routing/types.js';

/** ingress-nginx annotation prefix. */
export const NGINX_PREFIX = 'nginx.ingress.kubernetes.io/';
/** Traefik annotation prefix for Ingress routers. */
export const TRAEFIK_PREFIX = 'traefik.ingress.kubernetes.io/';

type AnnotationKind = 'modelled' | 'unmodelled' | 'dangerous';

function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}

const NGINX_MODELLED = words(`
  rewrite-target use-regex ssl-redirect force-ssl-redirect backend-protocol canary canary-weight
  canary-weight-total canary-by-header canary-by-header-value canary-by-header-pattern
  canary-by-cookie whitelist-source-range allowlist-source-range denylist-source-range
  proxy-body-size permanent-redirect permanent-redirect-code temporal-redirect
  temporal-redirect-code app-root
`);

const NGINX_UNMODELLED = words(`
  affinity affinity-mode affinity-canary-behavior session-cookie-name session-cookie-path
  session-cookie-domain session-cookie-samesite session-cookie-expires session-cookie-max-age
  session-cookie-secure session-cookie-change-on-failure auth-url auth-signin
  auth-signin-redirect-param auth-response-headers auth-request-redirect auth-method
  auth-cache-key auth-cache-duration auth-keepalive auth-proxy-set-headers auth-always-set-cookie
  auth-type auth-secret auth-secret-type auth-realm auth-tls-secret auth-tls-verify-client
  auth-tls-verify-depth auth-tls-error-page auth-tls-pass-certificate-to-upstream
  auth-tls-match-cn enable-cors cors-allow-origin cors-allow-methods cors-allow-headers
  cors-expose-headers cors-allow-credentials cors-max-age default-backend custom-http-errors
  proxy-connect-timeout proxy-send-timeout proxy-read-timeout proxy-next-upstream
  proxy-next-upstream-timeout proxy-next-upstream-tries proxy-request-buffering proxy-buffering
  proxy-buffers-number proxy-buffer-size proxy-max-temp-file-size proxy-http-version
  proxy-cookie-domain proxy-cookie-path proxy-redirect-from proxy-redirect-to proxy-ssl-secret
  proxy-ssl-verify proxy-ssl-verify-depth proxy-ssl-name proxy-ssl-server-name
  proxy-ssl-protocols proxy-ssl-ciphers limit-rps limit-rpm limit-connections
  limit-burst-multiplier limit-rate limit-rate-after limit-whitelist limit-allowlist
  upstream-hash-by upstream-hash-by-subset upstream-hash-by-subset-size load-balance
  ssl-passthrough ssl-ciphers ssl-prefer-server-ciphers enable-access-log enable-rewrite-log
  enable-opentelemetry opentelemetry-trust-incoming-span x-forwarded-prefix service-upstream
  upstream-vhost from-to-www-redirect server-alias preserve-trailing-slash http2-push-preload
  client-body-buffer-size connection-proxy-header custom-headers mirror-uri mirror-target
  mirror-host mirror-request-body satisfy enable-modsecurity enable-owasp-core-rules
  modsecurity-transaction-id global-rate-limit global-rate-limit-window global-rate-limit-key
  global-rate-limit-ignored-cidrs
`);

/** Values that are pasted into nginx.conf unquoted: odd characters there are config injection. */
const NGINX_INJECTABLE = new Set(
  words(`
  auth-url auth-signin auth-tls-match-cn mirror-uri mirror-target mirror-host auth-secret
  auth-tls-secret upstream-vhost x-forwarded-prefix
`),
);

const TRAEFIK_MODELLED = ['router.pathmatcher', 'router.priority'];
const TRAEFIK_UNMODELLED_PREFIXES = ['router.', 'service.'];

const NGINX_KINDS = new Map<string, AnnotationKind>([
  ...NGINX_MODELLED.map((k) => [k, 'modelled'] as const),
  ...NGINX_UNMODELLED.map((k) => [k, 'unmodelled'] as const),
]);

/** Classifies an ingress-nginx annotation (the part after the prefix) with its value. */
function nginxKind(name: string, value: string): AnnotationKind | undefined {
  if (name.endsWith('-snippet')) return 'dangerous';
  if (NGINX_INJECTABLE.has(name) && /[\s"'`;{}\\$#<>]/.test(value)) return 'dangerous';
  return NGINX_KINDS.get(name);
}

function traefikKind(name: string): AnnotationKind | undefined {
  if (TRAEFIK_MODELLED.includes(name)) return 'modelled';
  if (TRAEFIK_UNMODELLED_PREFIXES.some((p) => name.startsWith(p))) return 'unmodelled';
  return undefined;
}

/**
 * Reports every controller annotation of an Ingress that its controller's flavour does not
 * interpret: dangerous ones, unknown ones, unmodelled ones and those of another controller.
 */
export function auditAnnotations(
  ingress: IngressState,
  flavour: IngressFlavour | undefined,
): Problem[] {
  const found: Problem[] = [];
  for (const [key, value] of Object.entries(ingress.annotations)) {
    const path = annotationPath(key);
    if (key.startsWith(NGINX_PREFIX)) {
      const name = key.slice(NGINX_PREFIX.length);
      const kind = nginxKind(name, value);
      if (kind === 'dangerous') {
        found.push(
          ingressProblem(
            ingress,
            INGRESS_CODES.dangerousAnnotation,
            'warning',
            `annotation ${quote(key)} injects raw nginx configuration and is ignored`,
            path,
            'ingress-nginx disables snippets by default (CVE-2021-25742, CVE-2025-1974); express the need with a modelled annotation',
          ),
        );
      } else if (flavour !== undefined && flavour !== 'nginx') {
        found.push(foreign(ingress, key, flavour));
      } else if (kind === undefined) {
        found.push(unknown(ingress, key, 'ingress-nginx'));
      } else if (kind === 'unmodelled') {
        found.push(unmodelled(ingress, key));
      }
    } else if (key.startsWith(TRAEFIK_PREFIX)) {
      const kind = traefikKind(key.slice(TRAEFIK_PREFIX.length));
      if (flavour !== undefined && flavour !== 'traefik')
        found.push(foreign(ingress, key, flavour));
      else if (kind === undefined) found.push(unknown(ingress, key, 'Traefik'));
      else if (kind === 'unmodelled') found.push(unmodelled(ingress, key));
    }
  }
  return found;
}

function foreign(ingress: IngressState, key: string, flavour: IngressFlavour): Problem {
  return ingressProblem(
    ingress,
    INGRESS_CODES.foreignAnnotation,
    'info',
    `annotation ${quote(key)} is for another controller; the ${flavour} controller serving this Ingress ignores it`,
    annotationPath(key),
  );
}

function unknown(ingress: IngressState, key: string, controller: string): Problem {
  return ingressProblem(
    ingress,
    INGRESS_CODES.unknownAnnotation,
    'warning',
    `annotation ${quote(key)} is not a ${controller} annotation and is ignored`,
    annotationPath(key),
    'check the spelling against the controller documentation',
  );
}

function unmodelled(ingress: IngressState, key: string): Problem {
  return ingressProblem(
    ingress,
    INGRESS_CODES.unmodelledAnnotation,
    'info',
    `annotation ${quote(key)} is not modelled by kwire and has no effect on traces`,
    annotationPath(key),
  );
}

/** The ingress-nginx options read from one Ingress's annotations. */
export interface NginxOptions {
  readonly useRegex: boolean;
  readonly rewriteTarget?: string;
  readonly sslRedirect: boolean;
  readonly forceSslRedirect: boolean;
  readonly upstreamProtocol?: UpstreamProtocol;
  readonly canary?: CanaryPolicy;
  readonly allowSourceRange?: SourceRange;
  readonly denySourceRange?: SourceRange;
  /** Absent: unlimited (`0`). */
  readonly maxBodyBytes?: number;
  readonly permanentRedirect?: {
    readonly url: string;
    readonly status: number;
    readonly annotation: string;
  };
  readonly appRoot?: string;
}

/** ingress-nginx's default `proxy-body-size` (1m). */
export const NGINX_DEFAULT_BODY_BYTES = 1024 * 1024;

const PROTOCOLS: readonly UpstreamProtocol[] = [
  'HTTP',
  'HTTPS',
  'AUTO_HTTP',
  'GRPC',
  'GRPCS',
  'FCGI',
];

/** Reads the ingress-nginx annotations of an Ingress; invalid values are reported and ignored. */
export function readNginxOptions(
  ingress: IngressState,
  report: (p: Problem) => void,
): NginxOptions {
  const get = (name: string): string | undefined => {
    const key = NGINX_PREFIX + name;
    const value = ingress.annotations[key];
    return value === undefined ? undefined : value.trim();
  };
  const invalid = (name: string, value: string, expected: string): void => {
    report(
      ingressProblem(
        ingress,
        INGRESS_CODES.invalidAnnotation,
        'warning',
        `annotation ${quote(NGINX_PREFIX + name)} has invalid value ${quote(value)}: ${expected}; ignored`,
        annotationPath(NGINX_PREFIX + name),
      ),
    );
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const value = get(name);
    if (value === undefined) return fallback;
    const parsed = parseBool(value);
    if (parsed === undefined) {
      invalid(name, value, 'expected "true" or "false"');
      return fallback;
    }
    return parsed;
  };

  const options: {
    -readonly [K in keyof NginxOptions]: NginxOptions[K];
  } = {
    useRegex: bool('use-regex', false),
    sslRedirect: bool('ssl-redirect', true),
    forceSslRedirect: bool('force-ssl-redirect', false),
    maxBodyBytes: NGINX_DEFAULT_BODY_BYTES,
  };

  const rewrite = get('rewrite-target');
  if (rewrite !== undefined && rewrite !== '') options.rewriteTarget = rewrite;

  const protocol = get('backend-protocol');
  if (protocol !== undefined) {
    const upper = protocol.toUpperCase();
    const known = PROTOCOLS.find((p) => p === upper);
    if (known) options.upstreamProtocol = known;
    else invalid('backend-protocol', protocol, `expected one of ${PROTOCOLS.join(', ')}`);
  }

  const bodySize = get('proxy-body-size');
  if (bodySize !== undefined) {
    const bytes = parseNginxSize(bodySize);
    if (bytes === undefined)
      invalid('proxy-body-size', bodySize, 'expected a size like 8m, 512k or 0');
    else options.maxBodyBytes = bytes === 0 ? undefined : bytes;
  }

  for (const [name, field] of [
    ['whitelist-source-range', 'allowSourceRange'],
    ['allowlist-source-range', 'allowSourceRange'],
    ['denylist-source-range', 'denySourceRange'],
  ] as const) {
    const list = get(name);
    if (list === undefined || options[field]) continue;
    const { range, invalid: bad } = compileSourceRange(list);
    if (bad.length > 0) invalid(name, bad.join(','), 'expected a comma-separated list of CIDRs');
    if (range) options[field] = range;
  }

  const permanent = get('permanent-redirect');
  const temporal = get('temporal-redirect');
  if (permanent !== undefined && permanent !== '') {
    options.permanentRedirect = {
      url: permanent,
      status: redirectCode(get('permanent-redirect-code'), 301),
      annotation: NGINX_PREFIX + 'permanent-redirect',
    };
  } else if (temporal !== undefined && temporal !== '') {
    options.permanentRedirect = {
      url: temporal,
      status: redirectCode(get('temporal-redirect-code'), 302),
      annotation: NGINX_PREFIX + 'temporal-redirect',
    };
  }

  const appRoot = get('app-root');
  if (appRoot !== undefined) {
    if (appRoot.startsWith('/')) options.appRoot = appRoot;
    else invalid('app-root', appRoot, 'expected an absolute path such as /app');
  }

  if (bool('canary', false)) options.canary = readCanary(get, invalid);
  return options;
}

function readCanary(
  get: (name: string) => string | undefined,
  invalid: (name: string, value: string, expected: string) => void,
): CanaryPolicy {
  const integer = (name: string, fallback: number): number => {
    const value = get(name);
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value)) {
      invalid(name, value, 'expected a non-negative integer');
      return fallback;
    }
    return Number(value);
  };
  const weightTotal = Math.max(1, integer('canary-weight-total', 100));
  const weight = Math.min(integer('canary-weight', 0), weightTotal);
  const header = get('canary-by-header');
  const headerValue = get('canary-by-header-value');
  const patternText = get('canary-by-header-pattern');
  const cookie = get('canary-by-cookie');
  let headerPattern: RegExp | undefined;
  if (patternText !== undefined && patternText !== '') {
    headerPattern = compileRegex(patternText, false);
    if (!headerPattern)
      invalid('canary-by-header-pattern', patternText, 'expected a regular expression');
  }
  return {
    weight,
    weightTotal,
    ...(header ? { header } : {}),
    ...(header && headerValue ? { headerValue } : {}),
    ...(header && !headerValue && headerPattern ? { headerPattern } : {}),
    ...(cookie ? { cookie } : {}),
  };
}

/** The options read from Traefik's router annotations. */
export interface TraefikOptions {
  readonly pathMatcher?: 'Path' | 'PathPrefix' | 'PathRegexp';
  readonly priority?: number;
}

/** Reads `router.pathmatcher` and `router.priority`; invalid values are reported and ignored. */
export function readTraefikOptions(
  ingress: IngressState,
  report: (p: Problem) => void,
): TraefikOptions {
  const out: { pathMatcher?: TraefikOptions['pathMatcher']; priority?: number } = {};
  const matcherKey = TRAEFIK_PREFIX + 'router.pathmatcher';
  const matcher = ingress.annotations[matcherKey]?.trim();
  if (matcher !== undefined) {
    if (matcher === 'Path' || matcher === 'PathPrefix' || matcher === 'PathRegexp')
      out.pathMatcher = matcher;
    else
      report(
        ingressProblem(
          ingress,
          INGRESS_CODES.invalidAnnotation,
          'warning',
          `annotation ${quote(matcherKey)} has invalid value ${quote(matcher)}: expected Path, PathPrefix or PathRegexp; ignored`,
          annotationPath(matcherKey),
        ),
      );
  }
  const priorityKey = TRAEFIK_PREFIX + 'router.priority';
  const priority = ingress.annotations[priorityKey]?.trim();
  if (priority !== undefined) {
    if (/^-?\d+$/.test(priority)) out.priority = Number(priority);
    else
      report(
        ingressProblem(
          ingress,
          INGRESS_CODES.invalidAnnotation,
          'warning',
          `annotation ${quote(priorityKey)} has invalid value ${quote(priority)}: expected an integer; ignored`,
          annotationPath(priorityKey),
        ),
      );
  }
  return out;
}

/** Go's strconv.ParseBool, which ingress-nginx uses for boolean annotations. */
export function parseBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  return undefined;
}

/** An nginx size (`1024`, `512k`, `8m`, `1g`) in bytes; undefined when malformed. */
export function parseNginxSize(value: string): number | undefined {
  const m = /^(\d+)([kKmMgG]?)$/.exec(value);
  if (!m) return undefined;
  const unit = (m[2] ?? '').toLowerCase();
  const factor = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Number(m[1]) * factor;
}

function redirectCode(value: string | undefined, fallback: number): number {
  if (value === undefined || !/^\d{3}$/.test(value)) return fallback;
  const code = Number(value);
  return code >= 300 && code <= 308 ? code : fallback;
}
