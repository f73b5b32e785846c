/**
 * What `kwire trace -f examples/course` tells beyond the course's requests (those run on every
 * plane in test/conformance/course.test.ts): the classic default-deny bug and the secure namespace.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import type { Trace } from '../src/sim/trace/index.js';
import { captureIo } from './support/state.js';

describe('the course example through the CLI', () => {
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
