/**
 * LoadBalancer addresses on the nodes' segment, planned from the model (pure). MetalLB layer 2:
 * the elected node holds the address on `lo` (scope host, so masquerade never picks it as a
 * source) and the kernel answers ARP for it on the segment; a new holder sends gratuitous ARP.
 * A provider's load balancer (the `cloud` profile) is a route in the outside world to the node
 * it forwards to. BGP-announced addresses are the routers' business (bgp.ts).
 */
import { entryNodes } from '../model/entry.js';
import { isIp } from '../model/ip.js';
import type { NetworkState } from '../model/types.js';

/** Who holds which address. */
export interface AddressPlan {
  /** Node name → the layer-2 addresses it answers ARP for (sorted). */
  readonly l2: ReadonlyMap<string, readonly string[]>;
  /** Outside-world routes to LoadBalancer addresses: on the segment (L2), or via a node (provider). */
  readonly routes: ReadonlyMap<string, { readonly via?: string }>;
}

function ipv4(ip: string): boolean {
  return isIp(ip) && !ip.includes(':');
}

/** Plans the L2 holders and the outside world's routes to LoadBalancer addresses. */
export function planAddresses(state: NetworkState): AddressPlan {
  const l2 = new Map<string, string[]>();
  const routes = new Map<string, { via?: string }>();
  const nodeIps = new Set(state.nodes.map((n) => n.ip));
  for (const svc of state.services) {
    for (const ip of [...svc.loadBalancerIngress.map((i) => i.ip), ...svc.externalIPs]) {
      if (!ipv4(ip) || nodeIps.has(ip) || routes.has(ip)) continue;
      const entry = entryNodes(state, svc, ip);
      if (svc.loadBalancerBy === 'metallb') {
        const ann = state.metallb?.announcements.byService.get(`${svc.namespace}/${svc.name}`)?.find((a) => a.ip === ip);
        const winner = ann?.l2?.winner;
        if (!winner) continue;
        const list = l2.get(winner) ?? [];
        list.push(ip);
        l2.set(winner, list);
        routes.set(ip, {});
      } else if (entry.nodes[0]) {
        const via = state.nodes.find((n) => n.name === entry.nodes[0])?.ip;
        if (via) routes.set(ip, { via });
      }
    }
  }
  for (const list of l2.values()) list.sort();
  return { l2, routes };
}

/** What moves when the plan changes: per-node address lines, outside route lines, and who announces anew. */
export interface AddressChanges {
  readonly nodes: ReadonlyMap<string, readonly string[]>;
  readonly external: readonly string[];
  /** Addresses a node took over: it sends gratuitous ARP for each. */
  readonly announce: readonly { readonly node: string; readonly ip: string }[];
}

/** The `ip -batch` lines that move the kernel from `prev` (nothing, when undefined) to `next`. */
export function addressChanges(prev: AddressPlan | undefined, next: AddressPlan, clientIp: string): AddressChanges {
  const nodes = new Map<string, string[]>();
  const push = (node: string, line: string): void => {
    const list = nodes.get(node) ?? [];
    list.push(line);
    nodes.set(node, list);
  };
  const announce: { node: string; ip: string }[] = [];
  for (const [node, ips] of prev?.l2 ?? []) {
    const kept = new Set(next.l2.get(node) ?? []);
    for (const ip of ips) if (!kept.has(ip)) push(node, `address del ${ip}/32 dev lo`);
  }
  for (const [node, ips] of next.l2) {
    const had = new Set(prev?.l2.get(node) ?? []);
    for (const ip of ips) {
      if (had.has(ip)) continue;
      push(node, `address add ${ip}/32 dev lo scope host`);
      announce.push({ node, ip });
    }
  }
  const external: string[] = [];
  for (const ip of prev?.routes.keys() ?? []) if (!next.routes.has(ip)) external.push(`route del ${ip}/32`);
  for (const [ip, r] of next.routes) {
    const old = prev?.routes.get(ip);
    if (old && old.via === r.via) continue;
    external.push(r.via ? `route replace ${ip}/32 via ${r.via} dev eth0 src ${clientIp}` : `route replace ${ip}/32 dev eth0 src ${clientIp}`);
  }
  return { nodes, external, announce };
}
