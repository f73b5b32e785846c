/**
 * LoadBalancer Services: who gives them an address. MetalLB (pools, L2/BGP announcements),
 * k3s's servicelb (the node IPs), a cloud provider (its own pool), or nobody: then the Service
 * stays `<pending>` and works as a NodePort, which is the course's point.
 */
import type { Problem } from '../../api/problems.js';
import type { KubeObject, SourcePos } from '../../api/types.js';
import { formatIp, parseCidr } from '../../model/ip.js';
import type { ClusterConfig, EndpointSliceState, MetalLBState, NamespaceState, NodeState, ServiceState } from '../../model/types.js';
import { allocateLoadBalancerIPs, announce, metallbAnnotations, parseMetalLB, serviceKey } from '../metallb/index.js';

/** Inputs of LoadBalancer assignment. */
export interface LoadBalancerInput {
  readonly cluster: ClusterConfig;
  readonly services: readonly ServiceState[];
  readonly nodes: readonly NodeState[];
  readonly namespaces: readonly NamespaceState[];
  readonly endpointSlices: readonly EndpointSliceState[];
  readonly objects: readonly KubeObject[];
  readonly sourceOf: (o: KubeObject) => SourcePos | undefined;
}

/** The result: Services with their addresses, MetalLB's state when it serves them, problems. */
export interface LoadBalancerResult {
  readonly services: ServiceState[];
  readonly metallb?: MetalLBState;
  readonly problems: Problem[];
}

/** Gives a problem about an object the source position of that object. */
function withSource(p: Problem, objects: readonly KubeObject[], sourceOf: LoadBalancerInput['sourceOf']): Problem {
  if (p.source || !p.object) return p;
  const ref = p.object;
  const o = objects.find((x) => x.kind === ref.kind && x.metadata.name === ref.name && (ref.namespace === undefined || x.metadata.namespace === ref.namespace));
  const source = o ? sourceOf(o) : undefined;
  return source ? { ...p, source } : p;
}

function metallbAssign(input: LoadBalancerInput, lbs: readonly ServiceState[]): { assigned: Map<ServiceState, Partial<ServiceState>>; metallb: MetalLBState; problems: Problem[] } {
  const config = parseMetalLB(input.objects);
  const allocations = allocateLoadBalancerIPs({ services: lbs, namespaces: input.namespaces, config });
  const assigned = new Map<ServiceState, Partial<ServiceState>>();
  for (const s of lbs) {
    const a = allocations.get(serviceKey(s));
    if (!a) continue;
    if (a.kind === 'allocated') {
      assigned.set(s, {
        loadBalancerIngress: a.ips.map((ip) => ({ ip, ipMode: 'VIP' as const })),
        loadBalancerBy: 'metallb',
        annotations: { ...s.annotations, [metallbAnnotations.allocatedFromPool]: a.pool },
      });
    } else assigned.set(s, { pendingReason: a.reason });
  }
  const withAddresses = input.services.map((s) => {
    const a = assigned.get(s);
    return a ? { ...s, ...a } : s;
  });
  const announcements = announce({ allocations, services: withAddresses, endpointSlices: input.endpointSlices, nodes: input.nodes, config });
  return { assigned, metallb: { config, allocations, announcements }, problems: [...config.problems, ...announcements.problems] };
}

/**
 * k3s's ServiceLB (klipper-lb): a DaemonSet of `svclb` pods per LoadBalancer Service binding its
 * ports as host ports on every node, the Service's address being the nodes'. A port already bound
 * by an earlier Service (Traefik's 80 and 443 first: k3s installs it) leaves the later Service's
 * svclb pods Pending, and the Service `<pending>`.
 */
function serviceLB(lbs: readonly ServiceState[], nodes: readonly NodeState[]): Map<ServiceState, Partial<ServiceState>> {
  const out = new Map<ServiceState, Partial<ServiceState>>();
  const taken = new Map<string, ServiceState>();
  const ordered = [...lbs.filter((s) => s.addon), ...lbs.filter((s) => !s.addon)];
  for (const s of ordered) {
    const clash = s.ports.map((p) => ({ p, owner: taken.get(`${p.port}/${p.protocol}`) })).find((x) => x.owner !== undefined);
    if (clash?.owner) {
      out.set(s, { pendingReason: `ServiceLB: port ${clash.p.port}/${clash.p.protocol} is already bound on every node by Service ${clash.owner.namespace}/${clash.owner.name}, so this Service's svclb pods stay Pending` });
      continue;
    }
    for (const p of s.ports) taken.set(`${p.port}/${p.protocol}`, s);
    const ready = nodes.filter((n) => n.ready);
    out.set(s, { loadBalancerIngress: ready.map((n) => ({ ip: n.ip, ipMode: 'VIP' as const })), loadBalancerBy: 'servicelb' });
  }
  return out;
}

/** Fills `loadBalancerIngress`, `loadBalancerBy` and `pendingReason` of LoadBalancer Services. */
export function assignLoadBalancers(input: LoadBalancerInput): LoadBalancerResult {
  const mode = input.cluster.loadBalancer.mode;
  const lbs = input.services.filter((s) => s.type === 'LoadBalancer');
  let assigned = new Map<ServiceState, Partial<ServiceState>>();
  let metallb: MetalLBState | undefined;
  let problems: Problem[] = [];
  if (mode === 'none') {
    for (const s of lbs) assigned.set(s, { pendingReason: 'no load-balancer implementation in this cluster (install MetalLB or use a cloud profile)' });
  } else if (mode === 'servicelb') {
    assigned = serviceLB(lbs, input.nodes);
  } else if (mode === 'cloud') {
    const range = parseCidr(input.cluster.loadBalancer.pool ?? '203.0.113.0/24');
    let next = range ? range.range[0] + 1n : 0n;
    for (const s of [...lbs].sort((a, b) => serviceKey(a).localeCompare(serviceKey(b)))) {
      if (s.loadBalancerClass) {
        assigned.set(s, { pendingReason: `loadBalancerClass "${s.loadBalancerClass}" is not served by the cloud provider` });
        continue;
      }
      if (!range || next >= range.range[1]) {
        assigned.set(s, { pendingReason: 'the provider pool is exhausted' });
        continue;
      }
      assigned.set(s, { loadBalancerIngress: [{ ip: formatIp(range.family, next++), ipMode: 'VIP' }], loadBalancerBy: 'cloud' });
    }
  } else {
    const r = metallbAssign(input, lbs);
    assigned = r.assigned;
    metallb = r.metallb;
    problems = r.problems.map((p) => withSource(p, input.objects, input.sourceOf));
  }
  const services = input.services.map((s) => {
    const a = assigned.get(s);
    return a ? { ...s, ...a } : s;
  });
  return { services, metallb, problems };
}
