/**
 * What the course's own example must do (conformance/course/expected.json), request by request,
 * through `kwire trace external URL -f examples/course` in the default profile.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import type { Trace } from '../src/sim/trace/index.js';
import { captureIo } from './support/state.js';

interface Expect {
  service?: string;
  port?: number;
  status?: number;
  verdict?: string;
  certificate?: { dnsNames: string[]; secretName: string; issuer: string };
}
const expected = JSON.parse(readFileSync(join(import.meta.dirname, '../../shared/conformance/course/expected.json'), 'utf8')) as { requests: { url: string; expect: Expect }[] };

async function trace(url: string): Promise<{ code: number; t: Trace }> {
  const io = captureIo();
  const code = await main(['trace', 'external', url, '-f', 'examples/course', '-o', 'json', '--now', '2026-11-26T00:00:00Z'], io);
  return { code, t: JSON.parse(io.stdout.join('\n')) as Trace };
}

describe('the course example, request by request', () => {
  it.each(expected.requests.map((r) => [r.url, r.expect] as const))('%s', async (url, exp) => {
    const { code, t } = await trace(url);
    if (exp.service) {
      expect(t.verdict).toBe('delivered');
      expect(code).toBe(0);
      expect(t.destination?.backend?.service).toMatchObject({ namespace: 'default', name: exp.service, port: exp.port });
      expect(t.destination?.pod?.name.startsWith(`${exp.service}-`)).toBe(true);
    } else if (exp.status) {
      expect(t.verdict).toBe('answered');
      expect(code).toBe(1);
      expect(t.response).toMatchObject({ status: exp.status, by: 'ingress-nginx' });
    } else {
      expect(t.verdict).toBe(exp.verdict);
      expect(code).toBe(1);
    }
    if (exp.certificate) {
      expect(t.certificate).toMatchObject({ secretName: exp.certificate.secretName, dnsNames: exp.certificate.dnsNames, covers: true });
      expect(t.certificate?.issuer).toContain(exp.certificate.issuer);
    }
  });

  it('shows the classic bug: the controller blocked by a default-deny policy answers 504', async () => {
    const extra = 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-all, namespace: default}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n';
    const withDeny = captureIo(extra);
    const code = await main(['trace', 'external', 'http://domain1.bar.com/bar', '-f', 'examples/course', '-f', '-', '-o', 'json'], withDeny);
    const t = JSON.parse(withDeny.stdout.join('\n')) as Trace;
    expect(code).toBe(1);
    expect(t.verdict).toBe('denied');
    expect(t.response?.status).toBe(504);
    const deny = t.hops.find((h) => h.verdict === 'deny' && h.component === 'networkpolicy');
    expect(deny?.refs).toContainEqual({ kind: 'NetworkPolicy', namespace: 'default', name: 'deny-all' });
    expect(t.hint).toMatch(/ingress rule allowing TCP\/8080 from pods .* in namespace ingress-nginx/);
  });

  it('lets the controller into the secure namespace but keeps other pods out', async () => {
    const io = captureIo();
    expect(await main(['trace', 'external', 'http://api.example.com/', '-f', 'examples/course'], io)).toBe(0);
    expect(io.stdout.join('\n')).toContain('allowed by secure/allow-ingress-controller spec.ingress[0]');
    const denied = captureIo();
    expect(await main(['trace', 'deploy/default/frontend', 'http://api.secure/', '-f', 'examples/course', '-o', 'json'], denied)).toBe(1);
    const t = JSON.parse(denied.stdout.join('\n')) as Trace;
    expect(t.verdict).toBe('denied');
    expect(t.hops.find((h) => h.component === 'dns')?.action).toMatch(/api\.secure → api\.secure\.svc\.cluster\.local A 10\./);
  });
});
