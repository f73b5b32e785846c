/**
 * The Kubernetes docs' Ingress scenarios through `kwire trace external URL`, flavour `spec`, with an
 * echo Deployment behind every Service the scenario names.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildNetworkState } from '../src/controllers/index.js';
import { textTracer } from './support/state.js';
import { storeFromTexts } from '../src/store/index.js';
import { backendsFor } from './support/backends.js';

const root = join(import.meta.dirname, '../../shared/conformance/ingress-docs');
interface Case {
  request: { host: string | null; path: string; scheme: 'http' | 'https' };
  expect: { service?: string; port?: number; status: number; matched_rule?: unknown };
}
const scenarios = readdirSync(root).sort();

describe('ingress-docs conformance through kwire trace', () => {
  it('has all 24 scenarios', () => {
    expect(scenarios).toHaveLength(24);
  });
  describe.each(scenarios)('%s', (dir) => {
    const input = readFileSync(join(root, dir, 'input.yaml'), 'utf8');
    const cases = JSON.parse(readFileSync(join(root, dir, 'expected.json'), 'utf8')) as Case[];
    const store = storeFromTexts([{ file: `${dir}/input.yaml`, text: `${input}\n---\n${backendsFor(input)}` }]);
    expect(store.problems.filter((p) => p.severity === 'error')).toEqual([]);
    const state = buildNetworkState({ objects: store.objects.map((o) => o.object), sourceOf: store.sourceOf }, { ingressFlavour: 'spec' });
    const tracer = textTracer(state);
    const lb = state.services.find((s) => s.name === 'ingress-nginx-controller')?.loadBalancerIngress[0]?.ip ?? '';
    it.each(cases.map((c) => [`${c.request.scheme}://${c.request.host ?? '(no host)'}${c.request.path}`, c] as const))('%s', (_name, c) => {
      const host = c.request.host ?? lb;
      const url = `${c.request.scheme}://${host}${c.request.path}`;
      const resolve = c.request.host ? [`${c.request.host}:${c.request.scheme === 'https' ? 443 : 80}:${lb}`] : [];
      const t = tracer.trace('external', url, { resolve });
      if (c.expect.service) {
        expect(t.verdict).toBe('delivered');
        expect(t.destination?.backend?.service.name).toBe(c.expect.service);
        expect(t.destination?.backend?.service.port).toBe(c.expect.port);
        expect(t.destination?.pod?.name.startsWith(`${c.expect.service}-`)).toBe(true);
      } else {
        expect(t.verdict).toBe('answered');
        expect(t.response?.status).toBe(c.expect.status);
      }
    });
  });
});
