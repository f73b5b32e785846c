import { describe, expect, it } from 'vitest';
import { deployment, docs, service, stateOf, storeOf } from '../../../test/support/state.js';
import { buildNetworkState } from '../index.js';
import { parseIp } from '../../model/ip.js';
import { clusterIPStaticBand, nodePortStaticBand } from './index.js';

const svc = (state: ReturnType<typeof stateOf>, name: string, ns = 'default') => {
  const s = state.services.find((x) => x.name === name && x.namespace === ns);
  if (!s) throw new Error(`no service ${name}`);
  return s;
};

describe('allocation bands', () => {
  it.each([
    [256n, 16n], // a /24: static band .1–.16
    [65536n, 256n], // a /16: offset 256
    [1048576n, 256n], // the default /12
    [4096n, 256n],
    [1024n, 64n],
  ])('ClusterIP static band of a range of %s addresses is %s', (size, band) => {
    expect(clusterIPStaticBand(size)).toBe(band);
  });
  it('NodePort static band of the default range is 86 ports (30000–30085)', () => {
    expect(nodePortStaticBand(2768)).toBe(86);
    expect(nodePortStaticBand(100)).toBe(16);
    expect(nodePortStaticBand(10000)).toBe(128);
  });
});

describe('ClusterIP allocation', () => {
  it('gives dynamic Services addresses from the upper band of the service CIDR', () => {
    const state = stateOf(docs(...Array.from({ length: 20 }, (_, i) => service(`s${i}`, { ports: [{ port: 80 }] }))));
    const base = parseIp('10.96.0.0')?.value ?? 0n;
    for (let i = 0; i < 20; i++) {
      const ip = parseIp(svc(state, `s${i}`).clusterIP)?.value ?? 0n;
      expect(ip - base).toBeGreaterThanOrEqual(257n);
      expect(ip - base).toBeLessThan(1n << 20n);
    }
    expect(new Set(state.services.map((s) => s.clusterIP)).size).toBe(state.services.length);
  });

  it('honours a fixed clusterIP and reports a second Service asking for the same address', () => {
    const store = storeOf(docs(service('a', { clusterIP: '10.96.0.50', ports: [{ port: 80 }] }), service('b', { clusterIP: '10.96.0.50', ports: [{ port: 80 }] })));
    const state = buildNetworkState({ objects: store.objects.map((o) => o.object), sourceOf: store.sourceOf });
    expect(state.services.find((s) => s.name === 'a')?.clusterIP).toBe('10.96.0.50');
    expect(state.services.find((s) => s.name === 'b')).toBeUndefined();
    const p = state.problems.find((x) => x.code === 'KW-SVC-CONFLICT');
    expect(p?.message).toContain('provided IP is already allocated (to Service default/a)');
    expect(p?.path).toBe('spec.clusterIP');
    expect(p?.source?.line).toBe(3);
  });

  it('refuses a clusterIP outside the service CIDR', () => {
    const store = storeOf(service('a', { clusterIP: '192.0.2.1', ports: [{ port: 80 }] }));
    const state = buildNetworkState({ objects: store.objects.map((o) => o.object), sourceOf: store.sourceOf });
    expect(state.problems.map((p) => p.message).join()).toContain('The range of valid IPs is 10.96.0.0/12');
  });

  it('keeps kube-dns at 10.96.0.10 and headless Services without a VIP', () => {
    const state = stateOf(service('h', { clusterIP: 'None', selector: { app: 'x' }, ports: [{ port: 80 }] }));
    expect(svc(state, 'kube-dns', 'kube-system').clusterIP).toBe('10.96.0.10');
    expect(svc(state, 'h').headless).toBe(true);
    expect(svc(state, 'h').clusterIP).toBe('None');
  });

  it('is deterministic: the same inputs give the same addresses and ports', () => {
    const text = docs(service('a', { type: 'NodePort', ports: [{ port: 80 }] }), service('b', { type: 'LoadBalancer', ports: [{ port: 443 }] }));
    const json = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
    expect(json(stateOf(text))).toBe(json(stateOf(text)));
  });
});

describe('NodePort allocation', () => {
  it('allocates dynamic NodePorts from the upper band and honours fixed ones', () => {
    const state = stateOf(docs(service('a', { type: 'NodePort', ports: [{ port: 80, nodePort: 30007 }] }), service('b', { type: 'NodePort', ports: [{ port: 80 }] })));
    expect(svc(state, 'a').ports[0]?.nodePort).toBe(30007);
    const dyn = svc(state, 'b').ports[0]?.nodePort ?? 0;
    expect(dyn).toBeGreaterThanOrEqual(30086);
    expect(dyn).toBeLessThanOrEqual(32767);
  });

  it('reports a NodePort already allocated to another Service', () => {
    const store = storeOf(docs(service('a', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }), service('b', { type: 'NodePort', ports: [{ port: 81, nodePort: 30080 }] })));
    const state = buildNetworkState({ objects: store.objects.map((o) => o.object), sourceOf: store.sourceOf });
    const p = state.problems.find((x) => x.code === 'KW-SVC-CONFLICT');
    expect(p?.message).toBe('Invalid value: 30080: provided port is already allocated (to Service default/a)');
    expect(p?.path).toBe('spec.ports[0].nodePort');
  });

  it('reports a NodePort outside the range', () => {
    const store = storeOf(service('a', { type: 'NodePort', ports: [{ port: 80, nodePort: 8080 }] }));
    const state = buildNetworkState({ objects: store.objects.map((o) => o.object), sourceOf: store.sourceOf });
    expect(state.problems[0]?.message).toContain('The range of valid ports is 30000-32767');
  });

  it('gives a LoadBalancer its NodePorts unless allocateLoadBalancerNodePorts is false', () => {
    const state = stateOf(docs(service('a', { type: 'LoadBalancer', ports: [{ port: 80 }] }), service('b', { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80 }] })));
    expect(svc(state, 'a').ports[0]?.nodePort).toBeGreaterThanOrEqual(30000);
    expect(svc(state, 'b').ports[0]?.nodePort).toBeUndefined();
  });

  it('allocates a healthCheckNodePort for externalTrafficPolicy Local', () => {
    const state = stateOf(service('a', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] }));
    expect(svc(state, 'a').healthCheckNodePort).toBeGreaterThanOrEqual(30000);
  });
});

describe('LoadBalancer by profile', () => {
  const text = service('web', { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80 }] });
  it('stays <pending> on minikube, where nothing serves LoadBalancers', () => {
    const s = svc(stateOf(text, { profile: 'minikube' }), 'web');
    expect(s.loadBalancerIngress).toEqual([]);
    expect(s.pendingReason).toContain('no load-balancer implementation');
  });
  it('gets the node IPs from k3s servicelb on a port Traefik does not bind', () => {
    const s = svc(stateOf(service('web', { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 8080 }] }), { profile: 'k3s' }), 'web');
    expect(s.loadBalancerIngress.map((i) => i.ip)).toEqual(['172.18.0.2']);
    expect(s.loadBalancerBy).toBe('servicelb');
  });
  it('gets a provider address from 203.0.113.0/24 in the cloud profile', () => {
    const s = svc(stateOf(text, { profile: 'cloud' }), 'web');
    expect(s.loadBalancerIngress[0]?.ip).toMatch(/^203\.0\.113\./);
  });
});

describe('EndpointSlices', () => {
  it('resolves a named targetPort per pod and groups pods by resolved ports', () => {
    const state = stateOf(
      docs(
        deployment('a', { labels: { app: 'web', v: '1' }, ports: [{ name: 'http', containerPort: 8080 }] }),
        deployment('b', { labels: { app: 'web', v: '2' }, ports: [{ name: 'http', containerPort: 9090 }] }),
        service('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] }),
      ),
    );
    const slices = state.endpointSlices.filter((e) => e.service === 'web');
    expect(slices.map((s) => s.ports[0]?.port).sort()).toEqual([8080, 9090]);
    for (const s of slices) expect(s.endpoints).toHaveLength(1);
  });

  it('leaves out pods that do not define the named port', () => {
    const state = stateOf(docs(deployment('a', { labels: { app: 'web' }, ports: [{ name: 'metrics', containerPort: 9000 }] }), service('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] })));
    expect(state.endpointSlices.filter((e) => e.service === 'web').flatMap((e) => e.endpoints)).toEqual([]);
  });

  it('puts at most 100 endpoints in a slice', () => {
    const state = stateOf(docs(deployment('big', { replicas: 250 }), service('big', { selector: { app: 'big' }, ports: [{ port: 80, targetPort: 8080 }] })));
    const slices = state.endpointSlices.filter((e) => e.service === 'big');
    expect(slices.map((s) => s.endpoints.length)).toEqual([100, 100, 50]);
    expect(new Set(slices.map((s) => s.name)).size).toBe(3);
  });

  it('marks not-ready pods not ready but keeps them with publishNotReadyAddresses', () => {
    const notReady = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { app: 'x' } }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }] }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] } });
    const state = stateOf(docs(notReady, service('x', { selector: { app: 'x' }, ports: [{ port: 80 }] }), service('y', { selector: { app: 'x' }, publishNotReadyAddresses: true, ports: [{ port: 80 }] })));
    const ep = (name: string) => state.endpointSlices.find((e) => e.service === name)?.endpoints[0];
    expect(ep('x')?.conditions).toEqual({ ready: false, serving: false, terminating: false });
    expect(ep('y')?.conditions.ready).toBe(true);
  });

  it('mirrors user Endpoints for a selector-less Service', () => {
    const eps = JSON.stringify({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'ext' }, subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 5432 }] }] });
    const state = stateOf(docs(service('ext', { ports: [{ port: 5432 }] }), eps));
    const slice = state.endpointSlices.find((e) => e.service === 'ext');
    expect(slice?.endpoints[0]?.addresses).toEqual(['192.0.2.10']);
    expect(slice?.ports[0]?.port).toBe(5432);
  });
});
