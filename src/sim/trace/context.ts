/**
 * What one tracer holds (the state and its indexes, built once) and what one walk of a
 * connection collects (hops, and the random draws it took on the way).
 */
import { InputError } from '../../api/problems.js';
import { listeningPorts, nodeListeningPorts, type ListeningPort, type NodeListeningPort } from '../../model/endpoints.js';
import { ipSetOf, parseCidr, type IpSet } from '../../model/ip.js';
import type { Hop, Trace, TraceRef, TraceVerdict } from '../../model/dataplane.js';
import type { NetworkState, NodeState, PodState, ServiceState } from '../../model/types.js';

/** The tracer's indexes over one state. */
export interface Ctx {
  readonly state: NetworkState;
  readonly podsByIp: ReadonlyMap<string, PodState>;
  readonly svcByIp: ReadonlyMap<string, ServiceState>;
  /** LoadBalancer ingress and external IPs → the Services that have them (servicelb shares node IPs). */
  readonly lbByIp: ReadonlyMap<string, readonly ServiceState[]>;
  readonly nodeByIp: ReadonlyMap<string, NodeState>;
  readonly nodeByName: ReadonlyMap<string, NodeState>;
  /** `spec.loadBalancerSourceRanges` of the Services that set it, as address sets. */
  readonly sourceRanges: ReadonlyMap<ServiceState, IpSet>;
  readonly domain: string;
  readonly dns?: ServiceState;
  /** The ports each pod's program listens on. */
  readonly listening: ReadonlyMap<PodState, readonly ListeningPort[]>;
  /** The ports each node's own processes listen on, by node name. */
  readonly nodeListening: ReadonlyMap<string, readonly NodeListeningPort[]>;
}

/** Builds the indexes of a state. */
export function contextOf(state: NetworkState): Ctx {
  const podsByIp = new Map(state.pods.filter((p) => p.ip && !p.hostNetwork).map((p) => [p.ip, p]));
  const svcByIp = new Map(state.services.filter((s) => s.clusterIP && s.clusterIP !== 'None').map((s) => [s.clusterIP, s]));
  const lbByIp = new Map<string, ServiceState[]>();
  for (const s of state.services) {
    for (const ip of new Set([...s.loadBalancerIngress.map((x) => x.ip), ...s.externalIPs])) {
      const list = lbByIp.get(ip);
      if (list) list.push(s);
      else lbByIp.set(ip, [s]);
    }
  }
  const sourceRanges = new Map(state.services.filter((s) => s.loadBalancerSourceRanges.length > 0).map((s) => [s, ipSetOf(s.loadBalancerSourceRanges.flatMap((r) => parseCidr(r) ?? []))]));
  return {
    state,
    podsByIp,
    svcByIp,
    lbByIp,
    nodeByIp: new Map(state.nodes.map((n) => [n.ip, n])),
    nodeByName: new Map(state.nodes.map((n) => [n.name, n])),
    sourceRanges,
    domain: state.cluster.clusterDomain,
    dns: state.services.find((s) => s.namespace === 'kube-system' && s.name === 'kube-dns'),
    listening: listeningPorts(state),
    nodeListening: nodeListeningPorts(state),
  };
}

/**
 * Picks one of `n` options at a random draw of the data path (kube-proxy's `numgen`, a router's
 * ECMP hash, the order of DNS answers); `preferred` is the draw kwire shows by default.
 */
export type Draw = (n: number, preferred: number) => number;

/** The hops of one walk and how it ends. */
export class Walk {
  readonly hops: Hop[] = [];
  /** Whether a draw among several options decided something on the way. */
  random = false;

  constructor(private readonly drawFn: Draw) {}

  /** Draws one of `n` options. */
  draw(n: number, preferred: number): number {
    if (n > 1) this.random = true;
    return n <= 1 ? 0 : this.drawFn(n, preferred);
  }

  add(h: Omit<Hop, 'refs'> & { refs?: readonly TraceRef[] }): void {
    this.hops.push({ ...h, refs: h.refs ?? [] });
  }

  end(verdict: TraceVerdict, extra: Partial<Omit<Trace, 'hops' | 'verdict' | 'apiVersion' | 'kind'>> = {}): Trace {
    return { apiVersion: 'kwire.dev/v1alpha1', kind: 'Trace', verdict, hops: this.hops, ...extra };
  }
}

/** A usage error (exit 2) naming what was not found. */
export function usage(message: string, hint?: string): InputError {
  return new InputError([{ code: 'KW-USAGE', severity: 'error', message, ...(hint ? { hint } : {}) }]);
}
