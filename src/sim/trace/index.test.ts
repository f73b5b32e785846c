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
