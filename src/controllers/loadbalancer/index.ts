/**
 * LoadBalancer Services: who gives them an address. MetalLB (pools, L2/BGP announcements),
 * k3s's servicelb (the node IPs), a cloud provider (its own pool), or nobody: then the Service
 * stays `<pending>` and works as a NodePort, which is the course's point.
 */
import type { Problem } from '../../api/problems.js';
import type { KubeObject, SourcePos } from '../../api/types.js';
import { bigIntToIp, cidrRange } from '../../model/ip.js';
import type { ClusterConfig, EndpointSliceState, NamespaceState, NodeState, ServiceState } from '../../model/types.js';

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

/** Fills `loadBalancerIngress`, `loadBalancerBy` and `pendingReason` of LoadBalancer Services. */
export function assignLoadBalancers(input: LoadBalancerInput): { services: ServiceState[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const mode = input.cluster.loadBalancer.mode;
  const lbs = input.services.filter((s) => s.type === 'LoadBalancer');
  const assigned = new Map<ServiceState, Partial<ServiceState>>();
  if (mode === 'none') {
    for (const s of lbs) assigned.set(s, { pendingReason: 'no load-balancer implementation in this cluster (install MetalLB or use a cloud profile)' });
  } else if (mode === 'servicelb') {
    for (const s of lbs) {
      assigned.set(s, { loadBalancerIngress: input.nodes.map((n) => ({ ip: n.ip, ipMode: 'VIP' as const })), loadBalancerBy: 'servicelb' });
    }
  } else if (mode === 'cloud') {
    const range = cidrRange(input.cluster.loadBalancer.pool ?? '203.0.113.0/24');
    let next = range ? range.first + 1n : 0n;
    for (const s of [...lbs].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`))) {
      if (s.loadBalancerClass) {
        assigned.set(s, { pendingReason: `loadBalancerClass "${s.loadBalancerClass}" is not served by the cloud provider` });
        continue;
      }
      if (!range || next >= range.last) {
        assigned.set(s, { pendingReason: 'the provider pool is exhausted' });
        continue;
      }
      assigned.set(s, { loadBalancerIngress: [{ ip: bigIntToIp(next++, range.family), ipMode: 'VIP' }], loadBalancerBy: 'cloud' });
    }
  } else {
    for (const s of lbs) assigned.set(s, { pendingReason: 'MetalLB allocation pending integration' });
  }
  const services = input.services.map((s) => {
    const a = assigned.get(s);
    return a ? { ...s, ...a } : s;
  });
  return { services, problems };
}
