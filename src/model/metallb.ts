/**
 * MetalLB in the model: its configuration, the addresses its controller gave and what its speakers
 * announce (made by the metallb controller; read by trace, get, lint and the Linux plane).
 */
import type { StringMap } from '../api/types.js';
import type { Problem } from '../api/problems.js';
import type { IpFamily } from './ip.js';
import type { CompiledSelector } from './selectors.js';

/** An inclusive range of addresses of one family: one `addresses` entry of an IPAddressPool. */
export interface AddressRange {
  readonly family: IpFamily;
  readonly first: bigint;
  readonly last: bigint;
  /** The entry as written. */
  readonly text: string;
}

/** `spec.serviceAllocation` of an IPAddressPool. */
export interface ServiceAllocation {
  /** Lower wins; undefined (or 0, as MetalLB reads it) means the pool is tried last. */
  readonly priority?: number;
  readonly namespaces: readonly string[];
  readonly namespaceSelectors: readonly CompiledSelector[];
  readonly serviceSelectors: readonly CompiledSelector[];
}

/** An IPAddressPool with its addresses parsed. */
export interface AddressPool {
  readonly name: string;
  readonly namespace: string;
  readonly labels: StringMap;
  /** The valid `spec.addresses` entries, as written and parsed, in order. */
  readonly ranges: readonly AddressRange[];
  /** @default true */
  readonly autoAssign: boolean;
  /** @default false */
  readonly avoidBuggyIPs: boolean;
  readonly serviceAllocation?: ServiceAllocation;
}

/** An L2Advertisement with its pools resolved. */
export interface L2Advertisement {
  readonly name: string;
  readonly namespace: string;
  /** Names of the pools it covers (explicit names plus selector matches; all pools when neither is given). */
  readonly pools: readonly string[];
  /** Empty: every node. */
  readonly nodeSelectors: readonly CompiledSelector[];
  /** Empty: every interface. */
  readonly interfaces: readonly string[];
  /** Empty: every Service. */
  readonly serviceSelectors: readonly CompiledSelector[];
}

/** A BGPAdvertisement with its pools, communities and defaults resolved. */
export interface BGPAdvertisement {
  readonly name: string;
  readonly namespace: string;
  readonly pools: readonly string[];
  /** @default 32 */
  readonly aggregationLength: number;
  /** @default 128 */
  readonly aggregationLengthV6: number;
  readonly localPref?: number;
  /** Normalized values (`65000:100`, `large:1:2:3`), aliases replaced by their Community value. */
  readonly communities: readonly string[];
  readonly nodeSelectors: readonly CompiledSelector[];
  /** BGPPeer names; empty: every peer. */
  readonly peers: readonly string[];
  readonly serviceSelectors: readonly CompiledSelector[];
}

/** A BGPPeer (metallb.io/v1beta2 or v1beta1). */
export interface BGPPeer {
  readonly name: string;
  readonly namespace: string;
  readonly apiVersion: string;
  readonly myASN: number;
  /** Undefined when `dynamicASN` is used instead. */
  readonly peerASN?: number;
  readonly dynamicASN?: 'internal' | 'external';
  /** Undefined for an unnumbered (`interface`) session. */
  readonly peerAddress?: string;
  readonly interface?: string;
  /** @default 179 */
  readonly peerPort: number;
  /** As written, e.g. `90s`. @default "90s" */
  readonly holdTime: string;
  readonly keepaliveTime?: string;
  readonly routerID?: string;
  readonly sourceAddress?: string;
  readonly ebgpMultiHop: boolean;
  readonly vrf?: string;
  /** Empty: every node. */
  readonly nodeSelectors: readonly CompiledSelector[];
}

/** MetalLB's whole configuration plus what was wrong with it. */
export interface MetalLBConfig {
  /** The namespace MetalLB reads its resources from. */
  readonly namespace: string;
  /** Pools sorted by name. */
  readonly pools: readonly AddressPool[];
  readonly l2Advertisements: readonly L2Advertisement[];
  readonly bgpAdvertisements: readonly BGPAdvertisement[];
  readonly bgpPeers: readonly BGPPeer[];
  /** Community aliases: name → normalized value. */
  readonly communities: ReadonlyMap<string, string>;
  readonly problems: readonly Problem[];
}

/** An address (or a dual-stack pair) given to a Service. */
export interface Allocation {
  readonly kind: 'allocated';
  /** Canonical addresses, in the order of `status.loadBalancer.ingress`. */
  readonly ips: readonly string[];
  /** The pool they came from (`metallb.io/ip-allocated-from-pool`). */
  readonly pool: string;
  /** Whether the Service asked for these addresses (`metallb.io/loadBalancerIPs` or `spec.loadBalancerIP`). */
  readonly requested: boolean;
  readonly sharingKey?: string;
  /** Other Services holding one of the same addresses, `ns/name`, sorted. */
  readonly sharedWith: readonly string[];
}

/** A Service left `<pending>`, with why. */
export interface Pending {
  readonly kind: 'pending';
  /** Stable code (`KW-LB03x`). */
  readonly code: string;
  readonly reason: string;
  /** True when MetalLB does not handle the Service at all (another loadBalancerClass). */
  readonly ignored: boolean;
}

/** How an IP is announced. */
export type AnnouncementMode = 'l2' | 'bgp';

/** The layer 2 election for one IP. */
export interface L2Announcement {
  /** The node that answers ARP/NDP for the IP. */
  readonly winner: string;
  /** Eligible nodes in election order (the winner first). */
  readonly candidates: readonly string[];
  /** The string hashed with each node name: `sha256(node + "#" + key)`, the Service's first IP. */
  readonly electionKey: string;
  /** Interfaces the winner announces on; empty means every interface. */
  readonly interfaces: readonly string[];
  /** L2Advertisements that cover the IP. */
  readonly advertisements: readonly string[];
}

/** One route a node advertises to one BGPPeer. */
export interface BGPRoute {
  readonly node: string;
  readonly peer: string;
  readonly peerAddress?: string;
  /** The advertised prefix after aggregation, e.g. `198.51.100.0/24`. */
  readonly prefix: string;
  /** The node's IP. */
  readonly nextHop: string;
  /** Sorted, normalized (`65000:100`, `large:1:2:3`). */
  readonly communities: readonly string[];
  /** Sent to internal (iBGP) peers only, as RFC 4271 says. */
  readonly localPref?: number;
  readonly advertisements: readonly string[];
  /** Services (`ns/name`) whose IPs the prefix covers. */
  readonly services: readonly string[];
}

/** How one IP of one Service reaches the outside. */
export interface IPAnnouncement {
  readonly ip: string;
  readonly service: string;
  readonly pool: string;
  /** `l2` when a node answers ARP/NDP for it, else `bgp` when routes carry it, else undefined. */
  readonly mode?: AnnouncementMode;
  readonly modes: readonly AnnouncementMode[];
  /** Nodes announcing it (the L2 winner and every BGP-advertising node), sorted. */
  readonly announcedBy: readonly string[];
  readonly l2?: L2Announcement;
  /** Prefixes carrying the IP to BGP peers, sorted. */
  readonly bgpPrefixes: readonly string[];
}

/** Everything MetalLB's speakers announce. */
export interface Announcements {
  /** Per Service (`ns/name`), one entry per allocated IP. */
  readonly byService: ReadonlyMap<string, readonly IPAnnouncement[]>;
  /** Every BGP route, sorted by node, peer and prefix. */
  readonly routes: readonly BGPRoute[];
  /**
   * The BGP sessions: each node a BGPPeer selects (and that does not opt out of load balancers),
   * with that peer, sorted; `up` when the node's speaker runs (the node is ready).
   */
  readonly sessions: readonly { readonly node: string; readonly peer: string; readonly up: boolean }[];
  /** Assigned IPs announced by nobody, with the reason. */
  readonly problems: readonly Problem[];
}

