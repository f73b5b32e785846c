import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { captureIo } from '../../../test/support/state.js';
import { main } from '../main.js';

const course = ['-f', 'examples/course'];
/** The course's Services without its MetalLB pool: what a minikube user sees. */
const noMetalLB = ['-f', 'examples/course/10-apps.yaml', '-f', 'examples/course/20-services.yaml'];

describe('kwire get', () => {
  it('prints services like kubectl, with <pending> where nothing serves a LoadBalancer', async () => {
    const io = captureIo();
    expect(await main(['get', 'svc', ...noMetalLB, '--profile', 'minikube'], io)).toBe(0);
    const out = io.stdout.join('\n');
    expect(out.split('\n')[0]).toMatch(/^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)$/);
    expect(out).toMatch(/frontend\s+LoadBalancer\s+10\.\d+\.\d+\.\d+\s+<pending>\s+80:3\d{4}\/TCP/);
    expect(out).toMatch(/frontend-nodeport\s+NodePort\s+\S+\s+<none>\s+80:30080\/TCP/);
    expect(out).toMatch(/service1\s+ClusterIP\s+\S+\s+<none>\s+80\/TCP/);
    expect(out).not.toContain('kube-dns');
  });

  it('counts every container of a pod in READY', async () => {
    const pod = 'apiVersion: v1\nkind: Pod\nmetadata: {name: two}\nspec:\n  containers:\n  - {name: app, image: x}\n  - {name: sidecar, image: envoy}\n';
    const io = captureIo(pod);
    expect(await main(['get', 'pods', '-f', '-'], io)).toBe(0);
    expect(io.stdout.join('\n')).toMatch(/^two\s+2\/2\s+Running\s/m);
  });

  it('filters by namespace and label, and shows every namespace with -A', async () => {
    const io = captureIo();
    expect(await main(['get', 'pods', ...course, '-n', 'secure', '-o', 'wide'], io)).toBe(0);
    const lines = io.stdout.join('\n').split('\n');
    expect(lines[0]).toMatch(/^NAME\s+READY\s+STATUS\s+IP\s+NODE\s+WORKLOAD\s+PORTS$/);
    expect(lines.slice(1).every((l) => l.startsWith('api-'))).toBe(true);
    const all = captureIo();
    await main(['get', 'pods', ...course, '-A', '-l', 'app in (service1,service2)'], all);
    const rows = all.stdout.join('\n').split('\n').slice(1);
    expect(rows).toHaveLength(4);
    expect(rows.every((r) => r.startsWith('default'))).toBe(true);
  });

  it('prints objects with their computed spec and status as YAML and JSON', async () => {
    const io = captureIo();
    expect(await main(['get', 'svc', ...course, '-o', 'yaml', '--profile', 'minikube'], io)).toBe(0);
    const list = parse(io.stdout.join('\n')) as { kind: string; items: { metadata: { name: string }; spec: { clusterIP: string; ports: { nodePort?: number }[] }; status: unknown }[] };
    expect(list.kind).toBe('List');
    const np = list.items.find((i) => i.metadata.name === 'frontend-nodeport');
    expect(np?.spec.ports[0]?.nodePort).toBe(30080);
    expect(np?.spec.clusterIP).toMatch(/^10\.(9[6-9]|10[0-9]|11[01])\./);
    const json = captureIo();
    await main(['get', 'endpointslices', ...course, '-o', 'json'], json);
    const slices = JSON.parse(json.stdout.join('\n')) as { items: { metadata: { labels: Record<string, string> }; endpoints: { conditions: { ready: boolean } }[]; ports: { port: number }[] }[] };
    const s1 = slices.items.filter((i) => i.metadata.labels['kubernetes.io/service-name'] === 'service1');
    expect(s1.flatMap((s) => s.endpoints)).toHaveLength(2);
    expect(s1[0]?.ports[0]?.port).toBe(8080);
  });

  it('is byte-identical across runs', async () => {
    const a = captureIo();
    const b = captureIo();
    await main(['get', 'pods,svc,endpointslices', ...course, '-A', '-o', 'json'], a);
    await main(['get', 'pods,svc,endpointslices', ...course, '-A', '-o', 'json'], b);
    expect(a.stdout.join('\n')).toBe(b.stdout.join('\n'));
  });

  it('exits 2 with a clear message for an unknown kind or a missing file', async () => {
    const io = captureIo();
    expect(await main(['get', 'widgets', ...course], io)).toBe(2);
    expect(io.stderr.join('\n')).toContain('doesn\'t have a resource type "widgets"');
    const missing = captureIo();
    expect(await main(['get', 'pods', '-f', 'no/such/dir'], missing)).toBe(2);
    expect(missing.stderr.join('\n')).toContain('the path "no/such/dir" does not exist');
  });
});

describe('kwire lint', () => {
  it('reports the course cluster\'s findings with positions and exits by --fail-on', async () => {
    const io = captureIo();
    const code = await main(['lint', ...noMetalLB, '--profile', 'minikube', '-o', 'json', '--fail-on', 'warning'], io);
    const report = JSON.parse(io.stdout.join('\n')) as { findings: { code: string; source?: { file: string; line: number } }[] };
    const pending = report.findings.find((f) => f.code === 'KW-SVC003');
    expect(pending?.source).toEqual({ file: 'examples/course/20-services.yaml', line: 61, column: 1 });
    expect(code).toBe(1);
  });

  it('writes SARIF 2.1.0 with repository-relative paths', async () => {
    const io = captureIo();
    await main(['lint', ...noMetalLB, '--profile', 'minikube', '-o', 'sarif', '--fail-on', 'none'], io);
    const sarif = JSON.parse(io.stdout.join('\n')) as { version: string; runs: { tool: { driver: { name: string; rules: { id: string }[] } }; results: { ruleId: string; level: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[] }[] };
    expect(sarif.version).toBe('2.1.0');
    const run = sarif.runs[0];
    expect(run?.tool.driver.name).toBe('kwire');
    const r = run?.results.find((x) => x.ruleId === 'KW-SVC003');
    expect(r?.level).toBe('warning');
    expect(r?.locations[0]?.physicalLocation.artifactLocation.uri).toBe('examples/course/20-services.yaml');
    expect(run?.tool.driver.rules.map((x) => x.id)).toContain('KW-SVC003');
  });

  it('finds a Service selecting nothing, a bad named targetPort and a selector-less Service', async () => {
    const yaml = [
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c, ports: [{name: http, containerPort: 80}]}]}',
      'apiVersion: v1\nkind: Service\nmetadata: {name: typo}\nspec:\n  selector: {app: wbe}\n  ports: [{port: 80}]',
      'apiVersion: v1\nkind: Service\nmetadata: {name: badport}\nspec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: htp}]',
      'apiVersion: v1\nkind: Service\nmetadata: {name: manual}\nspec:\n  ports: [{port: 80}]',
    ].join('\n---\n');
    const io = captureIo(yaml);
    expect(await main(['lint', '-f', '-'], io)).toBe(1);
    const out = io.stdout.join('\n');
    expect(out).toMatch(/warning\s+KW-SVC001\s+<stdin>:10:1: Service default\/typo: spec.selector: selector app=wbe matches no pod/);
    expect(out).toMatch(/error\s+KW-SVC002\s+<stdin>:\d+:1: Service default\/badport: spec.ports\[0\].targetPort: named targetPort "htp"/);
    expect(out).toMatch(/KW-SVC006 .*Service default\/manual/);
  });

  it('reports a Service with two unnamed ports as KW-SVC005', async () => {
    const io = captureIo('apiVersion: v1\nkind: Service\nmetadata: {name: two}\nspec:\n  ports:\n  - port: 80\n  - port: 443\n');
    expect(await main(['lint', '-f', '-'], io)).toBe(1);
    expect(io.stdout.join('\n')).toMatch(/KW-SVC005\s+<stdin>:6:5: Service default\/two: spec.ports\[0\].name: Required value/);
  });
});
