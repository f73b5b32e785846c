/**
 * Every route of the Kubernetes docs' Ingress examples (../shared/conformance/ingress-docs),
 * through the running proxy in the `spec` flavour: the Service whose pod answers, and the status.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { EchoReply } from '../../src/proxy/index.js';
import { get, SHARED, start, stateOf } from './support.js';

interface DocsCase {
  request: { host: string | null; path: string; method: string; scheme: 'http' | 'https' };
  expect: { service: string; port: number; status: number };
}

const DOCS = join(SHARED, 'ingress-docs');
const scenarios = existsSync(DOCS) ? readdirSync(DOCS).sort() : [];

/** A Deployment and a Service for every Service an Ingress names, so every backend has a pod. */
function backendsFor(input: string): string {
  const names = new Map<string, Set<number | string>>();
  const visit = (b: { service?: { name: string; port?: { number?: number; name?: string } } } | undefined): void => {
    if (!b?.service) return;
    const ports = names.get(b.service.name) ?? new Set();
    ports.add(b.service.port?.number ?? b.service.port?.name ?? 80);
    names.set(b.service.name, ports);
  };
  for (const doc of parseAllDocuments(input)) {
    const o = doc.toJS() as { kind?: string; spec?: { defaultBackend?: never; rules?: { http?: { paths?: { backend?: never }[] } }[] } } | null;
    if (o?.kind !== 'Ingress') continue;
    visit(o.spec?.defaultBackend);
    for (const r of o.spec?.rules ?? []) for (const p of r.http?.paths ?? []) visit(p.backend);
  }
  return [...names]
    .map(([name, ports]) => {
      const svcPorts = [...ports].map((p, i) => (typeof p === 'number' ? `  - {name: p${i}, port: ${p}, targetPort: 8080}` : `  - {name: ${p}, port: ${80 + i}, targetPort: 8080}`));
      return `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ${name}}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: ${name}}}\n  template:\n    metadata: {labels: {app: ${name}}}\n    spec: {containers: [{name: echo, image: echo, ports: [{containerPort: 8080}]}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: ${name}}\nspec:\n  selector: {app: ${name}}\n  ports:\n${svcPorts.join('\n')}\n`;
    })
    .join('---\n');
}

describe('ingress-docs through the running proxy (spec flavour)', () => {
  it('finds the scenarios', () => {
    expect(scenarios.length).toBe(24);
  });

  it.each(scenarios)('%s', async (dir) => {
    const input = readFileSync(join(DOCS, dir, 'input.yaml'), 'utf8');
    const cases = JSON.parse(readFileSync(join(DOCS, dir, 'expected.json'), 'utf8')) as DocsCase[];
    const cluster = await start(stateOf([input, backendsFor(input)], { ingressFlavour: 'spec' }));
    try {
      const http = cluster.addresses[0]?.http ?? '';
      for (const { request, expect: want } of cases) {
        const label = `${request.scheme}://${request.host ?? '(no host)'}${request.path}`;
        const r = await get(http, request.host, request.path, {}, request.method);
        expect(r.status, label).toBe(want.status);
        const echo = JSON.parse(r.body) as EchoReply;
        expect(echo.pod.name.startsWith(`${want.service}-`), `${label} answered by ${echo.pod.name}`).toBe(true);
      }
    } finally {
      await cluster.stop();
    }
  });
});
