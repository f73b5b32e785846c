/**
 * The Kubernetes docs' Ingress scenarios (conformance/ingress-docs) on every plane, flavour `spec`,
 * with an echo Deployment behind every Service a scenario names: each request comes from outside
 * to the controller's LoadBalancer address (`--resolve HOST:PORT:LB` when the request has a host,
 * the address itself when it has none), as `kwire trace external URL` takes it. One L7 cluster and
 * one Linux cluster serve every scenario, `apply`d from one to the next.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionOf } from '../../src/cli/trace/index.js';
import type { NetworkState } from '../../src/model/types.js';
import { backendsFor } from '../support/backends.js';
import { conformancePath } from '../support/conformance.js';
import { stateOf } from '../support/state.js';
import { conformance, l7Factory, linuxFactory, simFactory, type Check } from './harness.js';

interface DocsCase {
  readonly request: { readonly host: string | null; readonly path: string; readonly method: string; readonly scheme: 'http' | 'https' };
  readonly expect: { readonly service: string; readonly port: number; readonly status: number; readonly matched_rule?: string | null };
}

const DOCS = conformancePath('ingress-docs');
const NOW = '2026-01-01T00:00:00Z';

/** A scenario's state (its Ingress and a backend per Service it names) and its requests. */
function scenario(dir: string): { readonly state: NetworkState; readonly checks: readonly Check[] } {
  const input = readFileSync(join(DOCS, dir, 'input.yaml'), 'utf8');
  const cases = JSON.parse(readFileSync(join(DOCS, dir, 'expected.json'), 'utf8')) as DocsCase[];
  const state = stateOf(`${input}\n---\n${backendsFor(input)}`, { ingressFlavour: 'spec', now: NOW });
  const lb = state.services.find((s) => s.name === 'ingress-nginx-controller')?.loadBalancerIngress[0]?.ip;
  if (lb === undefined) throw new Error(`${dir}: the controller's Service has no LoadBalancer address`);
  const checks = cases.map(({ request, expect: want }): Check => {
    const port = request.scheme === 'https' ? 443 : 80;
    const url = `${request.scheme}://${request.host ?? lb}${request.path}`;
    const resolve = request.host === null ? [] : [`${request.host}:${String(port)}:${lb}`];
    if (want.status !== 200) throw new Error(`${dir}: an expected status ${String(want.status)} is not handled by this suite`);
    return {
      connection: connectionOf('external', url, { resolve, method: request.method }),
      expected: { outcome: 'delivered', podPrefix: `${want.service}-`, backend: { namespace: 'default', name: want.service, port: want.port } },
    };
  });
  return { state, checks };
}

const scenarios = readdirSync(DOCS).sort();
const built = new Map(scenarios.map((dir) => [dir, scenario(dir)]));
const harness = conformance({
  suite: 'ingress-docs',
  planes: [simFactory(), l7Factory(), linuxFactory({ cluster: 'cf-docs', ingress: true, timeoutMs: 3000 })],
});

beforeAll(async () => {
  await harness.start(built.values().next().value?.state ?? scenario('').state);
});

afterAll(async () => {
  for (const line of harness.summary()) console.info(line);
  await harness.stop();
});

describe('ingress-docs scenarios on every plane (spec flavour)', () => {
  it('has all 24 scenarios', () => {
    expect(scenarios).toHaveLength(24);
  });

  it.each(scenarios)('%s', async (dir) => {
    await harness.run({ label: dir, ...(built.get(dir) ?? scenario(dir)) });
  });

  it('was answered by every plane that runs here', () => {
    harness.expectEveryPlaneAnswered();
  });
});
