/**
 * What the course's own example must do (conformance/course/expected.json) on every plane: each
 * request comes from outside to `examples/course` in the default profile (ingress-nginx), as
 * `kwire trace external URL -f examples/course --now 2026-11-26T00:00:00Z` takes it. Then what only
 * the L7 plane's real sockets show: the default certificate, SNI case, HTTP/2, path normalization
 * and the headers the proxy sets.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionOf } from '../../src/cli/trace/index.js';
import { controllerEntry } from '../../src/model/entry.js';
import type { EchoReply } from '../../src/proxy/index.js';
import { get, getH2, getTls } from '../l7/support.js';
import { conformancePath } from '../support/conformance.js';
import { stateOfDir } from '../support/state.js';
import { conformance, l7Factory, linuxFactory, simFactory, type Expected } from './harness.js';

interface CourseExpect {
  readonly service?: string;
  readonly port?: number;
  readonly status?: number;
  readonly verdict?: string;
  readonly certificate?: { readonly dnsNames: readonly string[]; readonly secretName: string; readonly issuer: string };
}

const requests = (JSON.parse(readFileSync(conformancePath('course', 'expected.json'), 'utf8')) as { requests: { url: string; expect: CourseExpect }[] }).requests;
const state = stateOfDir(join(import.meta.dirname, '..', '..', 'examples', 'course'), { now: '2026-11-26T00:00:00Z' });
/** ingress-nginx behind a LoadBalancer with externalTrafficPolicy Cluster sees the entry node's address. */
const entryNode = controllerEntry(state, 'ingress-nginx')?.node.ip;

/** The course's expectation in the harness's terms. */
function expectedOf(url: string, e: CourseExpect): Expected {
  const u = new URL(url);
  const certificate = e.certificate ? { certificate: e.certificate } : {};
  if (e.service !== undefined) return { outcome: 'delivered', podPrefix: `${e.service}-`, backend: { namespace: 'default', name: e.service, ...(e.port === undefined ? {} : { port: e.port }) }, ...(entryNode ? { client: entryNode } : {}), ...certificate };
  if (e.status !== undefined) return { outcome: 'answered', status: e.status, by: 'ingress-nginx', ...(e.status === 308 ? { location: `https://${u.hostname}${u.pathname}` } : {}), ...certificate };
  if (e.verdict === 'no-route') return { outcome: 'no-route' };
  throw new Error(`${url}: the expectation ${JSON.stringify(e)} is not handled by this suite`);
}

const l7 = l7Factory();
const harness = conformance({
  suite: 'course',
  planes: [simFactory(), l7, linuxFactory({ cluster: 'cf-course', ingress: true, timeoutMs: 3000 })],
});

beforeAll(async () => {
  await harness.start(state);
});

afterAll(async () => {
  for (const line of harness.summary()) console.info(line);
  await harness.stop();
});

describe('the course example, request by request, on every plane', () => {
  it('has the 12 requests and an entry node for ingress-nginx', () => {
    expect(requests).toHaveLength(12);
    expect(entryNode).toBeDefined();
  });

  it.each(requests.map((r) => [r.url, r.expect] as const))('%s', async (url, e) => {
    await harness.run({ label: url, state, checks: [{ connection: connectionOf('external', url), expected: expectedOf(url, e) }] });
  });

  it('was answered by every plane that runs here', () => {
    harness.expectEveryPlaneAnswered();
  });
});

describe('the course through the L7 plane\'s ingress-nginx, beyond the cases', () => {
  const listener = (): { http: string; https: string } => {
    const a = l7.cluster().addresses.find((x) => x.controller === 'ingress-nginx');
    if (!a) throw new Error('the L7 plane has no ingress-nginx listener');
    return a;
  };

  it('sets X-Forwarded-For, X-Forwarded-Proto and a request id on every delivered request', async () => {
    for (const { url } of requests.filter((r) => r.expect.service !== undefined)) {
      const u = new URL(url);
      const reply = u.protocol === 'https:' ? await getTls(listener().https, u.hostname, u.pathname) : await get(listener().http, u.host, u.pathname);
      const echo = JSON.parse(reply.body) as EchoReply;
      expect(echo.request.headers['x-forwarded-for'], url).toBe(entryNode);
      expect(echo.request.headers['x-forwarded-proto'], url).toBe(u.protocol.slice(0, -1));
      expect(echo.request.headers['x-request-id'], url).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it('serves the default self-signed certificate for an unknown SNI', async () => {
    const r = await getTls(listener().https, 'unknown.example.org', '/');
    expect(r.cert.subject.CN).toBe('Kubernetes Ingress Controller Fake Certificate');
    expect(r.status).toBe(404);
  });

  it('matches SNI and Host case-insensitively', async () => {
    const r = await getTls(listener().https, 'EXAMPLE.example.com', '/');
    expect(r.cert.subjectaltname).toBe('DNS:example.example.com');
    expect(r.status).toBe(200);
  });

  it('speaks HTTP/2 when the client offers h2', async () => {
    const r = await getH2(listener().https, 'example.example.com', '/');
    expect(r.protocol).toBe('h2');
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as EchoReply).pod.name).toMatch(/^kuard-/);
  });

  it('routes the secure namespace through the policy that lets the controller in', async () => {
    const r = await get(listener().http, 'api.example.com', '/');
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as EchoReply).pod.namespace).toBe('secure');
  });

  it('normalizes the path before matching (dot segments, slashes, unreserved escapes)', async () => {
    for (const path of ['/x/../bar', '//bar', '/%62ar', '/foo/./../bar/']) {
      const r = await get(listener().http, 'domain1.bar.com', path);
      expect(r.status, path).toBe(200);
      expect((JSON.parse(r.body) as EchoReply).pod.name, path).toMatch(/^service1-/);
    }
    const encodedSlash = await get(listener().http, 'domain1.bar.com', '/bar%2f..%2Ffoo');
    expect(encodedSlash.status, '%2F is not a separator: no element "bar"').toBe(404);
    const kept = await get(listener().http, 'domain2.foo.com', '/a%2fb/%7euser');
    expect((JSON.parse(kept.body) as EchoReply).request.path).toBe('/a%2Fb/~user');
  });
});
