/**
 * The namespaces, links, addresses and routes of a cluster, planned from its NetworkState as
 * `ip -batch` lines per network namespace (pure: nothing here touches the kernel).
 */
import { EXTERNAL_CLIENT_IP } from '../model/dataplane.js';
import { cidrContains, formatIp, parseCidr, parseIp } from '../model/ip.js';
import type { NetworkState, NodeState, PodState } from '../model/types.js';
import { clusterNames, nodeUplinkName, podVethName, type ClusterNames } from './names.js';

/** The address the `external` namespace takes on the nodes' segment (the nodes' default gateway). */
export function externalFabricIp(nodeCIDR: string): string {
  const cidr = parseCidr(nodeCIDR);
  if (!cidr) throw new Error(`nodeCIDR "${nodeCIDR}" is not a CIDR`);
  return formatIp(cidr.family, cidr.range[1] - 1n);
}

/** The address external clients use (DESIGN.md: 203.0.113.0/24 is the outside world). */
export const EXTERNAL_CLIENT = { ip: EXTERNAL_CLIENT_IP, prefix: 24 } as const;

/** The link-local gateway routed pods point their default route at (Calico style). */
export const POD_GATEWAY = '169.254.1.1';

/** VXLAN overlay parameters (Flannel's defaults). */
export const VXLAN = { device: 'flannel.1', vni: 1, port: 8472, mtu: 1450 } as const;

/** A pod the plane wires: its namespace and its node-side veth. */
export interface PodPlan {
  readonly key: string;
  readonly pod: PodState;
  readonly netns: string;
  readonly veth: string;
  readonly nodeNetns: string;
}

/** Everything `up` creates, as lines per namespace. */
export interface TopologyPlan {
  readonly names: ClusterNames;
  readonly fabricLines: readonly string[];
  readonly externalLines: readonly string[];
  readonly nodes: readonly { readonly node: NodeState; readonly netns: string; readonly lines: readonly string[]; readonly fdb: readonly string[] }[];
  readonly pods: readonly PodPlan[];
}

/** Pods that get a network namespace: every pod with an IP that is not on the host network. */
export function wiredPods(state: NetworkState): PodState[] {
  return state.pods.filter((p) => p.ip !== '' && !p.hostNetwork && state.nodes.some((n) => n.name === p.node));
}

/** `ns/name` of a pod. */
export function podKey(pod: { readonly namespace: string; readonly name: string }): string {
  return `${pod.namespace}/${pod.name}`;
}

function prefixOf(cidr: string): number {
  return Number(cidr.split('/')[1] ?? '32');
}

function firstHost(cidr: string, offset: bigint): string {
  const parsed = parseCidr(cidr);
  if (!parsed) throw new Error(`"${cidr}" is not a CIDR`);
  return formatIp(parsed.family, parsed.range[0] + offset);
}

/** A deterministic locally administered MAC for a node's VTEP. */
export function vtepMac(nodeIp: string): string {
  const octets = nodeIp.split('.').map((o) => Number(o).toString(16).padStart(2, '0'));
  return ['0a', '58', ...octets].join(':');
}

function bridged(state: NetworkState): boolean {
  return state.cluster.cni.mode !== 'routed';
}

/** The node-side lines that wire one pod. */
export function podNodeLines(state: NetworkState, plan: PodPlan): string[] {
  const mtu = state.cluster.cni.mode === 'vxlan' ? ` mtu ${String(VXLAN.mtu)}` : '';
  const lines = [`link add ${plan.veth}${mtu} type veth peer name eth0 netns ${plan.netns}`];
  if (bridged(state)) {
    lines.push(`link set ${plan.veth} master cni0`, `link set ${plan.veth} up`, `link set ${plan.veth} type bridge_slave hairpin on`);
  } else {
    lines.push(`link set ${plan.veth} up`, `route replace ${plan.pod.ip}/32 dev ${plan.veth} scope link`);
  }
  return lines;
}

/** The lines run inside a pod's namespace. */
export function podLines(state: NetworkState, plan: PodPlan, node: NodeState): string[] {
  const lines = ['link set lo up'];
  if (bridged(state)) {
    const mtu = state.cluster.cni.mode === 'vxlan' ? ` mtu ${String(VXLAN.mtu)}` : '';
    lines.push(
      `addr add ${plan.pod.ip}/${String(prefixOf(node.podCIDR))} dev eth0`,
      `link set eth0${mtu} up`,
      `route add default via ${firstHost(node.podCIDR, 1n)} dev eth0`,
    );
  } else {
    lines.push(
      `addr add ${plan.pod.ip}/32 dev eth0`,
      'link set eth0 up',
      `route add ${POD_GATEWAY} dev eth0 scope link`,
      `route add default via ${POD_GATEWAY} dev eth0`,
    );
  }
  return lines;
}

/** Routes (and overlay entries) from one node towards the others' pods. */
function peerLines(state: NetworkState, node: NodeState, pods: readonly PodState[]): { lines: string[]; fdb: string[] } {
  const lines: string[] = [];
  const fdb: string[] = [];
  const vxlan = state.cluster.cni.mode === 'vxlan';
  for (const peer of state.nodes) {
    if (peer.name === node.name) continue;
    if (vxlan) {
      const vtep = firstHost(peer.podCIDR, 0n);
      const mac = vtepMac(peer.ip);
      lines.push(
        `neigh add ${vtep} lladdr ${mac} dev ${VXLAN.device} nud permanent`,
        `route add ${peer.podCIDR} via ${vtep} dev ${VXLAN.device} onlink`,
      );
      fdb.push(`fdb append ${mac} dev ${VXLAN.device} dst ${peer.ip}`);
    } else {
      lines.push(`route replace ${peer.podCIDR} via ${peer.ip} dev eth0`);
    }
    const range = parseCidr(peer.podCIDR);
    for (const pod of pods) {
      const address = parseIp(pod.ip);
      if (pod.node === peer.name && !(range && address && cidrContains(range, address))) {
        lines.push(`route replace ${pod.ip}/32 via ${peer.ip} dev eth0`);
      }
    }
  }
  return { lines, fdb };
}

/**
 * A node's routes through its uplink (the default route, the other nodes' pods): the kernel
 * drops them when the link goes down, so starting a stopped node puts them back.
 */
export function uplinkRouteLines(state: NetworkState, node: NodeState): string[] {
  const routed = peerLines(state, node, wiredPods(state)).lines.filter((l) => l.endsWith(' dev eth0'));
  return [`route replace default via ${externalFabricIp(state.cluster.nodeCIDR)} dev eth0`, ...routed];
}

/** Plans a pod's namespace and veth. */
export function planPod(names: ClusterNames, pod: PodState): PodPlan {
  return {
    key: podKey(pod),
    pod,
    netns: names.pod(pod.namespace, pod.name),
    veth: podVethName(pod.namespace, pod.name),
    nodeNetns: names.node(pod.node),
  };
}

/** Plans the whole topology of a state. */
export function planTopology(state: NetworkState): TopologyPlan {
  const names = clusterNames(state.cluster.name);
  const pods = wiredPods(state);
  const podPlans = pods.map((p) => planPod(names, p));
  const nodeCIDR = state.cluster.nodeCIDR;
  const gateway = externalFabricIp(nodeCIDR);
  const fabricLines = ['link set lo up', 'link add br0 type bridge', 'link set br0 up'];
  for (const node of state.nodes) {
    const uplink = nodeUplinkName(node.name);
    fabricLines.push(
      `link add ${uplink} type veth peer name eth0 netns ${names.node(node.name)}`,
      `link set ${uplink} master br0`,
      `link set ${uplink} up`,
    );
  }
  fabricLines.push(`link add ext0 type veth peer name eth0 netns ${names.external}`, 'link set ext0 master br0', 'link set ext0 up');
  const externalLines = [
    'link set lo up',
    `addr add ${gateway}/${String(prefixOf(nodeCIDR))} dev eth0`,
    `addr add ${EXTERNAL_CLIENT.ip}/${String(EXTERNAL_CLIENT.prefix)} dev eth0`,
    'link set eth0 up',
    `route replace ${nodeCIDR} dev eth0 src ${EXTERNAL_CLIENT.ip}`,
  ];
  const nodes = state.nodes.map((node) => {
    const lines = ['link set lo up', `addr add ${node.ip}/${String(prefixOf(nodeCIDR))} dev eth0`, 'link set eth0 up', `route add default via ${gateway} dev eth0`];
    if (bridged(state)) {
      lines.push('link add cni0 type bridge', `addr add ${firstHost(node.podCIDR, 1n)}/${String(prefixOf(node.podCIDR))} dev cni0`, 'link set cni0 up');
    }
    if (state.cluster.cni.mode === 'vxlan') {
      lines.push(
        `link add ${VXLAN.device} type vxlan id ${String(VXLAN.vni)} dstport ${String(VXLAN.port)} local ${node.ip} dev eth0 nolearning`,
        `link set ${VXLAN.device} address ${vtepMac(node.ip)} mtu ${String(VXLAN.mtu)} up`,
        `addr add ${firstHost(node.podCIDR, 0n)}/32 dev ${VXLAN.device}`,
      );
    }
    for (const plan of podPlans) if (plan.pod.node === node.name) lines.push(...podNodeLines(state, plan));
    const peers = peerLines(state, node, pods);
    lines.push(...peers.lines);
    return { node, netns: names.node(node.name), lines, fdb: peers.fdb };
  });
  return { names, fabricLines, externalLines, nodes, pods: podPlans };
}

/** Sysctls of a node namespace, set before its pods are wired (new veths inherit `default`). */
export function nodeSysctls(state: NetworkState): Record<string, number> {
  return {
    'net.ipv4.ip_forward': 1,
    'net.ipv4.conf.all.rp_filter': 0,
    'net.ipv4.conf.default.rp_filter': 0,
    'net.ipv4.conf.default.proxy_arp': state.cluster.cni.mode === 'routed' ? 1 : 0,
  };
}

/** Per-veth sysctls of routed pods: answer proxy ARP at once (else replies wait up to 0.8 s). */
export function podVethSysctls(state: NetworkState, plans: readonly PodPlan[]): Record<string, number> {
  if (state.cluster.cni.mode !== 'routed') return {};
  return Object.fromEntries(plans.map((p) => [`net.ipv4.neigh.${p.veth}.proxy_delay`, 0]));
}
