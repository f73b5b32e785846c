/**
 * The Kubernetes docs' Ingress examples (conformance/ingress-docs) and the course's two Ingresses
 * (conformance/course), routed as data through the compiled routes.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileRoutes, lintIngresses } from '../src/controllers/ingress/index.js';
import { routeRequest, tlsFor } from '../src/model/routing/index.js';
import type { RouteDecision } from '../src/model/routing/index.js';
import type { NetworkState } from '../src/model/types.js';
import {
  COURSE_INGRESSES,
  controllerFor,
  ingressState,
  serviceStatus,
} from './support/ingress-state.js';
import { conformancePath } from './support/conformance.js';

const DOCS = conformancePath('ingress-docs');

interface DocsCase {
  request: { host: string | null; path: string; method: string; scheme: 'http' | 'https' };
  expect: { service: string; port: number; status: number; matched_rule?: string | null };
}

function statusOf(state: NetworkState, decision: RouteDecision): number {
  return decision.kind === 'answer' ? decision.status : serviceStatus(state, decision.service);
}

const scenarios = readdirSync(DOCS).sort();

describe('ingress-docs conformance (spec flavour)', () => {
  it('finds the 24 scenarios', () => {
    expect(scenarios).toHaveLength(24);
  });

  it.each(scenarios)('%s', (dir) => {
    const input = readFileSync(join(DOCS, dir, 'input.yaml'), 'utf8');
    const cases = JSON.parse(readFileSync(join(DOCS, dir, 'expected.json'), 'utf8')) as DocsCase[];
    const state = ingressState(input);
    const routing = compileRoutes(state);
    expect(cases.length).toBeGreaterThan(0);
    for (const { request, expect: want } of cases) {
      const decision = routeRequest(routing, 'ingress-spec', request);
      const label = `${request.scheme}://${request.host ?? '*'}${request.path}`;
      expect(statusOf(state, decision), label).toBe(want.status);
      if (decision.kind !== 'backend')
        throw new Error(`${label}: expected a backend, got ${decision.reason}`);
      expect(decision.service, label).toEqual({
        namespace: 'default',
        name: want.service,
        port: want.port,
      });
      if (want.matched_rule === null) expect(decision.field, label).toBe('spec.defaultBackend');
      if (typeof want.matched_rule === 'string') {
        expect(`${decision.path ?? ''} ${decision.pathType ?? ''}`, label).toBe(want.matched_rule);
      }
    }
  });
});

interface CourseCase {
  url: string;
  expect: {
    service?: string;
    port?: number;
    status?: number;
    verdict?: string;
    certificate?: { secretName: string };
  };
}

const course = JSON.parse(readFileSync(conformancePath('course', 'expected.json'), 'utf8')) as {
  requests: CourseCase[];
};

describe('course Ingresses (default profile: ingress-nginx, class nginx default)', () => {
  const state = ingressState(COURSE_INGRESSES, { controllers: [controllerFor('nginx')] });
  const routing = compileRoutes(state);

  it('both Ingresses are served by ingress-nginx (default class and legacy annotation)', () => {
    expect(state.ingresses.map((i) => [i.name, i.className, i.classFrom, i.controller])).toEqual([
      ['ingress-wildcard-host', 'nginx', 'default', 'ingress-nginx'],
      ['kuard', 'nginx', 'annotation', 'ingress-nginx'],
    ]);
    expect(lintIngresses(state, routing).filter((p) => p.severity !== 'info')).toEqual([]);
  });

  const routed = course.requests.filter((r) => r.expect.verdict === undefined);
  const skipped = course.requests.filter((r) => r.expect.verdict !== undefined);

  it.each(routed.map((r) => [r.url, r] as const))('%s', (_url, { url, expect: want }) => {
    const u = new URL(url);
    const decision = routeRequest(routing, 'ingress-nginx', {
      scheme: u.protocol === 'https:' ? 'https' : 'http',
      host: u.host,
      path: u.pathname + u.search,
      ...(u.protocol === 'https:' ? { sni: u.hostname } : {}),
    });
    if (want.service !== undefined) {
      if (decision.kind !== 'backend')
        throw new Error(`${url}: expected a backend, got ${decision.reason}`);
      expect(decision.service).toEqual({
        namespace: 'default',
        name: want.service,
        port: want.port,
      });
      expect(serviceStatus(state, decision.service)).toBe(200);
    } else {
      expect(decision).toMatchObject({ kind: 'answer', status: want.status, by: 'ingress-nginx' });
      if (want.status === 308)
        expect(decision.kind === 'answer' && decision.location).toBe(
          `https://${u.hostname}${u.pathname}`,
        );
    }
    if (want.certificate) {
      expect(tlsFor(routing, 'ingress-nginx', u.hostname)).toMatchObject({
        secretName: want.certificate.secretName,
        namespace: 'default',
        ingress: { namespace: 'default', name: 'kuard' },
        field: 'spec.tls[0]',
      });
    }
  });

  it.skip.each(skipped.map((r) => [r.url] as const))(
    '%s — no-route (NXDOMAIN) is decided by the outside DNS of the caller, not the controller',
    () => undefined,
  );
});
