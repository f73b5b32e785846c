/**
 * kube-proxy's choice of endpoint for a Service port, as the one rule every plane reads: which
 * endpoints are eligible (ready, traffic policies, node-local) and which one a connection gets.
 */
import { fnv32a } from './ip.js';
import type { NetworkState, PodState, ServicePortState, ServiceState } from './types.js';

/** One eligible endpoint of a Service port. */
export interface Candidate {
  readonly ip: string;
  readonly port: number;
  readonly node?: string;
  readonly pod?: PodState;
}

/**
 * How the traffic reached the Service, which decides the traffic policy that applies: `cluster`
 * (a ClusterIP: `internalTrafficPolicy`), `external` (a NodePort, LoadBalancer or external IP
 * entered from outside on `node`: `externalTrafficPolicy`), or `all` — kube-proxy's cluster policy
 * chain, every ready endpoint whatever the policies, which it uses for a node's own connection to
 * its NodePort and for a pod's or node's connection to a LoadBalancer or external IP (the traffic
 * is short-circuited rather than sent up and out to the load balancer).
 */
export type Entry =
  | { readonly kind: 'cluster'; readonly fromNode?: string }
  | { readonly kind: 'external'; readonly node: string }
  | { readonly kind: 'all'; readonly fromNode?: string };

/** The eligible endpoints and why the others were left out. */
export interface EndpointSelection {
  readonly candidates: readonly Candidate[];
  /** Total endpoints of the port before the traffic policy. */
  readonly total: number;
  readonly ready: number;
  /** The traffic policy that filtered, if any (`internalTrafficPolicy: Local` …). */
  readonly policy?: string;
  readonly detail: string;
}

/** Finds a Service port by number or name. */
export function servicePort(svc: ServiceState, port: number | string, protocol = 'TCP'): ServicePortState | undefined {
  return typeof port === 'number'
    ? svc.ports.find((p) => p.port === port && p.protocol === protocol)
    : svc.ports.find((p) => p.name === port);
}

/** The endpoints kube-proxy may send a connection to this Service port to. */
export function selectEndpoints(state: NetworkState, svc: ServiceState, port: ServicePortState, entry: Entry): EndpointSelection {
  const podsByIp = new Map(state.pods.filter((p) => p.namespace === svc.namespace).map((p) => [p.ip, p]));
  const all: (Candidate & { ready: boolean; serving: boolean })[] = [];
  for (const slice of state.endpointSlices) {
    if (slice.namespace !== svc.namespace || slice.service !== svc.name) continue;
    const sp = slice.ports.find((p) => p.name === port.name && p.protocol === port.protocol);
    if (!sp) continue;
    for (const ep of slice.endpoints) {
      for (const ip of ep.addresses) {
        all.push({ ip, port: sp.port, node: ep.nodeName, pod: podsByIp.get(ip), ready: ep.conditions.ready, serving: ep.conditions.serving });
      }
    }
  }
  all.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  let usable = all.filter((e) => e.ready);
  // kube-proxy falls back to serving-but-terminating endpoints when none is ready.
  if (usable.length === 0) usable = all.filter((e) => e.serving);
  const ready = usable.length;
  let policy: string | undefined;
  let candidates: Candidate[] = usable;
  if (entry.kind === 'external' && svc.externalTrafficPolicy === 'Local') {
    policy = 'externalTrafficPolicy: Local';
    candidates = usable.filter((e) => e.node === entry.node);
  } else if (entry.kind === 'cluster' && svc.internalTrafficPolicy === 'Local' && entry.fromNode) {
    policy = 'internalTrafficPolicy: Local';
    candidates = usable.filter((e) => e.node === entry.fromNode);
  }
  const where = entry.kind === 'external' ? entry.node : entry.fromNode;
  const detail =
    all.length === 0
      ? 'the Service has no endpoints'
      : ready === 0
        ? `none of its ${all.length} endpoints is ready`
        : policy && candidates.length === 0
          ? `${policy}: none of its ${ready} ready endpoints runs on ${where ?? 'this node'}`
          : `${candidates.length} of ${all.length} endpoints eligible${policy ? ` (${policy}: only those on ${where ?? 'this node'})` : ''}`;
  return { candidates, total: all.length, ready, policy, detail };
}

/**
 * The endpoint a connection gets. kube-proxy draws at random (`numgen random`); kwire draws from a
 * hash of the connection so the same question gets the same answer. With `sessionAffinity:
 * ClientIP` the hash is of the client address only, so one client always gets one endpoint.
 */
export function chooseEndpoint(svc: ServiceState, candidates: readonly Candidate[], clientIP: string, connectionKey: string): { chosen?: Candidate; why: string } {
  if (candidates.length === 0) return { why: 'no eligible endpoint' };
  const affinity = svc.sessionAffinity === 'ClientIP';
  const key = affinity ? `${svc.namespace}/${svc.name}|${clientIP}` : connectionKey;
  const chosen = candidates[fnv32a(key) % candidates.length];
  const why = affinity
    ? `sessionAffinity ClientIP: client ${clientIP} sticks to one endpoint for ${svc.sessionAffinityTimeoutSeconds}s`
    : candidates.length === 1
      ? 'the only eligible endpoint'
      : `one of ${candidates.length} at random (nftables numgen; kwire shows the draw for this connection)`;
  return { chosen, why };
}

/** A port a pod's program listens on. */
export interface ListeningPort {
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
  /** The container that declares it, or `''` when only a Service's targetPort names it. */
  readonly container: string;
}

/**
 * The ports kwire's pods listen on, as one rule for every plane: every declared container port,
 * and every port a Service sends them traffic to (a numeric targetPort no container declares —
 * containerPort is informational, and manifests often leave it out). Anything else is refused.
 */
export function listeningPorts(state: NetworkState): ReadonlyMap<PodState, readonly ListeningPort[]> {
  const byIp = new Map(state.pods.filter((p) => p.ip !== '' && !p.hostNetwork).map((p) => [p.ip, p]));
  const out = new Map<PodState, ListeningPort[]>();
  const add = (pod: PodState, port: ListeningPort): void => {
    const list = out.get(pod) ?? [];
    if (!list.some((x) => x.port === port.port && x.protocol === port.protocol)) list.push(port);
    out.set(pod, list);
  };
  for (const pod of byIp.values()) for (const p of pod.ports) add(pod, { port: p.containerPort, protocol: p.protocol, container: p.container });
  for (const slice of state.endpointSlices) {
    for (const ep of slice.endpoints) {
      for (const ip of ep.addresses) {
        const pod = byIp.get(ip);
        if (!pod || pod.namespace !== slice.namespace) continue;
        for (const p of slice.ports) add(pod, { port: p.port, protocol: p.protocol, container: '' });
      }
    }
  }
  return out;
}

/** A port a node's own processes listen on, and the Service whose endpoints name it. */
export interface NodeListeningPort {
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
  readonly service: { readonly namespace: string; readonly name: string };
}

/**
 * The ports kwire's nodes listen on, by node name: those the endpoints of a selector-less Service
 * name at the node's own address (the API server's on control-plane nodes, through
 * `default/kubernetes`). A node refuses every other port that no NodePort or host port takes.
 */
export function nodeListeningPorts(state: NetworkState): ReadonlyMap<string, readonly NodeListeningPort[]> {
  const byIp = new Map(state.nodes.map((n) => [n.ip, n.name]));
  const out = new Map<string, NodeListeningPort[]>();
  for (const slice of state.endpointSlices) {
    for (const ep of slice.endpoints) {
      if (ep.targetRef) continue;
      for (const ip of ep.addresses) {
        const node = byIp.get(ip);
        if (node === undefined) continue;
        const list = out.get(node) ?? [];
        for (const p of slice.ports) {
          if (!list.some((x) => x.port === p.port && x.protocol === p.protocol)) list.push({ port: p.port, protocol: p.protocol, service: { namespace: slice.namespace, name: slice.service } });
        }
        out.set(node, list);
      }
    }
  }
  return out;
}

/** The Service that owns a NodePort, if one does. */
export function nodePortService(state: NetworkState, port: number, protocol: string): { readonly service: ServiceState; readonly port: ServicePortState } | undefined {
  for (const service of state.services) {
    if (service.type === 'ClusterIP' || service.type === 'ExternalName') continue;
    const sp = service.ports.find((p) => p.nodePort === port && p.protocol === protocol);
    if (sp) return { service, port: sp };
  }
  return undefined;
}
