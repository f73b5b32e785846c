/**
 * The course's requests through the running proxy, over real loopback sockets: the service and
 * pod that answer, redirects, 404s, the certificate served by SNI, and HTTP/2.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EchoReply, RunningCluster } from '../../src/proxy/index.js';
import { textTracer } from '../support/state.js';
import { controllerEntry } from '../../src/model/entry.js';
import { courseTexts, get, getH2, getTls, SHARED, start, stateOf } from './support.js';

interface CourseCase {
  url: string;
  expect: { service?: string; port?: number; status?: number; verdict?: string; certificate?: { dnsNames: string[]; secretName: string } };
}

const cases = (JSON.parse(readFileSync(join(SHARED, 'course', 'expected.json'), 'utf8')) as { requests: CourseCase[] }).requests;
const state = stateOf(courseTexts());
let cluster: RunningCluster;
let http = '';
let https = '';

beforeAll(async () => {
  cluster = await start(state);
  const a = cluster.addresses.find((x) => x.controller === 'ingress-nginx');
  http = a?.http ?? '';
  https = a?.https ?? '';
});
afterAll(async () => {
  await cluster.stop();
});

describe('course requests through the running ingress-nginx', () => {
  const tracer = textTracer(state);
  it.each(cases.filter((c) => c.expect.verdict === undefined).map((c) => [c.url, c] as const))('%s', async (_u, { url, expect: want }) => {
    const u = new URL(url);
    const reply = u.protocol === 'https:' ? await getTls(https, u.hostname, u.pathname) : await get(http, u.host, u.pathname);
    if (want.service) {
      expect(reply.status).toBe(200);
      const echo = JSON.parse(reply.body) as EchoReply;
      expect(echo.pod.name.startsWith(`${want.service}-`)).toBe(true);
      // ingress-nginx behind a LoadBalancer with externalTrafficPolicy Cluster sees the entry node's address.
      expect(echo.request.headers['x-forwarded-for']).toBe(controllerEntry(state, 'ingress-nginx')?.node.ip);
      expect(echo.request.headers['x-forwarded-proto']).toBe(u.protocol.slice(0, -1));
      expect(echo.request.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
      const t = tracer.trace('ip/127.0.0.1', url);
      expect(t.destination?.pod?.name).toBe(echo.pod.name);
    } else {
      expect(reply.status).toBe(want.status);
      if (want.status === 308) expect(reply.headers.location).toBe(`https://${u.hostname}${u.pathname}`);
    }
    if (want.certificate) {
      const tls = await getTls(https, u.hostname, u.pathname);
      expect(tls.cert.subjectaltname).toBe(want.certificate.dnsNames.map((n) => `DNS:${n}`).join(', '));
    }
  });

  it('serves the default self-signed certificate for an unknown SNI', async () => {
    const r = await getTls(https, 'unknown.example.org', '/');
    expect(r.cert.subject.CN).toBe('Kubernetes Ingress Controller Fake Certificate');
    expect(r.status).toBe(404);
  });

  it('matches SNI and Host case-insensitively', async () => {
    const r = await getTls(https, 'EXAMPLE.example.com', '/');
    expect(r.cert.subjectaltname).toBe('DNS:example.example.com');
    expect(r.status).toBe(200);
  });

  it('speaks HTTP/2 when the client offers h2', async () => {
    const r = await getH2(https, 'example.example.com', '/');
    expect(r.protocol).toBe('h2');
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as EchoReply).pod.name).toMatch(/^kuard-/);
  });

  it('routes the secure namespace through the policy that lets the controller in', async () => {
    const r = await get(http, 'api.example.com', '/');
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as EchoReply).pod.namespace).toBe('secure');
  });

  it('normalizes the path before matching (dot segments, slashes, unreserved escapes)', async () => {
    for (const path of ['/x/../bar', '//bar', '/%62ar', '/foo/./../bar/']) {
      const r = await get(http, 'domain1.bar.com', path);
      expect(r.status, path).toBe(200);
      expect((JSON.parse(r.body) as EchoReply).pod.name, path).toMatch(/^service1-/);
    }
    const encodedSlash = await get(http, 'domain1.bar.com', '/bar%2f..%2Ffoo');
    expect(encodedSlash.status, '%2F is not a separator: no element "bar"').toBe(404);
    const kept = await get(http, 'domain2.foo.com', '/a%2fb/%7euser');
    expect((JSON.parse(kept.body) as EchoReply).request.path).toBe('/a%2Fb/~user');
  });
});
