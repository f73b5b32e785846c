/**
 * How traffic from outside the cluster enters it, as one rule for every plane: which nodes take a
 * LoadBalancer address (MetalLB's L2 leader, its BGP next hops, the provider's or ServiceLB's
 * node), and which source address the destination then sees (kube-proxy masquerades to the entry
 * node under `externalTrafficPolicy: Cluster` and keeps the client's under `Local`).
 */
import type { Protocol } from '../api/types.js';
import { formatIp, parseCidr } from './ip.js';
import type { NetworkState, NodeState, PodState, ServiceState } from './types.js';

/** The nodes that can take a connection to a LoadBalancer or external IP of a Service. */
export interface EntryNodes {
  /** `l2`: the one node answering ARP; `bgp`: the router's ECMP next hops; `provider`: the LB's node. */
  readonly mode: 'l2' | 'bgp' | 'provider';
  /** In the order kwire draws them (the first is the default draw); empty when nobody announces the IP. */
  readonly nodes: readonly string[];
}

/** The nodes a connection to `ip` (an address of `svc`) enters by. */
export function entryNodes(state: NetworkState, svc: ServiceState, ip: string): EntryNodes {
  if (svc.loadBalancerBy === 'metallb') {
    const ann = state.metallb?.announcements.byService.get(`${svc.namespace}/${svc.name}`)?.find((a) => a.ip === ip);
    if (!ann || ann.announcedBy.length === 0) return { mode: 'l2', nodes: [] };
    if (ann.mode === 'l2') return { mode: 'l2', nodes: ann.l2 ? [ann.l2.winner] : [] };
    return { mode: 'bgp', nodes: ann.announcedBy };
  }
  const own = state.nodes.find((n) => n.ip === ip) ?? state.nodes.find((n) => !n.controlPlane);
  return { mode: 'provider', nodes: own ? [own.name] : [] };
}

/**
 * The pod that binds `port` on a node's own address with a `hostPort` (the CNI's portmap DNAT, as
 * minikube's ingress addon binds 80 and 443), if one does. The client's address is kept.
 */
export function hostPortPod(state: NetworkState, node: NodeState, port: number, protocol: Protocol): { readonly pod: PodState; readonly containerPort: number } | undefined {
  for (const pod of state.pods) {
    if (pod.node !== node.name || pod.ip === '' || pod.hostNetwork) continue;
    const p = pod.ports.find((x) => x.hostPort === port && x.protocol === protocol);
    if (p) return { pod, containerPort: p.containerPort };
  }
  return undefined;
}

/**
 * The address kube-proxy's masquerade gives a connection leaving `node` for an endpoint on
 * `endpointNode`: the kernel picks an address of the interface the packet leaves by, else the
 * first of another interface. Routed pods' veths have none, so it is the node's own address; with
 * a bridge (`cni0`, the pod CIDR's first address) towards a pod on the same node it is the
 * bridge's, and over the VXLAN overlay (`flannel.1`, the pod CIDR's network address) the device's.
 */
export function masqueradeAddress(state: NetworkState, node: NodeState, endpointNode: string | undefined): string {
  const mode = state.cluster.cni.mode;
  if (mode === 'routed') return node.ip;
  const cidr = parseCidr(node.podCIDR);
  if (!cidr) return node.ip;
  if (endpointNode === node.name) return formatIp(cidr.family, cidr.range[0] + 1n);
  return mode === 'vxlan' && endpointNode !== undefined && state.nodes.some((n) => n.name === endpointNode) ? formatIp(cidr.family, cidr.range[0]) : node.ip;
}

/** The source address the destination sees once kube-proxy on `entry` forwarded an outside client's connection to `endpointNode`. */
export function seenSource(state: NetworkState, svc: ServiceState, clientIP: string, entry: NodeState, endpointNode: string | undefined): string {
  return svc.externalTrafficPolicy === 'Local' ? clientIP : masqueradeAddress(state, entry, endpointNode);
}

/** How an outside client's request reaches an ingress controller, and who the controller sees. */
export interface ControllerEntry {
  readonly service: ServiceState;
  readonly node: NodeState;
  /** The client address the controller sees for an outside client at `clientIP`. */
  readonly seen: (clientIP: string) => string;
}

/**
 * Where an outside client's request to an ingress controller enters (its LoadBalancer address,
 * else its host port or NodePort on the node of its pod), as the outside world's DNS points
 * clients there: a host port keeps the client's address, kube-proxy's paths follow the traffic policy.
 */
export function controllerEntry(state: NetworkState, controller: string): ControllerEntry | undefined {
  const service = state.services.find((s) => s.addon && s.labels['app.kubernetes.io/instance'] === controller && s.type !== 'ClusterIP');
  if (!service) return undefined;
  const lbIP = service.loadBalancerIngress[0]?.ip;
  const pod = state.pods.find((p) => p.addon && p.labels['app.kubernetes.io/instance'] === controller);
  let nodeName: string | undefined;
  if (lbIP) nodeName = entryNodes(state, service, lbIP).nodes[0];
  else if (service.type !== 'LoadBalancer') nodeName = pod?.node;
  const node = state.nodes.find((n) => n.name === nodeName);
  if (!node) return undefined;
  const hostPort = !lbIP && pod?.ports.some((p) => p.hostPort === 80);
  return { service, node, seen: (client) => (hostPort ? client : seenSource(state, service, client, node, pod?.node)) };
}
