/**
 * MetalLB's speakers: which node answers ARP/NDP for each LoadBalancer IP (layer 2 election) and
 * which routes each node advertises to each BGPPeer, plus why an assigned IP is announced by nobody.
 */
import { createHash } from 'node:crypto';
import type { EndpointSliceState, NodeState, ServiceState } from '../../model/types.js';
import type { StringMap } from '../../api/types.js';
import { quote, type Problem } from '../../api/problems.js';
import {
  type BGPAdvertisement,
  type BGPPeer,
  type L2Advertisement,
  type MetalLBConfig,
  isInternalPeer,
} from './config.js';
import { type Allocation, type Pending, serviceKey } from './allocate.js';
import { formatIp, maskAddress, parseIp } from '../../model/ip.js';
import { anyMatches } from './selector.js';
import type { AnnouncementMode, L2Announcement, BGPRoute, IPAnnouncement, Announcements } from '../../model/metallb.js';
export type { AnnouncementMode, L2Announcement, BGPRoute, IPAnnouncement, Announcements } from '../../model/metallb.js';

/** Nodes with this label never announce LoadBalancer IPs (MetalLB honours it in both modes). */
export const excludeFromLoadBalancersLabel =
  'node.kubernetes.io/exclude-from-external-load-balancers';

/** What `announce` needs. */
export interface AnnounceInput {
  readonly allocations: ReadonlyMap<string, Allocation | Pending>;
  readonly services: readonly ServiceState[];
  readonly endpointSlices: readonly EndpointSliceState[];
  readonly nodes: readonly NodeState[];
  readonly config: MetalLBConfig;
}

/** The L2 election order for an IP: nodes sorted by the hex of sha256(node + "#" + ip), as MetalLB's speaker sorts them. */
export function electionOrder(nodes: readonly string[], ip: string): string[] {
  return nodes
    .map((node) => ({ node, hash: createHash('sha256').update(`${node}#${ip}`).digest('hex') }))
    .sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0))
    .map((entry) => entry.node);
}

/** Computes the L2 winners and BGP routes for every allocated LoadBalancer IP. */
export function announce(input: AnnounceInput): Announcements {
  const servicesByKey = new Map(input.services.map((s) => [serviceKey(s), s]));
  const readyNodes = readyEndpointNodes(input.endpointSlices);
  const speakers = [...input.nodes]
    .filter((n) => n.ready && n.labels[excludeFromLoadBalancersLabel] === undefined)
    .sort((a, b) => compareText(a.name, b.name));
  const byService = new Map<string, IPAnnouncement[]>();
  const routes = new Map<string, MutableRoute>();
  const problems: Problem[] = [];
  const keys = [...input.allocations.keys()].sort(compareText);
  for (const key of keys) {
    const allocation = input.allocations.get(key);
    const service = servicesByKey.get(key);
    if (allocation?.kind !== 'allocated' || !service) continue;
    const context: ServiceContext = {
      service,
      allocation,
      ready: readyNodes.get(key) ?? { any: false, nodes: new Set() },
      speakers,
      config: input.config,
    };
    const l2 = electL2(context);
    const bgp = routeBGP(context, routes);
    const entries = allocation.ips.map((ip): IPAnnouncement => {
      const prefixes = bgp.prefixesByIP.get(ip) ?? [];
      const modes: AnnouncementMode[] = [];
      if (l2.announcement) modes.push('l2');
      if (prefixes.length > 0) modes.push('bgp');
      const announcedBy = new Set<string>(bgp.nodes);
      if (l2.announcement) announcedBy.add(l2.announcement.winner);
      return {
        ip,
        service: key,
        pool: allocation.pool,
        ...(modes[0] === undefined ? {} : { mode: modes[0] }),
        modes,
        announcedBy: [...announcedBy].sort(compareText),
        ...(l2.announcement ? { l2: l2.announcement } : {}),
        bgpPrefixes: prefixes,
      };
    });
    byService.set(key, entries);
    if (entries.every((e) => e.announcedBy.length === 0)) {
      problems.push(silentProblem(context, l2.why, bgp.why));
    }
  }
  const sessions = [...input.nodes]
    .filter((n) => n.labels[excludeFromLoadBalancersLabel] === undefined)
    .sort((a, b) => compareText(a.name, b.name))
    .flatMap((n) => input.config.bgpPeers.filter((p) => anyMatches(p.nodeSelectors, n.labels)).map((p) => ({ node: n.name, peer: p.name, up: n.ready })));
  return { byService, routes: [...routes.values()].map(freezeRoute).sort(compareRoutes), sessions, problems };
}

/** Why a mode announces nothing. */
interface Reason {
  readonly code: 'KW-LB021' | 'KW-LB022' | 'KW-LB023';
  readonly text: string;
}

const noEndpoints: Reason = {
  code: 'KW-LB022',
  text: 'the Service has no ready endpoint, so no speaker announces it',
};

const hints: Record<Reason['code'], string> = {
  'KW-LB021': `make a node match the advertisement's nodeSelectors (and not carry ${excludeFromLoadBalancersLabel}), or run a ready pod on a selected node when externalTrafficPolicy is Local`,
  'KW-LB022': 'check the Service selector and that its pods are ready',
  'KW-LB023':
    "add a BGPPeer whose nodeSelectors match the advertising nodes, or fix the advertisement's spec.peers",
};

interface ReadyNodes {
  readonly any: boolean;
  readonly nodes: Set<string>;
}

interface ServiceContext {
  readonly service: ServiceState;
  readonly allocation: Allocation;
  readonly ready: ReadyNodes;
  readonly speakers: readonly NodeState[];
  readonly config: MetalLBConfig;
}

interface MutableRoute {
  readonly node: string;
  readonly peer: BGPPeer;
  readonly prefix: string;
  readonly nextHop: string;
  readonly communities: Set<string>;
  localPref?: number;
  readonly advertisements: Set<string>;
  readonly services: Set<string>;
}

function readyEndpointNodes(slices: readonly EndpointSliceState[]): Map<string, ReadyNodes> {
  const ready = new Map<string, { any: boolean; nodes: Set<string> }>();
  for (const slice of slices) {
    const key = `${slice.namespace}/${slice.service}`;
    const entry = ready.get(key) ?? { any: false, nodes: new Set<string>() };
    for (const endpoint of slice.endpoints) {
      if (!endpoint.conditions.ready || endpoint.addresses.length === 0) continue;
      entry.any = true;
      if (endpoint.nodeName !== undefined) entry.nodes.add(endpoint.nodeName);
    }
    ready.set(key, entry);
  }
  return ready;
}

/** Advertisements of one kind that cover the Service's pool and select the Service. */
function covering<T extends L2Advertisement | BGPAdvertisement>(
  advertisements: readonly T[],
  pool: string,
  labels: StringMap,
): T[] {
  return advertisements.filter(
    (a) => a.pools.includes(pool) && anyMatches(a.serviceSelectors, labels),
  );
}

/** Speakers an advertisement lets announce, narrowed to nodes with ready endpoints under eTP Local. */
function eligibleNodes(
  context: ServiceContext,
  advertisement: L2Advertisement | BGPAdvertisement,
): NodeState[] {
  const local = context.service.externalTrafficPolicy === 'Local';
  return context.speakers.filter(
    (n) =>
      anyMatches(advertisement.nodeSelectors, n.labels) &&
      (!local || context.ready.nodes.has(n.name)),
  );
}

function electL2(context: ServiceContext): { announcement?: L2Announcement; why?: Reason } {
  const { service, allocation, config } = context;
  const advertisements = covering(config.l2Advertisements, allocation.pool, service.labels);
  if (advertisements.length === 0) return {};
  if (!context.ready.any) return { why: noEndpoints };
  const candidates = new Set<string>();
  for (const advertisement of advertisements) {
    for (const node of eligibleNodes(context, advertisement)) candidates.add(node.name);
  }
  const electionKey = allocation.ips[0] ?? '';
  const order = electionOrder([...candidates], electionKey);
  const winner = order[0];
  if (winner === undefined)
    return { why: { code: 'KW-LB021', text: `L2: ${noEligibleNode(context, advertisements)}` } };
  const winnerNode = context.speakers.find((n) => n.name === winner);
  const serving = advertisements.filter(
    (a) => winnerNode && anyMatches(a.nodeSelectors, winnerNode.labels),
  );
  const interfaces = serving.some((a) => a.interfaces.length === 0)
    ? []
    : [...new Set(serving.flatMap((a) => a.interfaces))].sort(compareText);
  return {
    announcement: {
      winner,
      candidates: order,
      electionKey,
      interfaces,
      advertisements: advertisements.map((a) => a.name),
    },
  };
}

function routeBGP(
  context: ServiceContext,
  routes: Map<string, MutableRoute>,
): { nodes: Set<string>; prefixesByIP: Map<string, string[]>; why?: Reason } {
  const { service, allocation, config } = context;
  const nodes = new Set<string>();
  const prefixesByIP = new Map<string, string[]>();
  const advertisements = covering(config.bgpAdvertisements, allocation.pool, service.labels);
  if (advertisements.length === 0) return { nodes, prefixesByIP };
  if (!context.ready.any) {
    return { nodes, prefixesByIP, why: noEndpoints };
  }
  let sawNode = false;
  const key = serviceKey(service);
  for (const advertisement of advertisements) {
    const peers = config.bgpPeers.filter(
      (p) => advertisement.peers.length === 0 || advertisement.peers.includes(p.name),
    );
    for (const node of eligibleNodes(context, advertisement)) {
      sawNode = true;
      for (const peer of peers.filter((p) => anyMatches(p.nodeSelectors, node.labels))) {
        nodes.add(node.name);
        for (const ip of allocation.ips) {
          const prefix = aggregate(ip, advertisement);
          const list = prefixesByIP.get(ip) ?? [];
          if (!list.includes(prefix)) prefixesByIP.set(ip, [...list, prefix].sort(compareText));
          addRoute(routes, { node, peer, prefix, advertisement, service: key });
        }
      }
    }
  }
  if (nodes.size > 0) return { nodes, prefixesByIP };
  const why: Reason = sawNode
    ? {
        code: 'KW-LB023',
        text: `BGP: no BGPPeer is selected for the eligible nodes (${config.bgpPeers.length} peer(s) defined; check spec.peers and the peers' nodeSelectors)`,
      }
    : { code: 'KW-LB021', text: `BGP: ${noEligibleNode(context, advertisements)}` };
  return { nodes, prefixesByIP, why };
}

function aggregate(ip: string, advertisement: BGPAdvertisement): string {
  const parsed = parseIp(ip);
  if (!parsed) return ip;
  const length =
    parsed.family === 4 ? advertisement.aggregationLength : advertisement.aggregationLengthV6;
  const network = maskAddress(parsed.family, parsed.value, length);
  return `${formatIp(parsed.family, network)}/${length}`;
}

function addRoute(
  routes: Map<string, MutableRoute>,
  at: {
    readonly node: NodeState;
    readonly peer: BGPPeer;
    readonly prefix: string;
    readonly advertisement: BGPAdvertisement;
    readonly service: string;
  },
): void {
  const id = `${at.node.name}|${at.peer.name}|${at.prefix}`;
  const route = routes.get(id) ?? {
    node: at.node.name,
    peer: at.peer,
    prefix: at.prefix,
    nextHop: at.node.ip,
    communities: new Set<string>(),
    advertisements: new Set<string>(),
    services: new Set<string>(),
  };
  for (const community of at.advertisement.communities) route.communities.add(community);
  if (
    at.advertisement.localPref !== undefined &&
    isInternalPeer(at.peer) &&
    route.localPref === undefined
  ) {
    route.localPref = at.advertisement.localPref;
  }
  route.advertisements.add(at.advertisement.name);
  route.services.add(at.service);
  routes.set(id, route);
}

function freezeRoute(route: MutableRoute): BGPRoute {
  return {
    node: route.node,
    peer: route.peer.name,
    ...(route.peer.peerAddress === undefined ? {} : { peerAddress: route.peer.peerAddress }),
    prefix: route.prefix,
    nextHop: route.nextHop,
    communities: [...route.communities].sort(compareText),
    ...(route.localPref === undefined ? {} : { localPref: route.localPref }),
    advertisements: [...route.advertisements].sort(compareText),
    services: [...route.services].sort(compareText),
  };
}

function compareRoutes(a: BGPRoute, b: BGPRoute): number {
  return (
    compareText(a.node, b.node) || compareText(a.peer, b.peer) || compareText(a.prefix, b.prefix)
  );
}

function noEligibleNode(
  context: ServiceContext,
  advertisements: readonly (L2Advertisement | BGPAdvertisement)[],
): string {
  const names = advertisements.map((a) => a.name).join(', ');
  const selected = context.speakers.filter((n) =>
    advertisements.some((a) => anyMatches(a.nodeSelectors, n.labels)),
  );
  if (context.speakers.length === 0) {
    return `every node carries ${excludeFromLoadBalancersLabel}, so no node may announce`;
  }
  if (selected.length === 0) return `no node matches the nodeSelectors of ${names}`;
  return `externalTrafficPolicy is Local and none of the nodes ${selected.map((n) => n.name).join(', ')} selected by ${names} has a ready endpoint`;
}

function silentProblem(context: ServiceContext, ...reasons: (Reason | undefined)[]): Problem {
  const { service, allocation } = context;
  const known = reasons.filter((r): r is Reason => r !== undefined);
  const ips = allocation.ips.join(', ');
  const base = `LoadBalancer IP ${ips} from IPAddressPool ${quote(allocation.pool)} is assigned but announced by no node`;
  const object = { kind: 'Service', namespace: service.namespace, name: service.name };
  if (known.length === 0) {
    return {
      code: 'KW-LB020',
      severity: 'error',
      object,
      path: 'status.loadBalancer.ingress',
      message: `${base}: no L2Advertisement or BGPAdvertisement covers IPAddressPool ${quote(allocation.pool)}`,
      hint: `create an L2Advertisement with spec.ipAddressPools: [${allocation.pool}] in namespace ${context.config.namespace}`,
    };
  }
  const first = known[0] ?? noEndpoints;
  return {
    code: first.code,
    severity: 'error',
    object,
    path: 'status.loadBalancer.ingress',
    message: `${base}: ${[...new Set(known.map((r) => r.text))].join('; ')}`,
    hint: hints[first.code],
  };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
