/**
 * Test support: the Deployments and Services an Ingress's backends name, so a routing scenario
 * traces all the way to a pod.
 */
import { parseAllDocuments } from 'yaml';

/** Manifests for every Service an Ingress document names (one echo pod each, port as named). */
export function backendsFor(ingressYaml: string): string {
  const wanted = new Map<string, Set<number>>();
  const visit = (b: unknown): void => {
    const svc = (b as { service?: { name?: string; port?: { number?: number } } } | undefined)?.service;
    if (!svc?.name) return;
    const ports = wanted.get(svc.name) ?? new Set<number>();
    ports.add(svc.port?.number ?? 80);
    wanted.set(svc.name, ports);
  };
  for (const doc of parseAllDocuments(ingressYaml)) {
    const o = doc.toJS() as { kind?: string; spec?: { defaultBackend?: unknown; rules?: { http?: { paths?: { backend?: unknown }[] } }[] } } | null;
    if (o?.kind !== 'Ingress') continue;
    visit(o.spec?.defaultBackend);
    for (const r of o.spec?.rules ?? []) for (const p of r.http?.paths ?? []) visit(p.backend);
  }
  const docs: string[] = [];
  for (const [name, ports] of wanted) {
    const list = [...ports];
    docs.push(JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name }, spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'echo', ports: [{ name: 'http', containerPort: 8080 }] }] } } } }));
    docs.push(JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: list.map((port, i) => ({ name: `p${i}`, port, targetPort: 'http' })) } }));
  }
  return docs.join('\n---\n');
}
