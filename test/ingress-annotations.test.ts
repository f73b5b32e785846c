/**
 * Controller behaviour beyond the spec: ingress-nginx annotations one by one, Traefik's matching,
 * and the cases where spec, nginx and traefik flavours disagree.
 */
import { describe, expect, it } from 'vitest';
import { compileRoutes, lintIngresses } from '../src/controllers/ingress/index.js';
import { routeRequest, tlsFor } from '../src/model/routing/index.js';
import type { CompileOptions, IngressRequest, RouteDecision, RouteOptions } from '../src/model/routing/index.js';
import type { IngressFlavour } from '../src/model/types.js';
import { controllerFor, ingressState } from './support/ingress-state.js';

interface PathSpec {
  path: string;
  type?: 'Exact' | 'Prefix' | 'ImplementationSpecific';
  svc: string;
}

interface IngressSpecInput {
  name: string;
  host?: string;
  paths?: PathSpec[];
  annotations?: Record<string, string>;
  tls?: string[];
  defaultBackend?: string;
  created?: string;
  className?: string;
}

/** Writes an Ingress manifest from a compact description. */
function ingress(i: IngressSpecInput): string {
  const lines = [
    '---',
    'apiVersion: networking.k8s.io/v1',
    'kind: Ingress',
    'metadata:',
    `  name: ${i.name}`,
  ];
  if (i.created) lines.push(`  creationTimestamp: "${i.created}"`);
  if (i.annotations) {
    lines.push('  annotations:');
    for (const [k, v] of Object.entries(i.annotations))
      lines.push(`    ${k}: ${JSON.stringify(v)}`);
  }
  lines.push('spec:');
  if (i.className) lines.push(`  ingressClassName: ${i.className}`);
  if (i.defaultBackend)
    lines.push(
      '  defaultBackend:',
      '    service:',
      `      name: ${i.defaultBackend}`,
      '      port:',
      '        number: 80',
    );
  if (i.tls)
    lines.push(
      '  tls:',
      '  - secretName: tls-' + i.name,
      '    hosts:',
      ...i.tls.map((h) => `    - "${h}"`),
    );
  if (i.paths) {
    lines.push('  rules:', `  - ${i.host !== undefined ? `host: "${i.host}"` : 'http:'}`);
    if (i.host !== undefined) lines.push('    http:');
    lines.push('      paths:');
    for (const p of i.paths) {
      lines.push(
        `      - path: "${p.path}"`,
        `        pathType: ${p.type ?? 'Prefix'}`,
        '        backend:',
        '          service:',
        `            name: ${p.svc}`,
        '            port:',
        '              number: 80',
      );
    }
  }
  return lines.join('\n');
}

function router(flavour: IngressFlavour, manifests: string[], options: CompileOptions = {}) {
  const controller = controllerFor(flavour);
  const state = ingressState(manifests.join('\n'), { controllers: [controller] });
  const routing = compileRoutes(state, options);
  return {
    state,
    routing,
    route: (req: Partial<IngressRequest> & { path: string }, opts?: RouteOptions): RouteDecision =>
      routeRequest(
        routing,
        controller.name,
        { scheme: 'http', host: 'a.example.com', ...req },
        opts,
      ),
    codes: () => lintIngresses(state, routing).map((p) => p.code),
  };
}

/** `svc:NAME` for a backend, `NNN` for an answer. */
function outcome(d: RouteDecision): string {
  return d.kind === 'backend' ? `svc:${d.service.name}` : String(d.status);
}

const NGX = 'nginx.ingress.kubernetes.io/';

describe('path matching across flavours', () => {
  const cases: {
    what: string;
    ingresses: IngressSpecInput[];
    path: string;
    host?: string;
    spec: string;
    nginx: string;
    traefik: string;
  }[] = [
    {
      what: 'Prefix /v1 against /v11: element-wise vs character-wise',
      ingresses: [{ name: 'a', host: 'a.example.com', paths: [{ path: '/v1', svc: 'v1' }] }],
      path: '/v11',
      spec: '404',
      nginx: '404',
      traefik: 'svc:v1',
    },
    {
      what: 'Exact and Prefix on the same path: Exact wins except in Traefik (longer rule string)',
      ingresses: [
        {
          name: 'a',
          host: 'a.example.com',
          paths: [
            { path: '/foo', svc: 'prefix' },
            { path: '/foo', type: 'Exact', svc: 'exact' },
          ],
        },
      ],
      path: '/foo',
      spec: 'svc:exact',
      nginx: 'svc:exact',
      traefik: 'svc:prefix',
    },
    {
      what: 'ImplementationSpecific is a prefix in every flavour (element-wise except Traefik)',
      ingresses: [
        {
          name: 'a',
          host: 'a.example.com',
          paths: [{ path: '/app', type: 'ImplementationSpecific', svc: 'app' }],
        },
      ],
      path: '/app/x',
      spec: 'svc:app',
      nginx: 'svc:app',
      traefik: 'svc:app',
    },
    {
      what: 'ImplementationSpecific /app against /application',
      ingresses: [
        {
          name: 'a',
          host: 'a.example.com',
          paths: [{ path: '/app', type: 'ImplementationSpecific', svc: 'app' }],
        },
      ],
      path: '/application',
      spec: '404',
      nginx: '404',
      traefik: 'svc:app',
    },
    {
      what: 'a host rule without a matching path does not fall through to the empty host (Traefik routers do)',
      ingresses: [
        { name: 'a', host: 'a.example.com', paths: [{ path: '/api', svc: 'api' }] },
        { name: 'b', paths: [{ path: '/', svc: 'any' }] },
      ],
      path: '/other',
      spec: '404',
      nginx: '404',
      traefik: 'svc:any',
    },
    {
      what: 'an unknown host reaches the empty-host rules',
      ingresses: [
        { name: 'a', host: 'a.example.com', paths: [{ path: '/api', svc: 'api' }] },
        { name: 'b', paths: [{ path: '/', svc: 'any' }] },
      ],
      host: 'other.example.com',
      path: '/api',
      spec: 'svc:any',
      nginx: 'svc:any',
      traefik: 'svc:any',
    },
    {
      what: 'the wildcard covers exactly one label',
      ingresses: [{ name: 'a', host: '*.example.com', paths: [{ path: '/', svc: 'wild' }] }],
      host: 'x.y.example.com',
      path: '/',
      spec: '404',
      nginx: '404',
      traefik: '404',
    },
    {
      what: 'a precise host beats the wildcard, except in Traefik: its HostRegexp rule is longer (#4161)',
      ingresses: [
        { name: 'w', host: '*.example.com', paths: [{ path: '/', svc: 'wild' }] },
        { name: 'p', host: 'a.example.com', paths: [{ path: '/', svc: 'precise' }] },
      ],
      path: '/x',
      spec: 'svc:precise',
      nginx: 'svc:precise',
      traefik: 'svc:wild',
    },
    {
      what: 'defaultBackend of an Ingress with rules, for an unknown host: ingress-nginx answers 404',
      ingresses: [
        {
          name: 'a',
          host: 'a.example.com',
          paths: [{ path: '/api', svc: 'api' }],
          defaultBackend: 'fallback',
        },
      ],
      host: 'unknown.example.com',
      path: '/',
      spec: 'svc:fallback',
      nginx: '404',
      traefik: 'svc:fallback',
    },
    {
      what: 'defaultBackend of an Ingress with rules, for its own host',
      ingresses: [
        {
          name: 'a',
          host: 'a.example.com',
          paths: [{ path: '/api', svc: 'api' }],
          defaultBackend: 'fallback',
        },
      ],
      path: '/other',
      spec: 'svc:fallback',
      nginx: 'svc:fallback',
      traefik: 'svc:fallback',
    },
    {
      what: 'defaultBackend of a rule-less Ingress catches unknown hosts',
      ingresses: [
        { name: 'a', host: 'a.example.com', paths: [{ path: '/api', svc: 'api' }] },
        { name: 'catch', defaultBackend: 'fallback' },
      ],
      host: 'unknown.example.com',
      path: '/',
      spec: 'svc:fallback',
      nginx: 'svc:fallback',
      traefik: 'svc:fallback',
    },
    {
      what: 'a rule-less defaultBackend does not serve a known host in ingress-nginx',
      ingresses: [
        { name: 'a', host: 'a.example.com', paths: [{ path: '/api', svc: 'api' }] },
        { name: 'catch', defaultBackend: 'fallback' },
      ],
      path: '/other',
      spec: 'svc:fallback',
      nginx: '404',
      traefik: 'svc:fallback',
    },
    {
      what: 'TLS host over plain HTTP: only ingress-nginx redirects (308)',
      ingresses: [
        {
          name: 'a',
          host: 'a.example.com',
          tls: ['a.example.com'],
          paths: [{ path: '/', svc: 'web' }],
        },
      ],
      path: '/x',
      spec: 'svc:web',
      nginx: '308',
      traefik: 'svc:web',
    },
    {
      what: 'host and path case: host case-insensitive, path case-sensitive without regex',
      ingresses: [{ name: 'a', host: 'a.example.com', paths: [{ path: '/Foo', svc: 'foo' }] }],
      host: 'A.EXAMPLE.COM:8080',
      path: '/foo',
      spec: '404',
      nginx: '404',
      traefik: '404',
    },
  ];

  it.each(cases)('$what', ({ ingresses, path, host, spec, nginx, traefik }) => {
    const manifests = ingresses.map(ingress);
    const got = (['spec', 'nginx', 'traefik'] as const).map((f) =>
      outcome(router(f, manifests).route({ path, ...(host ? { host } : {}) })),
    );
    expect(got).toEqual([spec, nginx, traefik]);
  });

  it('Traefik strictPrefixMatching makes Prefix element-wise', () => {
    const t = router(
      'traefik',
      [ingress({ name: 'a', host: 'a.example.com', paths: [{ path: '/v1', svc: 'v1' }] })],
      {
        strictPrefixMatching: true,
      },
    );
    expect(outcome(t.route({ path: '/v11' }))).toBe('404');
    expect(outcome(t.route({ path: '/v1/x' }))).toBe('svc:v1');
    expect(outcome(t.route({ path: '/v1' }))).toBe('svc:v1');
  });

  it('Traefik priority is the length of the rule string, router.priority overrides it', () => {
    const manifests = [
      ingress({ name: 'short', host: 'a.example.com', paths: [{ path: '/a', svc: 'short' }] }),
      ingress({ name: 'long', paths: [{ path: '/a/b/c/d/e/f/g/h/i', svc: 'long' }] }),
    ];
    const t = router('traefik', manifests);
    const decision = t.route({ path: '/a/b/c/d/e/f/g/h/i/j' });
    expect(outcome(decision)).toBe('svc:short');
    expect(decision.kind === 'backend' && decision.reason).toContain(
      'Host(`a.example.com`) && PathPrefix(`/a`)',
    );
    const boosted = router('traefik', [
      ingress({ name: 'short', host: 'a.example.com', paths: [{ path: '/a', svc: 'short' }] }),
      ingress({
        name: 'long',
        paths: [{ path: '/a/b', svc: 'long' }],
        annotations: { 'traefik.ingress.kubernetes.io/router.priority': '1000' },
      }),
    ]);
    expect(outcome(boosted.route({ path: '/a/b' }))).toBe('svc:long');
  });

  it('Traefik router.pathmatcher PathRegexp on ImplementationSpecific paths', () => {
    const t = router('traefik', [
      ingress({
        name: 'a',
        host: 'a.example.com',
        paths: [{ path: '^/user/[0-9]+$', type: 'ImplementationSpecific', svc: 'user' }],
        annotations: { 'traefik.ingress.kubernetes.io/router.pathmatcher': 'PathRegexp' },
      }),
    ]);
    expect(outcome(t.route({ path: '/user/42' }))).toBe('svc:user');
    expect(outcome(t.route({ path: '/user/x' }))).toBe('404');
    expect(t.codes()).toEqual([]);
  });

  it('Traefik wildcard routers use HostRegexp', () => {
    const t = router('traefik', [
      ingress({ name: 'a', host: '*.example.com', paths: [{ path: '/', svc: 'wild' }] }),
    ]);
    const decision = t.route({ host: 'b.example.com', path: '/' });
    expect(decision.kind === 'backend' && decision.reason).toContain(
      'HostRegexp(`^[a-zA-Z0-9-]+\\.example\\.com$`) && PathPrefix(`/`)',
    );
  });
});

describe('ingress-nginx annotations', () => {
  it('oldest Ingress wins a duplicate host+path (creationTimestamp, then order)', () => {
    const newer = ingress({
      name: 'newer',
      created: '2024-02-01T00:00:00Z',
      host: 'a.example.com',
      paths: [{ path: '/', svc: 'new' }],
    });
    const older = ingress({
      name: 'older',
      created: '2024-01-01T00:00:00Z',
      host: 'a.example.com',
      paths: [{ path: '/', svc: 'old' }],
    });
    const n = router('nginx', [newer, older]);
    expect(outcome(n.route({ path: '/' }))).toBe('svc:old');
    expect(n.codes()).toContain('KW-ING020');
    const byOrder = router('nginx', [
      ingress({ name: 'first', host: 'a.example.com', paths: [{ path: '/', svc: 'first' }] }),
      ingress({ name: 'second', host: 'a.example.com', paths: [{ path: '/', svc: 'second' }] }),
    ]);
    expect(outcome(byOrder.route({ path: '/' }))).toBe('svc:first');
  });

  it('use-regex switches the whole host to case-insensitive ^path regexes', () => {
    const n = router('nginx', [
      ingress({
        name: 'plain',
        host: 'a.example.com',
        paths: [
          { path: '/foo', svc: 'foo' },
          { path: '/exact', type: 'Exact', svc: 'exact' },
        ],
      }),
      ingress({
        name: 're',
        host: 'a.example.com',
        annotations: { [`${NGX}use-regex`]: 'true' },
        paths: [{ path: '/api/v[0-9]+', type: 'ImplementationSpecific', svc: 'api' }],
      }),
    ]);
    expect(outcome(n.route({ path: '/API/v2/users' }))).toBe('svc:api');
    expect(outcome(n.route({ path: '/FOObar' }))).toBe('svc:foo');
    expect(outcome(n.route({ path: '/exact/more' }))).toBe('svc:exact');
    expect(n.codes()).toContain('KW-ING022');
    const other = n.route({ host: 'b.example.com', path: '/foo' });
    expect(outcome(other)).toBe('404');
  });

  it('regex mode sorts by path length: a shorter regex can beat a literal', () => {
    const n = router('nginx', [
      ingress({
        name: 're',
        host: 'a.example.com',
        annotations: { [`${NGX}use-regex`]: 'true' },
        paths: [
          { path: '/foo/bar/[A-Z0-9]{3}', type: 'ImplementationSpecific', svc: 'regex' },
          { path: '/foo/bar/bar', svc: 'literal' },
        ],
      }),
    ]);
    expect(outcome(n.route({ path: '/foo/bar/bar' }))).toBe('svc:regex');
  });

  it.each([
    ['/something(/|$)(.*)', '/$2', '/something/new?x=1', '/new?x=1'],
    ['/something(/|$)(.*)', '/$2', '/something', '/'],
    ['/api(/|$)(.*)', '/v2/$2', '/API/users', '/v2/users'],
  ])('rewrite-target: path %s target %s maps %s to %s', (path, target, request, rewritten) => {
    const n = router('nginx', [
      ingress({
        name: 'rw',
        host: 'a.example.com',
        annotations: { [`${NGX}rewrite-target`]: target },
        paths: [{ path, type: 'ImplementationSpecific', svc: 'rw' }],
      }),
    ]);
    expect(n.route({ path: request })).toMatchObject({
      kind: 'backend',
      service: { name: 'rw' },
      rewrittenPath: rewritten,
    });
  });

  it.each([
    ['/', '/$1', 'KW-ING025'],
    ['/something', '/', 'KW-ING025'],
    ['/something(/|$)(.*)', '/$2', undefined],
  ])('lint of rewrite-target: path %s target %s', (path, target, code) => {
    const n = router('nginx', [
      ingress({
        name: 'rw',
        host: 'a.example.com',
        annotations: { [`${NGX}rewrite-target`]: target },
        paths: [{ path, type: 'ImplementationSpecific', svc: 'rw' }],
      }),
    ]);
    if (code) expect(n.codes()).toContain(code);
    else expect(n.codes()).toEqual([]);
  });

  it.each([
    [{}, 'http', '308'],
    [{}, 'https', 'svc:web'],
    [{ [`${NGX}ssl-redirect`]: 'false' }, 'http', 'svc:web'],
  ] as const)('ssl-redirect %j over %s', (annotations, scheme, want) => {
    const n = router('nginx', [
      ingress({
        name: 'a',
        host: 'a.example.com',
        tls: ['a.example.com'],
        annotations,
        paths: [{ path: '/', svc: 'web' }],
      }),
    ]);
    const d = n.route({ scheme, host: 'a.example.com:80', path: '/x?y=1' });
    expect(outcome(d)).toBe(want);
    if (d.kind === 'answer') expect(d.location).toBe('https://a.example.com/x?y=1');
  });

  it('force-ssl-redirect redirects without a TLS section', () => {
    const n = router('nginx', [
      ingress({
        name: 'a',
        host: 'a.example.com',
        annotations: { [`${NGX}force-ssl-redirect`]: 'true' },
        paths: [{ path: '/', svc: 'web' }],
      }),
    ]);
    expect(n.route({ path: '/' })).toMatchObject({
      kind: 'answer',
      status: 308,
      location: 'https://a.example.com/',
    });
    expect(outcome(n.route({ scheme: 'https', path: '/' }))).toBe('svc:web');
  });

  it.each([
    ['10.0.0.0/8, 192.168.1.1', '10.1.2.3', 'svc:web'],
    ['10.0.0.0/8, 192.168.1.1', '192.168.1.1', 'svc:web'],
    ['10.0.0.0/8, 192.168.1.1', '192.168.1.2', '403'],
    ['10.0.0.0/8', undefined, '403'],
    ['2001:db8::/32', '2001:db8::1', 'svc:web'],
    ['2001:db8::/32', '10.0.0.1', '403'],
  ])('whitelist-source-range %s, client %s', (list, clientIP, want) => {
    const n = router('nginx', [
      ingress({
        name: 'a',
        host: 'a.example.com',
        annotations: { [`${NGX}whitelist-source-range`]: list },
        paths: [{ path: '/', svc: 'web' }],
      }),
    ]);
    expect(outcome(n.route({ path: '/', ...(clientIP ? { clientIP } : {}) }))).toBe(want);
  });

  it('denylist-source-range answers 403 to the listed clients only', () => {
    const n = router('nginx', [
      ingress({
        name: 'a',
        host: 'a.example.com',
        annotations: { [`${NGX}denylist-source-range`]: '203.0.113.0/24' },
        paths: [{ path: '/', svc: 'web' }],
      }),
    ]);
    expect(outcome(n.route({ path: '/', clientIP: '203.0.113.9' }))).toBe('403');
    expect(outcome(n.route({ path: '/', clientIP: '198.51.100.9' }))).toBe('svc:web');
  });

  it('an invalid whitelist entry is reported and the valid ones still apply', () => {
    const n = router('nginx', [
      ingress({
        name: 'a',
        host: 'a.example.com',
        annotations: { [`${NGX}whitelist-source-range`]: '10.0.0.0/8,300.1.1.1/8' },
        paths: [{ path: '/', svc: 'web' }],
      }),
    ]);
    expect(n.codes()).toEqual(['KW-ING004']);
    expect(outcome(n.route({ path: '/', clientIP: '10.0.0.1' }))).toBe('svc:web');
  });

  it.each([
    [{ [`${NGX}permanent-redirect`]: 'https://new.example.com/' }, 301],
    [
      {
        [`${NGX}permanent-redirect`]: 'https://new.example.com/',
        [`${NGX}permanent-redirect-code`]: '308',
      },
      308,
    ],
    [
      {
        [`${NGX}permanent-redirect`]: 'https://new.example.com/',
        [`${NGX}permanent-redirect-code`]: '200',
      },
      301,
    ],
    [{ [`${NGX}temporal-redirect`]: 'https://new.example.com/' }, 302],
  ])('permanent/temporal redirect %j → %i', (annotations, status) => {
    const n = router('nginx', [
      ingress({
        name: 'a',
        host: 'a.example.com',
        annotations,
        paths: [{ path: '/', svc: 'web' }],
      }),
    ]);
    expect(n.route({ path: '/anything' })).toMatchObject({
      kind: 'answer',
      status,
      location: 'https://new.example.com/',
      by: 'ingress-nginx',
    });
  });

  it('app-root redirects only "/" with 302', () => {
    const n = router('nginx', [
      ingress({
        name: 'a',
        host: 'a.example.com',
        annotations: { [`${NGX}app-root`]: '/app' },
        paths: [{ path: '/', svc: 'web' }],
      }),
    ]);
    expect(n.route({ path: '/' })).toMatchObject({
      kind: 'answer',
      status: 302,
      location: 'http://a.example.com/app',
    });
    expect(outcome(n.route({ path: '/app' }))).toBe('svc:web');
  });

  it.each([
    [undefined, 'HTTP' as const, undefined],
    ['GRPC', 'GRPC', undefined],
    ['https', 'HTTPS', undefined],
    ['SMTP', undefined, 'KW-ING004'],
  ])('backend-protocol %s', (value, protocol, code) => {
    const n = router('nginx', [
      ingress({
        name: 'a',
        host: 'a.example.com',
        annotations: value ? { [`${NGX}backend-protocol`]: value } : {},
        paths: [{ path: '/', svc: 'web' }],
      }),
    ]);
    const d = n.route({ path: '/' });
    expect(d.kind === 'backend' ? d.upstreamProtocol : 'answer').toBe(
      protocol === 'HTTP' ? undefined : protocol,
    );
    if (code) expect(n.codes()).toContain(code);
  });

  it.each([
    [undefined, 1048576],
    ['8m', 8 * 1048576],
    ['512k', 512 * 1024],
    ['100', 100],
    ['0', undefined],
  ])('proxy-body-size %s → limit %s bytes', (value, bytes) => {
    const n = router('nginx', [
      ingress({
        name: 'a',
        host: 'a.example.com',
        annotations: value ? { [`${NGX}proxy-body-size`]: value } : {},
        paths: [{ path: '/', svc: 'web' }],
      }),
    ]);
    const d = n.route({ path: '/' });
    expect(d.kind === 'backend' ? d.maxBodyBytes : 'answer').toBe(bytes);
  });

  it('spec and traefik flavours set no body limit', () => {
    for (const f of ['spec', 'traefik'] as const) {
      const d = router(f, [
        ingress({ name: 'a', host: 'a.example.com', paths: [{ path: '/', svc: 'web' }] }),
      ]).route({ path: '/' });
      expect(d.kind === 'backend' ? d.maxBodyBytes : 'answer').toBeUndefined();
    }
  });
});

describe('ingress-nginx canary', () => {
  const main = ingress({
    name: 'main',
    host: 'a.example.com',
    paths: [{ path: '/', svc: 'stable' }],
    annotations: { [`${NGX}rewrite-target`]: '/' },
  });
  const canary = (extra: Record<string, string>): string =>
    ingress({
      name: 'canary',
      host: 'a.example.com',
      paths: [{ path: '/', svc: 'next' }],
      annotations: { [`${NGX}canary`]: 'true', ...extra },
    });

  it.each([
    ['weight 0', { [`${NGX}canary-weight`]: '0' }, {}, 0.0, 'svc:stable'],
    ['weight 100', { [`${NGX}canary-weight`]: '100' }, {}, 0.99, 'svc:next'],
    ['weight 30, draw 0.29', { [`${NGX}canary-weight`]: '30' }, {}, 0.29, 'svc:next'],
    ['weight 30, draw 0.30', { [`${NGX}canary-weight`]: '30' }, {}, 0.3, 'svc:stable'],
    [
      'weight 3 of 10',
      { [`${NGX}canary-weight`]: '3', [`${NGX}canary-weight-total`]: '10' },
      {},
      0.25,
      'svc:next',
    ],
    [
      'header always',
      { [`${NGX}canary-by-header`]: 'X-Canary' },
      { headers: { 'x-canary': 'always' } },
      0.9,
      'svc:next',
    ],
    [
      'header never beats weight 100',
      { [`${NGX}canary-by-header`]: 'X-Canary', [`${NGX}canary-weight`]: '100' },
      { headers: { 'X-Canary': 'never' } },
      0,
      'svc:stable',
    ],
    [
      'header other value falls to weight',
      { [`${NGX}canary-by-header`]: 'X-Canary' },
      { headers: { 'X-Canary': 'yes' } },
      0,
      'svc:stable',
    ],
    [
      'header value match',
      { [`${NGX}canary-by-header`]: 'X-Canary', [`${NGX}canary-by-header-value`]: 'blue' },
      { headers: { 'X-Canary': 'blue' } },
      0.9,
      'svc:next',
    ],
    [
      'header value mismatch',
      { [`${NGX}canary-by-header`]: 'X-Canary', [`${NGX}canary-by-header-value`]: 'blue' },
      { headers: { 'X-Canary': 'always' } },
      0.9,
      'svc:stable',
    ],
    [
      'header pattern',
      { [`${NGX}canary-by-header`]: 'X-Canary', [`${NGX}canary-by-header-pattern`]: '^b.*' },
      { headers: { 'X-Canary': 'beta' } },
      0.9,
      'svc:next',
    ],
    [
      'cookie always',
      { [`${NGX}canary-by-cookie`]: 'canary' },
      { cookies: { canary: 'always' } },
      0.9,
      'svc:next',
    ],
    [
      'cookie from the Cookie header',
      { [`${NGX}canary-by-cookie`]: 'canary' },
      { headers: { Cookie: 'a=1; canary=always' } },
      0.9,
      'svc:next',
    ],
    [
      'cookie never beats weight 100',
      { [`${NGX}canary-by-cookie`]: 'canary', [`${NGX}canary-weight`]: '100' },
      { cookies: { canary: 'never' } },
      0,
      'svc:stable',
    ],
    [
      'header before cookie',
      { [`${NGX}canary-by-header`]: 'X-Canary', [`${NGX}canary-by-cookie`]: 'canary' },
      { headers: { 'X-Canary': 'never' }, cookies: { canary: 'always' } },
      0,
      'svc:stable',
    ],
  ] as const)('%s', (_what, annotations, req, draw, want) => {
    const n = router('nginx', [main, canary(annotations)]);
    const d = n.route({ path: '/x', ...req }, { random: () => draw });
    expect(outcome(d)).toBe(want);
    if (d.kind === 'backend') {
      expect(d.rewrittenPath).toBe('/');
      if (want === 'svc:next') expect(d.canary?.primary.ingress.name).toBe('main');
    }
  });

  it('the weight draw is a deterministic hash of the request id without a random source', () => {
    const n = router('nginx', [main, canary({ [`${NGX}canary-weight`]: '50' })]);
    const pick = (id: string): string => outcome(n.route({ path: '/', requestId: id }));
    const ids = Array.from({ length: 200 }, (_, i) => `req-${i}`);
    const first = ids.map(pick);
    expect(ids.map(pick)).toEqual(first);
    const share = first.filter((o) => o === 'svc:next').length / ids.length;
    expect(share).toBeGreaterThan(0.3);
    expect(share).toBeLessThan(0.7);
  });

  it('a canary without a main Ingress for its host and path does nothing, and lint says so', () => {
    const n = router('nginx', [
      main,
      ingress({
        name: 'lonely',
        host: 'a.example.com',
        paths: [{ path: '/other', svc: 'next' }],
        annotations: { [`${NGX}canary`]: 'true', [`${NGX}canary-weight`]: '100' },
      }),
    ]);
    expect(outcome(n.route({ path: '/other' }))).toBe('svc:stable');
    expect(n.codes()).toContain('KW-ING021');
  });

  it('canary annotations mean nothing to the spec flavour: the duplicate path is a conflict', () => {
    const s = router('spec', [main, canary({ [`${NGX}canary-weight`]: '100' })]);
    expect(outcome(s.route({ path: '/' }))).toBe('svc:stable');
    expect(s.codes()).toContain('KW-ING020');
  });
});

describe('annotations that are ignored, and lint', () => {
  it.each([
    [{ [`${NGX}configuration-snippet`]: 'more_set_headers "X: y";' }, 'KW-ING001'],
    [{ [`${NGX}server-snippet`]: 'location /x { return 200; }' }, 'KW-ING001'],
    [{ [`${NGX}auth-snippet`]: 'x' }, 'KW-ING001'],
    [{ [`${NGX}auth-url`]: 'http://auth.example.com/verify;\nload_module /x.so' }, 'KW-ING001'],
    [{ [`${NGX}auth-url`]: 'http://auth.example.com/verify' }, 'KW-ING003'],
    [{ [`${NGX}enable-cors`]: 'true' }, 'KW-ING003'],
    [{ [`${NGX}rewrite-targte`]: '/' }, 'KW-ING002'],
    [{ [`${NGX}ssl-redirect`]: 'maybe' }, 'KW-ING004'],
    [{ 'traefik.ingress.kubernetes.io/router.entrypoints': 'web' }, 'KW-ING005'],
    [{ 'cert-manager.io/cluster-issuer': 'x' }, undefined],
  ])('%j → %s', (annotations, code) => {
    const n = router('nginx', [
      ingress({
        name: 'a',
        host: 'a.example.com',
        annotations,
        paths: [{ path: '/', svc: 'web' }],
      }),
    ]);
    expect(n.codes()).toEqual(code ? [code] : []);
    expect(outcome(n.route({ path: '/' }))).toBe('svc:web');
  });

  it('a snippet never changes routing, whatever it says', () => {
    const n = router('nginx', [
      ingress({
        name: 'a',
        host: 'a.example.com',
        annotations: {
          [`${NGX}server-snippet`]: 'return 403;',
          [`${NGX}configuration-snippet`]: 'deny all;',
        },
        paths: [{ path: '/', svc: 'web' }],
      }),
    ]);
    expect(outcome(n.route({ path: '/' }))).toBe('svc:web');
  });

  it('nginx annotations on a Traefik-served Ingress are foreign and ignored', () => {
    const t = router('traefik', [
      ingress({
        name: 'a',
        host: 'a.example.com',
        annotations: { [`${NGX}rewrite-target`]: '/' },
        paths: [{ path: '/x', svc: 'web' }],
      }),
    ]);
    const d = t.route({ path: '/x/y' });
    expect(d).toMatchObject({ kind: 'backend', service: { name: 'web' } });
    expect(d.kind === 'backend' ? d.rewrittenPath : 'answer').toBeUndefined();
    expect(t.codes()).toEqual(['KW-ING005']);
  });

  it('TLS host not in the rules, TLS without secretName, resource backends', () => {
    const yaml = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: a}
spec:
  tls:
  - hosts: [a.example.com, typo.example.com]
  rules:
  - host: a.example.com
    http:
      paths:
      - path: /bucket
        pathType: Prefix
        backend:
          resource: {apiGroup: k8s.example.com, kind: StorageBucket, name: static}
`;
    const state = ingressState(yaml, { controllers: [controllerFor('nginx')] });
    const routing = compileRoutes(state);
    expect(lintIngresses(state, routing).map((p) => [p.code, p.path])).toEqual([
      ['KW-ING031', 'spec.tls[0]'],
      ['KW-ING030', 'spec.tls[0].hosts[1]'],
      ['KW-ING032', 'spec.rules[0].http.paths[0].backend.resource'],
    ]);
    expect(
      routeRequest(routing, 'ingress-nginx', {
        scheme: 'https',
        host: 'a.example.com',
        path: '/bucket',
      }),
    ).toMatchObject({ kind: 'answer', status: 503 });
    expect(tlsFor(routing, 'ingress-nginx', 'a.example.com')).toEqual({
      namespace: 'default',
      ingress: { namespace: 'default', name: 'a' },
      field: 'spec.tls[0]',
      host: 'a.example.com',
    });
  });

  it('regex characters in a Prefix path under ingress-nginx are literal and linted', () => {
    const n = router('nginx', [
      ingress({ name: 'a', host: 'a.example.com', paths: [{ path: '/api/v[0-9]', svc: 'web' }] }),
    ]);
    expect(n.codes()).toEqual(['KW-ING024']);
    expect(outcome(n.route({ path: '/api/v1' }))).toBe('404');
  });

  it('an invalid regex path is dropped with an error', () => {
    const n = router('nginx', [
      ingress({
        name: 'a',
        host: 'a.example.com',
        annotations: { [`${NGX}use-regex`]: 'true' },
        paths: [{ path: '/api/(', type: 'ImplementationSpecific', svc: 'web' }],
      }),
    ]);
    expect(n.codes()).toEqual(['KW-ING023']);
    expect(outcome(n.route({ path: '/api/(' }))).toBe('404');
  });

  it('an ingress-nginx defaultBackend that can never be used is linted', () => {
    const n = router('nginx', [
      ingress({ name: 'first', host: 'a.example.com', paths: [{ path: '/', svc: 'web' }] }),
      ingress({
        name: 'second',
        host: 'a.example.com',
        paths: [{ path: '/api', svc: 'api' }],
        defaultBackend: 'fallback',
      }),
    ]);
    expect(n.codes()).toEqual(['KW-ING033']);
  });
});

describe('IngressClass resolution and several controllers', () => {
  const classes = `
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: traefik}
spec: {controller: traefik.io/ingress-controller}
`;
  const controllers = [controllerFor('nginx'), controllerFor('traefik', { defaultClass: false })];
  const state = ingressState(
    [
      classes,
      ingress({
        name: 'by-default',
        host: 'a.example.com',
        paths: [{ path: '/v1', svc: 'nginx-svc' }],
      }),
      ingress({
        name: 'by-field',
        host: 'a.example.com',
        className: 'traefik',
        paths: [{ path: '/v1', svc: 'traefik-svc' }],
      }),
      ingress({
        name: 'by-annotation',
        host: 'b.example.com',
        annotations: { 'kubernetes.io/ingress.class': 'traefik' },
        paths: [{ path: '/', svc: 'b' }],
      }),
      ingress({
        name: 'unknown-class',
        host: 'c.example.com',
        className: 'haproxy',
        paths: [{ path: '/', svc: 'c' }],
      }),
    ].join('\n'),
    { controllers },
  );
  const routing = compileRoutes(state);

  it('resolves each Ingress to its controller', () => {
    expect(
      state.ingresses.map((i) => [
        i.name,
        i.className ?? null,
        i.classFrom ?? null,
        i.controller ?? null,
      ]),
    ).toEqual([
      ['by-default', 'nginx', 'default', 'ingress-nginx'],
      ['by-field', 'traefik', 'ingressClassName', 'traefik'],
      ['by-annotation', 'traefik', 'annotation', 'traefik'],
      ['unknown-class', 'haproxy', 'ingressClassName', null],
    ]);
  });

  it('each controller routes only its own Ingresses', () => {
    const req = { scheme: 'http' as const, host: 'a.example.com', path: '/v11' };
    expect(outcome(routeRequest(routing, 'ingress-nginx', req))).toBe('404');
    expect(outcome(routeRequest(routing, 'traefik', req))).toBe('svc:traefik-svc');
    expect(
      outcome(routeRequest(routing, 'ingress-nginx', { ...req, host: 'b.example.com', path: '/' })),
    ).toBe('404');
    expect(
      outcome(routeRequest(routing, 'traefik', { ...req, host: 'c.example.com', path: '/' })),
    ).toBe('404');
    expect(() => routeRequest(routing, 'haproxy', req)).toThrow(/not installed/);
  });

  it('lints the Ingress nobody serves', () => {
    const problems = lintIngresses(state, routing);
    expect(problems.map((p) => [p.code, p.object?.name])).toEqual([['KW-ING010', 'unknown-class']]);
  });
});

describe('TLS by SNI', () => {
  const n = router('nginx', [
    ingress({
      name: 'wild',
      host: '*.example.com',
      tls: ['*.example.com'],
      paths: [{ path: '/', svc: 'wild' }],
    }),
    ingress({
      name: 'exact',
      host: 'a.example.com',
      tls: ['A.example.com'],
      paths: [{ path: '/', svc: 'a' }],
    }),
  ]);

  it.each([
    ['a.example.com', 'tls-exact', 'a.example.com'],
    ['B.example.com.', 'tls-wild', '*.example.com'],
    ['x.b.example.com', undefined, undefined],
    ['example.com', undefined, undefined],
  ])('SNI %s → %s', (sni, secretName, host) => {
    const choice = tlsFor(n.routing, 'ingress-nginx', sni);
    expect(choice?.secretName).toBe(secretName);
    expect(choice?.host).toBe(host);
  });

  it('SNI picks the certificate, the Host header picks the route', () => {
    const d = n.route({ scheme: 'https', host: 'b.example.com', sni: 'a.example.com', path: '/' });
    expect(outcome(d)).toBe('svc:wild');
    expect(tlsFor(n.routing, 'ingress-nginx', 'a.example.com')?.secretName).toBe('tls-exact');
  });

  it('a request without a Host header reaches the catch-all only', () => {
    expect(outcome(n.route({ scheme: 'https', host: null, path: '/' }))).toBe('404');
  });
});
