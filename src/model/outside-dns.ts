/**
 * The outside world's DNS, as one rule for every plane: it knows the hosts the ingress controllers
 * serve (exact hosts first, then one-label wildcards, as routing matches them) and answers the
 * address of the controller serving them — its LoadBalancer address, else the node of its pod
 * (with the controller's NodePort) — and knows nothing else.
 */
import type { TraceRef } from './dataplane.js';
import type { RouteServer } from './routing/index.js';
import type { NetworkState } from './types.js';

/** An answer of the outside world's DNS. */
export interface OutsideAnswer {
  readonly ip: string;
  /** The controller's NodePort for the asked port, when it has no LoadBalancer address. */
  readonly port?: number;
  readonly why: string;
  readonly refs: readonly TraceRef[];
}

/** The controller whose compiled routes have a server for the host, by exact host or by wildcard. */
function findServer(state: NetworkState, host: string, kind: 'exact' | 'wildcard'): { controller: string; server: RouteServer } | undefined {
  const suffix = host.includes('.') ? host.slice(host.indexOf('.') + 1) : '';
  for (const [controller, routes] of state.routing.controllers) {
    const server = kind === 'exact' ? routes.exactHosts.get(host) : suffix ? routes.wildcardHosts.get(suffix) : undefined;
    if (server) return { controller, server };
  }
  return undefined;
}

/** Where an outside client reaches an ingress controller: its LoadBalancer address, else a node and NodePort. */
export function controllerAddress(state: NetworkState, controller: string, port: number): { ip: string; port?: number; how: string } | undefined {
  const ctrl = state.services.find((s) => s.addon && s.labels['app.kubernetes.io/instance'] === controller && s.type !== 'ClusterIP');
  const lbIP = ctrl?.loadBalancerIngress[0]?.ip;
  if (lbIP) return { ip: lbIP, how: "its controller's LoadBalancer address" };
  if (!ctrl || ctrl.type === 'LoadBalancer') return undefined;
  const pod = state.pods.find((p) => p.addon && p.labels['app.kubernetes.io/instance'] === controller);
  const nodeIP = state.nodes.find((n) => n.name === pod?.node)?.ip;
  if (!nodeIP) return undefined;
  if (pod?.ports.some((p) => p.hostPort === port && p.protocol === 'TCP')) return { ip: nodeIP, how: `no LoadBalancer address; the controller binds host port ${String(port)} on its node` };
  const np = ctrl.ports.find((p) => p.port === port)?.nodePort;
  return { ip: nodeIP, ...(np === undefined ? {} : { port: np }), how: `no LoadBalancer address, so a node of the controller${np ? ` and its NodePort ${np}` : ''}` };
}

/** What the outside world's DNS answers for a host (asked for `port`), or undefined (NXDOMAIN). */
export function outsideAddress(state: NetworkState, host: string, port: number): OutsideAnswer | undefined {
  const found = findServer(state, host, 'exact') ?? findServer(state, host, 'wildcard');
  if (!found) return undefined;
  const { controller, server } = found;
  const ref = server.locations[0]?.target.ingress ?? server.defaultBackend?.ingress;
  const refs = ref ? [{ kind: 'Ingress', namespace: ref.namespace, name: ref.name }] : [];
  const named = ref ? `Ingress ${ref.namespace}/${ref.name} names ${server.host}` : `${server.host} is served by ${controller}`;
  const address = controllerAddress(state, controller, port);
  return address ? { ip: address.ip, ...(address.port === undefined ? {} : { port: address.port }), why: `${named}; ${address.how}`, refs } : undefined;
}

/** Every name the outside world's DNS knows, with its A record (`*.suffix` for a wildcard host). */
export function outsideRecords(state: NetworkState): Map<string, string> {
  const out = new Map<string, string>();
  for (const [controller, routes] of state.routing.controllers) {
    const address = controllerAddress(state, controller, 80);
    if (!address) continue;
    for (const host of routes.exactHosts.keys()) if (!out.has(host)) out.set(host, address.ip);
    for (const suffix of routes.wildcardHosts.keys()) if (!out.has(`*.${suffix}`)) out.set(`*.${suffix}`, address.ip);
  }
  return out;
}
