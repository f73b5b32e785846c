/**
 * MetalLB's BGP mode in the Linux plane, rendered from the model (pure): one BIRD 2 speaker per
 * node that keeps a session (its routes: the model's, with communities and localPref), and the
 * outside world's router, FRR in the `external` namespace (as MetalLB's own e2e tests peer with),
 * which installs the ECMP routes clients follow. Configs only; daemons.ts runs them.
 */
import { cidrContains, parseCidr, parseIp } from '../model/ip.js';
import type { BGPPeer, BGPRoute } from '../model/metallb.js';
import type { NetworkState, NodeState } from '../model/types.js';

/** One session of a node's speaker. */
export interface SpeakerSession {
  readonly peer: BGPPeer;
  /** The routes this node advertises to this peer. */
  readonly routes: readonly BGPRoute[];
  /** The peer is not on the nodes' segment: eBGP multihop through the default gateway. */
  readonly multihop: boolean;
}

/** The router's view of one node. */
export interface RouterNeighbor {
  readonly ip: string;
  readonly node: string;
  /** The node's ASN. */
  readonly remoteAs: number;
  /** The ASN the router presents to this node when it is not the router's own. */
  readonly localAs?: number;
  readonly multihop: boolean;
}

/** The outside world's router. */
export interface RouterPlan {
  readonly asn: number;
  readonly routerId: string;
  /** Addresses the router answers on (the BGPPeers' peerAddress), with their prefix length. */
  readonly addresses: readonly string[];
  readonly port: number;
  readonly neighbors: readonly RouterNeighbor[];
}

/** Seconds of a Go duration as BGPPeer timers are written (`90s`, `1m30s`); `undefined` if unparsable. */
export function durationSeconds(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?$/.exec(text.trim());
  if (!m || text.trim() === '') return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/** The router's ASN as a BGPPeer's node sees it. */
function peerAsn(peer: BGPPeer): number {
  return peer.peerASN ?? (peer.dynamicASN === 'internal' ? peer.myASN : peer.myASN + 1);
}

function onSegment(state: NetworkState, ip: string): boolean {
  const segment = parseCidr(state.cluster.nodeCIDR);
  const address = parseIp(ip);
  return segment !== undefined && address !== undefined && cidrContains(segment, address);
}

/**
 * Each node's sessions: the model's, one per peer address (a node keeps one session per router
 * address); with `running`, only those of nodes whose speaker runs.
 */
export function speakerSessions(state: NetworkState, running = true): Map<string, SpeakerSession[]> {
  const out = new Map<string, SpeakerSession[]>();
  const mlb = state.metallb;
  if (!mlb) return out;
  const peers = new Map(mlb.config.bgpPeers.filter((p) => p.peerAddress !== undefined && !p.peerAddress.includes(':')).map((p) => [p.name, p]));
  for (const s of mlb.announcements.sessions) {
    if (running && !s.up) continue;
    const peer = peers.get(s.peer);
    if (!peer?.peerAddress) continue;
    const list = out.get(s.node) ?? [];
    if (list.some((x) => x.peer.peerAddress === peer.peerAddress)) continue;
    list.push({ peer, routes: mlb.announcements.routes.filter((r) => r.node === s.node && r.peer === peer.name), multihop: peer.ebgpMultiHop || !onSegment(state, peer.peerAddress) });
    out.set(s.node, list);
  }
  return out;
}

/** The outside world's router, when some BGPPeer is to be peered with. */
export function planRouter(state: NetworkState, sessions: ReadonlyMap<string, readonly SpeakerSession[]>): RouterPlan | undefined {
  const all = [...sessions.values()].flat();
  const first = all[0]?.peer;
  if (!first?.peerAddress) return undefined;
  const asn = peerAsn(first);
  const prefixLength = state.cluster.nodeCIDR.split('/')[1] ?? '16';
  const addresses = [...new Set(all.flatMap((s) => (s.peer.peerAddress ? [`${s.peer.peerAddress}/${onSegment(state, s.peer.peerAddress) ? prefixLength : '32'}`] : [])))].sort();
  const neighbors: RouterNeighbor[] = [];
  for (const [nodeName, list] of sessions) {
    const node = state.nodes.find((n) => n.name === nodeName);
    const session = list[0];
    if (!node || !session || neighbors.some((n) => n.ip === node.ip)) continue;
    const local = peerAsn(session.peer);
    neighbors.push({ ip: node.ip, node: node.name, remoteAs: session.peer.myASN, ...(local === asn ? {} : { localAs: local }), multihop: session.multihop });
  }
  neighbors.sort((a, b) => (a.ip < b.ip ? -1 : 1));
  return { asn, routerId: first.peerAddress, addresses, port: first.peerPort, neighbors };
}

/** FRR's bgpd configuration for the router. */
export function renderFrr(plan: RouterPlan, logFile: string): string {
  const lines = [
    'frr defaults traditional',
    'hostname kwire-router',
    `log file ${logFile} informational`,
    '!',
    `router bgp ${String(plan.asn)}`,
    ` bgp router-id ${plan.routerId}`,
    ' no bgp ebgp-requires-policy',
    ' no bgp default ipv4-unicast',
    ' no bgp network import-check',
    ' bgp bestpath as-path multipath-relax',
    ' bgp log-neighbor-changes',
  ];
  for (const n of plan.neighbors) {
    lines.push(` neighbor ${n.ip} remote-as ${String(n.remoteAs)}`, ` neighbor ${n.ip} passive`, ` neighbor ${n.ip} description ${n.node}`);
    if (n.localAs !== undefined) lines.push(` neighbor ${n.ip} local-as ${String(n.localAs)} no-prepend replace-as`);
    if (n.multihop) lines.push(` neighbor ${n.ip} ebgp-multihop 255`);
  }
  lines.push(' !', ' address-family ipv4 unicast');
  for (const n of plan.neighbors) lines.push(`  neighbor ${n.ip} activate`);
  lines.push('  maximum-paths 16', '  maximum-paths ibgp 16', ' exit-address-family', '!', '');
  return lines.join('\n');
}

/**
 * FRR's zebra configuration: the routes BGP learns go into the router's kernel with the outside
 * clients' address as their source, so a client there connects from 203.0.113.100 (as from a
 * host behind the router), not from the router's own address on the nodes' segment.
 */
export function renderZebra(logFile: string, clientIp: string): string {
  return ['hostname kwire-router', `log file ${logFile} informational`, '!', 'route-map kwire-client-source permit 10', ` set src ${clientIp}`, '!', 'ip protocol bgp route-map kwire-client-source', '!', ''].join('\n');
}

/** A BGP community as BIRD writes it. */
function communityStatement(c: string): string {
  const large = /^large:(\d+):(\d+):(\d+)$/.exec(c);
  if (large) return `bgp_large_community.add((${large[1] ?? '0'},${large[2] ?? '0'},${large[3] ?? '0'}));`;
  const [a, b] = c.split(':');
  return `bgp_community.add((${a ?? '0'},${b ?? '0'}));`;
}

function birdName(text: string): string {
  return `p_${text.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** A node's BIRD configuration: its LoadBalancer prefixes as static routes kept out of the kernel, one BGP protocol per session. */
export function renderBird(node: NodeState, sessions: readonly SpeakerSession[], logFile: string): string {
  const prefixes = [...new Set(sessions.flatMap((s) => s.routes.map((r) => r.prefix)))].sort();
  const out = [
    `log "${logFile}" { info, remote, warning, error, auth, fatal, bug };`,
    `router id ${node.ip};`,
    'protocol device { scan time 10; }',
    'protocol static lbs {',
    '  ipv4;',
    ...prefixes.map((p) => `  route ${p} blackhole;`),
    '}',
  ];
  for (const s of sessions) {
    const hold = durationSeconds(s.peer.holdTime) ?? 90;
    const keepalive = durationSeconds(s.peer.keepaliveTime) ?? Math.max(1, Math.floor(hold / 3));
    const filter: string[] = [];
    for (const r of s.routes) {
      const statements = [...r.communities.map(communityStatement), ...(r.localPref === undefined ? [] : [`bgp_local_pref = ${String(r.localPref)};`]), 'accept;'];
      filter.push(`      if net = ${r.prefix} then { ${statements.join(' ')} }`);
    }
    out.push(
      `protocol bgp ${birdName(s.peer.name)} {`,
      `  description "BGPPeer ${s.peer.namespace}/${s.peer.name}";`,
      `  local ${node.ip} as ${String(s.peer.myASN)};`,
      `  neighbor ${s.peer.peerAddress ?? ''} port ${String(s.peer.peerPort)} as ${String(peerAsn(s.peer))};`,
      ...(s.multihop ? ['  multihop;'] : []),
      `  hold time ${String(hold)};`,
      `  keepalive time ${String(keepalive)};`,
      '  connect delay time 1;',
      '  connect retry time 2;',
      '  error wait time 1, 10;',
      '  ipv4 {',
      '    import none;',
      '    export filter {',
      ...filter,
      '      reject;',
      '    };',
      '  };',
      '}',
    );
  }
  return `${out.join('\n')}\n`;
}
