import { describe, expect, it } from 'vitest';
import { deployment, docs, service, stateOf, textTracer } from '../../../test/support/state.js';
import type { Trace } from './index.js';

const base = docs(
  deployment('web', { replicas: 2, ports: [{ name: 'http', containerPort: 8080 }] }),
  deployment('client', { labels: { app: 'client' } }),
  service('web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] }),
);

function tracer(extra = '', profile?: 'minikube' | 'k3s' | 'cloud') {
  return textTracer(stateOf(extra ? docs(base, extra) : base, { profile }));
}
const hop = (t: Trace, component: string) => t.hops.filter((h) => h.component === component);

describe('trace inside the cluster', () => {
  it('resolves a short Service name from the pod\'s namespace and DNATs to a pod on the targetPort', () => {
    const t = tracer().trace('deploy/default/client', 'web:80');
    expect(t.verdict).toBe('delivered');
    expect(hop(t, 'dns')[0]?.action).toMatch(/^web → web\.default\.svc\.cluster\.local A 10\./);
    expect(hop(t, 'kube-proxy')[0]?.action).toMatch(/ClusterIP default\/web:80 → DNAT 10\.244\.\d+\.\d+:8080/);
    expect(t.destination?.port).toBe(8080);
    expect(t.destination?.backend?.service).toEqual({ namespace: 'default', name: 'web', port: 80 });
  });

  it('accepts svc/NS/NAME:PORT with a port name, and pod destinations', () => {
    const tr = tracer();
    expect(tr.trace('deploy/default/client', 'svc/default/web:http').verdict).toBe('delivered');
    const t = tr.trace('deploy/default/client', 'svc/default/web:81');
    expect(t.verdict).toBe('no-route');
    expect(hop(t, 'kube-proxy')[0]?.detail).toContain('the Service has ports 80/TCP');
  });

  it('answers NXDOMAIN for unknown cluster names', () => {
    const t = tracer().trace('deploy/default/client', 'nope.default.svc.cluster.local:80');
    expect(t.verdict).toBe('no-route');
    expect(hop(t, 'dns')[0]?.action).toContain('NXDOMAIN');
  });

  it('rejects a Service without endpoints', () => {
    const t = tracer(service('empty', { selector: { app: 'none' }, ports: [{ port: 80 }] })).trace('deploy/default/client', 'empty:80');
    expect(t.verdict).toBe('no-route');
    expect(hop(t, 'kube-proxy')[0]?.detail).toBe('the Service has no endpoints');
  });

  it('keeps a client on one endpoint with sessionAffinity ClientIP', () => {
    const tr = tracer(service('sticky', { selector: { app: 'web' }, sessionAffinity: 'ClientIP', ports: [{ port: 80, targetPort: 8080 }] }));
    const pods = new Set(Array.from({ length: 5 }, () => tr.trace('deploy/default/client', 'sticky:80').destination?.pod?.name));
    expect(pods.size).toBe(1);
    expect(hop(tr.trace('deploy/default/client', 'sticky:80'), 'kube-proxy')[0]?.detail).toContain('sessionAffinity ClientIP');
  });

  it('honours internalTrafficPolicy Local: no endpoint on the client\'s node means no route', () => {
    const pinned = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'lonely', labels: { app: 'lonely' } }, spec: { nodeName: 'worker-1', containers: [{ name: 'c', ports: [{ containerPort: 80 }] }] } });
    const client2 = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'far' }, spec: { nodeName: 'worker-2', containers: [{ name: 'c' }] } });
    const tr = tracer(docs(pinned, client2, service('local', { selector: { app: 'lonely' }, internalTrafficPolicy: 'Local', ports: [{ port: 80 }] })));
    const t = tr.trace('pod/default/far', 'local:80');
    expect(t.verdict).toBe('no-route');
    expect(hop(t, 'kube-proxy')[0]?.detail).toContain('internalTrafficPolicy: Local: none of its 1 ready endpoints runs on worker-2');
  });

  it('shows an ExternalName Service as DNS only', () => {
    const t = tracer(service('ext', { type: 'ExternalName', externalName: 'db.example.com' })).trace('deploy/default/client', 'ext:5432');
    expect(hop(t, 'dns')[0]?.action).toContain('CNAME db.example.com');
    expect(t.verdict).toBe('no-route');
  });
});

describe('trace from outside', () => {
  const np = service('web-np', { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }] });
  const npLocal = service('web-local', { type: 'NodePort', externalTrafficPolicy: 'Local', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, nodePort: 30081 }] });

  it('masquerades a NodePort client to the node IP under externalTrafficPolicy Cluster', () => {
    const t = tracer(np).trace('external', '172.18.0.2:30080');
    expect(t.verdict).toBe('delivered');
    const ingressHop = hop(t, 'networkpolicy').find((h) => h.action.startsWith('ingress'));
    expect(ingressHop?.action).toContain('source masqueraded to node IP 172.18.0.2');
  });

  it('keeps the client IP and only uses local endpoints under externalTrafficPolicy Local', () => {
    const tr = tracer(npLocal);
    const onControlPlane = tr.trace('external', '172.18.0.2:30081');
    expect(onControlPlane.verdict).toBe('no-route');
    expect(hop(onControlPlane, 'kube-proxy')[0]?.action).toContain('drop');
    const onWorker = tr.trace('external', '172.18.0.3:30081');
    expect(onWorker.verdict).toBe('delivered');
    expect(onWorker.destination?.pod?.node).toBe('worker-1');
    expect(hop(onWorker, 'networkpolicy').find((h) => h.action.startsWith('ingress'))?.action).toContain('client IP 203.0.113.100 kept');
  });

  it('reaches a MetalLB address through the elected node and filters by loadBalancerSourceRanges', () => {
    const lb = service('web-lb', { type: 'LoadBalancer', selector: { app: 'web' }, loadBalancerSourceRanges: ['192.0.2.0/24'], ports: [{ port: 80, targetPort: 8080 }] });
    const state = stateOf(docs(base, lb));
    const ip = state.services.find((s) => s.name === 'web-lb')?.loadBalancerIngress[0]?.ip ?? '';
    expect(ip).toMatch(/^198\.51\.100\./);
    const tr = textTracer(state);
    const blocked = tr.trace('external', `${ip}:80`);
    expect(blocked.verdict).toBe('denied');
    expect(hop(blocked, 'metallb')[0]?.action).toMatch(/^L2: \S+ answers ARP/);
    const allowed = tr.trace('ip/192.0.2.7', `${ip}:80`);
    expect(allowed.verdict).toBe('delivered');
  });

  it('applies loadBalancerSourceRanges to pods too, as kube-proxy\'s firewall check does', () => {
    const lb = service('web-lb', { type: 'LoadBalancer', selector: { app: 'web' }, loadBalancerSourceRanges: ['192.0.2.0/24'], ports: [{ port: 80, targetPort: 8080 }] });
    const state = stateOf(docs(base, lb));
    const ip = state.services.find((s) => s.name === 'web-lb')?.loadBalancerIngress[0]?.ip ?? '';
    const t = textTracer(state).trace('deploy/default/client', `${ip}:80`);
    expect(t.verdict).toBe('denied');
    expect(hop(t, 'kube-proxy')[0]?.action).toMatch(/outside loadBalancerSourceRanges/);
  });

  it('resolves an Ingress host to the controller that has it as an exact host before any wildcard', () => {
    const ing = (name: string, host: string, svc: string) => JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name }, spec: { rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: svc, port: { number: 80 } } } }] } }] } });
    const t = tracer(docs(ing('wild', '*.example.com', 'web'), ing('exact', 'app.example.com', 'web'))).trace('external', 'http://app.example.com/');
    expect(hop(t, 'dns')[0]?.refs).toEqual([{ kind: 'Ingress', namespace: 'default', name: 'exact' }]);
    expect(() => tracer().trace('external', 'http://app.example.com/', { resolve: ['app.example.com:80:nowhere'] })).toThrow(/"nowhere" is not an IP address/);
  });

  it('finds no route to an address nobody has', () => {
    expect(tracer().trace('external', '192.0.2.99:80').verdict).toBe('no-route');
  });
});

describe('trace and NetworkPolicy', () => {
  const denyAll = JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny-all' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } });

  it('names the policy that isolates the destination and what would allow the connection', () => {
    const t = tracer(denyAll).trace('deploy/default/client', 'web:80');
    expect(t.verdict).toBe('denied');
    const deny = hop(t, 'networkpolicy').find((h) => h.verdict === 'deny');
    expect(deny?.refs).toContainEqual({ kind: 'NetworkPolicy', namespace: 'default', name: 'deny-all' });
    expect(t.hint).toContain('TCP/8080');
  });

  it('says why nothing is enforced when the CNI ignores policies (minikube)', () => {
    const t = tracer(denyAll, 'minikube').trace('deploy/default/client', 'web:80');
    expect(t.verdict).toBe('delivered');
    expect(hop(t, 'networkpolicy').at(-1)?.detail).toMatch(/the CNI \(bridge\) does not enforce/);
  });

  it('judges egress to an external IP by ipBlock', () => {
    const egress = JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'egress' }, spec: { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '192.0.2.0/24', except: ['192.0.2.128/25'] } }] }] } });
    const tr = tracer(egress);
    expect(tr.trace('deploy/default/client', '192.0.2.10:443').verdict).toBe('delivered');
    expect(tr.trace('deploy/default/client', '192.0.2.200:443').verdict).toBe('denied');
  });

  it('refuses an unknown source with a usage error', () => {
    expect(() => tracer().trace('pod/default/nope', 'web:80')).toThrow(/pod "default\/nope" not found/);
  });
});

/** Disagreements between the simulator and the kernel (issue 9), each fixed in the simulator. */
describe('trace agrees with the kernel', () => {
  const policy = (name: string, spec: Record<string, unknown>, ns?: string): string => JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, ...(ns ? { namespace: ns } : {}) }, spec });
  const egressDenyAll = policy('deny-egress', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'] });
  const allowWeb = policy('allow-web', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 8080 }] }] });
  const allowDns = policy('allow-dns', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }], ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] }] });

  it('finds no route from outside to a ClusterIP or a pod IP: nothing outside routes them', () => {
    const state = stateOf(base);
    const tr = textTracer(state);
    const web = state.services.find((s) => s.name === 'web');
    const toVip = tr.trace('external', `${web?.clusterIP ?? ''}:80`);
    expect(toVip.verdict).toBe('no-route');
    expect(hop(toVip, 'external')[0]?.action).toMatch(/is a ClusterIP: nothing outside the cluster routes it/);
    const pod = state.pods.find((p) => p.workload.name === 'web');
    const toPod = tr.trace('external', `${pod?.ip ?? ''}:8080`);
    expect(toPod.verdict).toBe('no-route');
    expect(hop(toPod, 'external')[0]?.action).toContain(`is the address of pod default/${pod?.name ?? ''}`);
    expect(tr.trace('external', 'svc/default/web:80').verdict).toBe('no-route');
  });

  it('judges the DNS query of a pod under an egress default-deny: the name never resolves', () => {
    const t = tracer(egressDenyAll).trace('deploy/default/client', 'web:80');
    expect(t.verdict).toBe('denied');
    const dns = hop(t, 'dns')[0];
    expect(dns?.verdict).toBe('deny');
    expect(dns?.action).toMatch(/the DNS query \(UDP 53 to kube-system\/coredns-\S+\) is dropped/);
    expect(hop(t, 'kube-proxy')).toEqual([]);
    expect(t.hint).toMatch(/^allow DNS: /);
    expect(tracer(egressDenyAll).trace('deploy/default/client', 'svc/default/web:80').verdict).toBe('denied');
    expect(tracer(docs(allowWeb)).trace('deploy/default/client', 'web:80').verdict).toBe('denied');
    const allowed = tracer(docs(allowWeb, allowDns)).trace('deploy/default/client', 'web:80');
    expect(allowed.verdict).toBe('delivered');
    expect(hop(allowed, 'dns')[0]?.detail).toMatch(/the query \(UDP 53 to kube-system\/coredns-\S+\) is allowed/);
  });

  it('serves the default certificate when the TLS Secret of the host does not exist', () => {
    const ing = JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web' }, spec: { ingressClassName: 'nginx', tls: [{ hosts: ['app.example.com'], secretName: 'app-tls' }], rules: [{ host: 'app.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] } });
    const t = tracer(ing).trace('external', 'https://app.example.com/');
    expect(t.verdict).toBe('delivered');
    expect(t.certificate).toMatchObject({ fallback: true, covers: false, subject: 'CN=Kubernetes Ingress Controller Fake Certificate, O=Acme Co', dnsNames: ['ingress.local'] });
    expect(hop(t, 'tls')[0]?.detail).toContain('Secret "app-tls" does not exist in namespace "default"');
  });

  it('shows the entry node as the client the ingress controller sees under externalTrafficPolicy Cluster', () => {
    const ing = JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web' }, spec: { ingressClassName: 'nginx', rules: [{ host: 'app.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] } });
    const state = stateOf(docs(base, ing));
    const t = textTracer(state).trace('external', 'http://app.example.com/');
    const leader = hop(t, 'metallb')[0]?.node;
    const leaderIp = state.nodes.find((n) => n.name === leader)?.ip ?? '?';
    expect(hop(t, 'pod').at(-1)?.detail).toBe(`Host: app.example.com; X-Forwarded-For: ${leaderIp}`);
  });

  it('has the API server Service default/kubernetes at the first service address, served by the control plane', () => {
    const state = stateOf(base);
    const api = state.services.find((s) => s.namespace === 'default' && s.name === 'kubernetes');
    expect(api).toMatchObject({ clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, targetPort: 6443 }] });
    const t = textTracer(state).trace('deploy/default/client', 'https://kubernetes.default/version');
    expect(t.verdict).toBe('delivered');
    expect(t.destination).toMatchObject({ node: 'control-plane', ip: '172.18.0.2', port: 6443, backend: { service: { namespace: 'default', name: 'kubernetes', port: 443 } } });
    expect(hop(t, 'dns')[0]?.action).toBe('kubernetes.default → kubernetes.default.svc.cluster.local A 10.96.0.1');
  });

  it('k3s: a second LoadBalancer on a port Traefik binds stays <pending> and Ingress traffic still reaches Traefik', () => {
    const lb80 = service('web-lb', { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] });
    const ing = JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web' }, spec: { rules: [{ host: 'app.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] } });
    const state = stateOf(docs(base, lb80, ing), { profile: 'k3s' });
    const web = state.services.find((s) => s.name === 'web-lb');
    expect(web?.loadBalancerIngress).toEqual([]);
    expect(web?.pendingReason).toMatch(/ServiceLB: port 80\/TCP is already bound on every node by Service kube-system\/traefik/);
    const t = textTracer(state).trace('external', 'http://app.example.com/');
    expect(t.verdict).toBe('delivered');
    expect(hop(t, 'ingress-controller')[0]?.action).toMatch(/^traefik: /);
  });

  it('a stopped node answers nothing: MetalLB re-elects, its pods are not endpoints', () => {
    const lb = service('web-lb', { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] });
    const before = stateOf(docs(base, lb));
    const ip = before.services.find((s) => s.name === 'web-lb')?.loadBalancerIngress[0]?.ip ?? '';
    const leader = hop(textTracer(before).trace('external', `${ip}:80`), 'metallb')[0]?.node ?? '';
    const after = stateOf(docs(base, lb), { stoppedNodes: [leader] });
    expect(after.nodes.find((n) => n.name === leader)?.ready).toBe(false);
    expect(after.pods.filter((p) => p.node === leader).every((p) => !p.ready)).toBe(true);
    const t = textTracer(after).trace('external', `${ip}:80`);
    expect(hop(t, 'metallb')[0]?.node).not.toBe(leader);
    expect(t.verdict).toBe('delivered');
    expect(t.destination?.pod?.node).not.toBe(leader);
    const stoppedPod = after.pods.find((p) => p.node === leader && p.workload.name === 'web');
    if (stoppedPod) expect(textTracer(after).trace('deploy/default/client', `pod/default/${stoppedPod.name}:8080`).verdict).toBe('no-route');
  });

  it('lists every outcome of the random draws: each endpoint of a ClusterIP', () => {
    const state = stateOf(base);
    const all = textTracer(state).traceAll('deploy/default/client', 'web:80');
    const pods = new Set(all.map((t) => t.destination?.pod?.name));
    expect(pods.size).toBe(2);
    const one = textTracer(state).trace('deploy/default/client', 'web:80');
    expect(one.destination?.possible).toEqual([...pods].map((p) => `default/${p ?? ''}`).sort());
  });
});

describe('host ports', () => {
  it("minikube: the outside world reaches ingress-nginx on its node's port 80 (hostPort), the client's address kept", () => {
    const ing = JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web' }, spec: { rules: [{ host: 'app.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] } });
    const state = stateOf(docs(base, ing), { profile: 'minikube' });
    const t = textTracer(state).trace('external', 'http://app.example.com/');
    expect(hop(t, 'dns')[0]?.action).toBe('app.example.com → 172.18.0.2');
    expect(hop(t, 'node')[0]?.action).toMatch(/^host port 172\.18\.0\.2:80 → DNAT 10\.244\.0\.\d+:80 \(ingress-nginx\/ingress-nginx-controller-/);
    expect(t.verdict).toBe('delivered');
    expect(t.destination?.client).toBe('203.0.113.100');
  });
});

describe("kube-proxy's external chain and the CNI's masquerade (regressions of the differential suite)", () => {
  const pod = (name: string, node: string, labels: Record<string, string>, ports: number[] = []): string => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { nodeName: node, containers: [{ name: 'c', ports: ports.map((p) => ({ containerPort: p })) }] } });
  const policy = (name: string, spec: Record<string, unknown>): string => JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name }, spec });
  const cluster = docs(
    pod('api-1', 'worker-1', { app: 'api' }, [8080]),
    pod('api-2', 'worker-2', { app: 'api' }, [8080]),
    pod('client', 'worker-1', { app: 'client' }),
    service('np', { type: 'NodePort', selector: { app: 'api' }, internalTrafficPolicy: 'Local', ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }] }),
    service('np-local', { type: 'NodePort', selector: { app: 'api' }, externalTrafficPolicy: 'Local', ports: [{ port: 80, targetPort: 8080, nodePort: 30081 }] }),
    service('lb', { type: 'LoadBalancer', selector: { app: 'api' }, internalTrafficPolicy: 'Local', ports: [{ port: 80, targetPort: 8080 }] }),
  );
  const ipOf = (state: ReturnType<typeof stateOf>, node: string): string => state.nodes.find((n) => n.name === node)?.ip ?? '?';
  const reached = (all: Trace[]): string[] => [...new Set(all.filter((t) => t.verdict === 'delivered').map((t) => t.destination?.pod?.name ?? ''))].sort();

  it("a node's own NodePort and a pod's LoadBalancer address go to every endpoint, whatever internalTrafficPolicy says", () => {
    const state = stateOf(cluster);
    const tr = textTracer(state);
    expect(reached(tr.traceAll('node/worker-1', `${ipOf(state, 'worker-1')}:30080`))).toEqual(['api-1', 'api-2']);
    const lb = state.services.find((s) => s.name === 'lb')?.loadBalancerIngress[0]?.ip ?? '';
    expect(reached(tr.traceAll('pod/default/client', `${lb}:80`))).toEqual(['api-1', 'api-2']);
    // The ClusterIP alone follows internalTrafficPolicy Local.
    expect(reached(tr.traceAll('pod/default/client', 'svc/default/np:80'))).toEqual(['api-1']);
  });

  it("a pod's connection to its own node's NodePort is DNATed by kube-proxy, not delivered to the node", () => {
    const state = stateOf(cluster);
    const t = textTracer(state).trace('pod/default/client', `${ipOf(state, 'worker-1')}:30080`);
    expect(t.verdict).toBe('delivered');
    expect(hop(t, 'kube-proxy')[0]?.action).toMatch(/^NodePort 30080 on the node of the pod .* default\/np:80 → DNAT 10\.244\./);
    expect(t.destination?.pod).toBeDefined();
  });

  it("a pod's connection to another node is masqueraded by the CNI: there it is that node's, under externalTrafficPolicy Local too", () => {
    const state = stateOf(cluster);
    const all = textTracer(state).traceAll('pod/default/client', `${ipOf(state, 'worker-2')}:30081`);
    expect(reached(all)).toEqual(['api-2']);
    expect(all[0]?.destination?.client).toBe(ipOf(state, 'worker-1'));
    expect(hop(all[0] as Trace, 'node')[0]?.action).toBe(`${ipOf(state, 'worker-2')} is outside the pod network: source masqueraded to ${ipOf(state, 'worker-1')}`);
  });

  it('a NodePort whose endpoint is back on the calling node comes back forwarded: its ingress rules judge the entry node', () => {
    const state = stateOf(docs(cluster, policy('deny-api', { podSelector: { matchLabels: { app: 'api' } }, policyTypes: ['Ingress'] })));
    const all = textTracer(state).traceAll('node/worker-1', `${ipOf(state, 'worker-2')}:30080`);
    expect(all.map((t) => t.verdict)).toEqual(['denied', 'denied']);
    const back = all.find((t) => hop(t, 'kube-proxy')[0]?.action.includes('(default/api-1)'));
    expect(hop(back as Trace, 'networkpolicy')[0]?.action).toBe(`ingress at default/api-1 (externalTrafficPolicy Cluster: source masqueraded to node IP ${ipOf(state, 'worker-2')})`);
  });

  it("a node refuses ports nothing takes; the API server on another node sees the pod's node", () => {
    const state = stateOf(cluster);
    const tr = textTracer(state);
    const refused = tr.trace('pod/default/client', `${ipOf(state, 'worker-1')}:9999`);
    expect(refused.verdict).toBe('no-route');
    expect(hop(refused, 'node').at(-1)?.action).toBe(`worker-1 refuses ${ipOf(state, 'worker-1')}:9999/TCP`);
    const api = tr.trace('pod/default/client', 'https://kubernetes.default/');
    expect(api.verdict).toBe('delivered');
    expect(api.destination).toMatchObject({ node: 'control-plane', client: ipOf(state, 'worker-1') });
    expect(tr.trace('external', `${ipOf(state, 'control-plane')}:6443`).verdict).toBe('delivered');
  });

  it('a headless Service addressed as svc/NS/NAME is found through DNS, which an egress default-deny drops', () => {
    const headless = service('h', { clusterIP: 'None', selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
    const deny = policy('deny-egress', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'] });
    expect(textTracer(stateOf(docs(cluster, headless))).trace('pod/default/client', 'svc/default/h:http').verdict).toBe('delivered');
    const t = textTracer(stateOf(docs(cluster, headless, deny))).trace('pod/default/client', 'svc/default/h:http');
    expect(t.verdict).toBe('denied');
    expect(hop(t, 'dns')[0]?.verdict).toBe('deny');
  });
});
