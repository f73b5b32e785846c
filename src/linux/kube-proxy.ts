/**
 * kube-proxy, nftables mode: one `ip kube-proxy` table per node, shaped like upstream's (a verdict
 * map dispatching ClusterIPs, LB/external IPs and NodePorts, a chain per service port, `numgen
 * random` over endpoint chains that DNAT, mark + masquerade). Endpoint choice is the model's
 * `selectEndpoints`; this file only renders it. Two savings at 10,000 Services: the masquerade mark
 * for non-pod clients of ClusterIPs is one rule before the dispatch (upstream repeats it in every
 * service chain), and a port with one endpoint and no affinity dispatches straight to the endpoint
 * chain, shared by the Services that share that endpoint.
 */
import { selectEndpoints, type Candidate } from '../model/endpoints.js';
import type { EndpointSliceState, NetworkState, NodeState, PodState, ServicePortState, ServiceState } from '../model/types.js';
import { shortHash } from './names.js';

/** The table kube-proxy owns in each node namespace. */
export const KUBE_PROXY_TABLE = 'ip kube-proxy';

/** The masquerade mark (not a public API upstream either). */
export const MASQUERADE_MARK = '0x4000';

function proto(p: ServicePortState): string {
  return p.protocol.toLowerCase();
}

function portId(svc: ServiceState, port: ServicePortState): string {
  const id = `${svc.namespace}/${svc.name}/${proto(port)}/${port.name === '' ? `p${String(port.port)}` : port.name}`;
  return `${shortHash(id).toUpperCase()}-${id}`;
}

/** Services kube-proxy programs: those with a ClusterIP (not headless, not ExternalName). */
export function proxiedServices(state: NetworkState): ServiceState[] {
  return state.services.filter((s) => !s.headless && s.type !== 'ExternalName' && s.clusterIP !== '' && s.clusterIP !== 'None' && !s.clusterIP.includes(':'));
}

interface Builder {
  readonly chains: string[];
  readonly sets: string[];
  readonly serviceIps: string[];
  readonly nodePorts: string[];
  readonly noEndpointServices: string[];
  readonly noEndpointNodePorts: string[];
  readonly firewallIps: string[];
  readonly clusterIps: Set<string>;
  readonly endpointChains: Set<string>;
}

function chain(name: string, rules: readonly string[]): string {
  return `\tchain ${name} {\n${rules.map((r) => `\t\t${r}\n`).join('')}\t}`;
}

function endpointChain(b: Builder, c: Candidate, protocol: string, affinity?: { set: string }): string {
  const name = affinity ? `endpoint-${affinity.set.slice('affinity-'.length)}` : `endpoint-${shortHash(`${c.ip}/${protocol}/${String(c.port)}`).toUpperCase()}-${c.ip}/${protocol}/${String(c.port)}`;
  if (b.endpointChains.has(name)) return name;
  b.endpointChains.add(name);
  const rules = [`ip saddr ${c.ip} jump mark-for-masquerade`];
  if (affinity) rules.push(`update @${affinity.set} { ip saddr }`);
  rules.push(`meta l4proto ${protocol} dnat to ${c.ip}:${String(c.port)}`);
  b.chains.push(chain(name, rules));
  return name;
}

function dispatchRule(b: Builder, svc: ServiceState, port: ServicePortState, id: string, candidates: readonly Candidate[], tag: string): string[] {
  const protocol = proto(port);
  const affinity = svc.sessionAffinity === 'ClientIP';
  const targets = candidates.map((c) => {
    if (!affinity) return endpointChain(b, c, protocol);
    const set = `affinity-${tag}${id}__${c.ip}/${String(c.port)}`;
    b.sets.push(`\tset ${set} {\n\t\ttype ipv4_addr\n\t\tflags dynamic,timeout\n\t\ttimeout ${String(svc.sessionAffinityTimeoutSeconds)}s\n\t}`);
    return endpointChain(b, c, protocol, { set });
  });
  const rules: string[] = [];
  if (affinity) {
    candidates.forEach((c, i) => rules.push(`ip saddr @affinity-${tag}${id}__${c.ip}/${String(c.port)} goto ${targets[i] ?? ''}`));
  }
  if (targets.length === 1) rules.push(`goto ${targets[0] ?? ''}`);
  else rules.push(`numgen random mod ${String(targets.length)} vmap { ${targets.map((t, i) => `${String(i)} : goto ${t}`).join(', ')} }`);
  return rules;
}

function sameCandidates(a: readonly Candidate[], b: readonly Candidate[]): boolean {
  return a.length === b.length && a.every((c, i) => c.ip === b[i]?.ip && c.port === b[i]?.port);
}

/** The state narrowed to one Service's EndpointSlices, so `selectEndpoints` runs in O(its slices). */
function slicesIndex(state: NetworkState): (svc: ServiceState) => NetworkState {
  const bySvc = new Map<string, EndpointSliceState[]>();
  for (const slice of state.endpointSlices) {
    const key = `${slice.namespace}/${slice.service}`;
    const list = bySvc.get(key);
    if (list) list.push(slice);
    else bySvc.set(key, [slice]);
  }
  const podsByNs = new Map<string, PodState[]>();
  for (const pod of state.pods) {
    const list = podsByNs.get(pod.namespace);
    if (list) list.push(pod);
    else podsByNs.set(pod.namespace, [pod]);
  }
  return (svc) => ({ ...state, pods: podsByNs.get(svc.namespace) ?? [], endpointSlices: bySvc.get(`${svc.namespace}/${svc.name}`) ?? [] });
}

function renderServicePort(b: Builder, state: NetworkState, node: NodeState, svc: ServiceState, port: ServicePortState): void {
  const protocol = proto(port);
  const id = portId(svc, port);
  const key = `${protocol} . ${String(port.port)}`;
  const cluster = selectEndpoints(state, svc, port, { kind: 'cluster', fromNode: node.name }).candidates;
  b.clusterIps.add(svc.clusterIP);
  let serviceChain = `service-${id}`;
  if (cluster.length > 0) {
    const rules = dispatchRule(b, svc, port, id, cluster, '');
    const only = rules.length === 1 ? /^goto (\S+)$/.exec(rules[0] ?? '') : null;
    if (only?.[1] !== undefined) serviceChain = only[1];
    else b.chains.push(chain(serviceChain, rules));
    b.serviceIps.push(`${svc.clusterIP} . ${key} : goto ${serviceChain}`);
  } else {
    b.noEndpointServices.push(`${svc.clusterIP} . ${key} : goto reject-chain`);
  }
  const externalIps = [...svc.externalIPs, ...svc.loadBalancerIngress.map((i) => i.ip)].filter((ip) => !ip.includes(':'));
  const nodePort = port.nodePort !== undefined && svc.type !== 'ClusterIP' ? port.nodePort : undefined;
  if (externalIps.length === 0 && nodePort === undefined) return;
  const external = selectEndpoints(state, svc, port, { kind: 'external', node: node.name }).candidates;
  // kube-proxy's cluster policy chain: every ready endpoint, whatever the traffic policies. The
  // external chain goes there under externalTrafficPolicy Cluster, and short-circuits pod and
  // node-local traffic there under Local (rather than up and out to the load balancer).
  const all = selectEndpoints(state, svc, port, { kind: 'all' }).candidates;
  let allChain = serviceChain;
  if (all.length > 0 && !(cluster.length > 0 && sameCandidates(all, cluster))) {
    const rules = dispatchRule(b, svc, port, id, all, 'a-');
    const only = rules.length === 1 ? /^goto (\S+)$/.exec(rules[0] ?? '') : null;
    allChain = only?.[1] ?? `all-${id}`;
    if (only?.[1] === undefined) b.chains.push(chain(allChain, rules));
  }
  const local = svc.externalTrafficPolicy === 'Local';
  const externalChain = `external-${id}`;
  // No endpoint at all: rejected; under Local with none on this node, what is not short-circuited is dropped.
  const reachable = all.length > 0;
  if (reachable && !local) b.chains.push(chain(externalChain, ['jump mark-for-masquerade', `goto ${allChain}`]));
  if (reachable && local) {
    const rules = [`ip saddr ${state.cluster.podCIDR} goto ${allChain}`, 'fib saddr type local jump mark-for-masquerade', `fib saddr type local goto ${allChain}`];
    rules.push(...(external.length > 0 ? dispatchRule(b, svc, port, id, external, 'l-') : ['drop']));
    b.chains.push(chain(externalChain, rules));
  }
  for (const ip of externalIps) {
    if (reachable) b.serviceIps.push(`${ip} . ${key} : goto ${externalChain}`);
    else b.noEndpointServices.push(`${ip} . ${key} : goto reject-chain`);
    if (svc.loadBalancerSourceRanges.length > 0) {
      const fw = `firewall-${id}`;
      if (!b.chains.some((c) => c.startsWith(`\tchain ${fw} `))) {
        b.chains.push(chain(fw, [`ip saddr != { ${svc.loadBalancerSourceRanges.join(', ')} } drop`]));
      }
      b.firewallIps.push(`${ip} . ${key} : goto ${fw}`);
    }
  }
  if (nodePort !== undefined) {
    const npKey = `${protocol} . ${String(nodePort)}`;
    if (reachable) b.nodePorts.push(`${npKey} : goto ${externalChain}`);
    else b.noEndpointNodePorts.push(`${npKey} : goto reject-chain`);
  }
}

function map(name: string, type: string, elements: readonly string[]): string {
  const body = elements.length > 0 ? `\t\telements = {\n${elements.map((e) => `\t\t\t${e},\n`).join('')}\t\t}\n` : '';
  return `\tmap ${name} {\n\t\ttype ${type} : verdict\n${body}\t}`;
}

function set(name: string, type: string, elements: readonly string[], flags?: string): string {
  const f = flags ? `\t\tflags ${flags}\n` : '';
  const body = elements.length > 0 ? `\t\telements = { ${elements.join(', ')} }\n` : '';
  return `\tset ${name} {\n\t\ttype ${type}\n${f}${body}\t}`;
}

/** The `ip kube-proxy` table of one node, as an nft script that replaces it atomically. */
export function renderKubeProxy(state: NetworkState, node: NodeState): string {
  const b: Builder = { chains: [], sets: [], serviceIps: [], nodePorts: [], noEndpointServices: [], noEndpointNodePorts: [], firewallIps: [], clusterIps: new Set(), endpointChains: new Set() };
  const narrow = slicesIndex(state);
  for (const svc of proxiedServices(state)) {
    const view = narrow(svc);
    for (const port of svc.ports) renderServicePort(b, view, node, svc, port);
  }
  const dispatch = 'ip daddr . meta l4proto . th dport';
  const base = [
    map('service-ips', 'ipv4_addr . inet_proto . inet_service', b.serviceIps),
    map('service-nodeports', 'inet_proto . inet_service', b.nodePorts),
    map('no-endpoint-services', 'ipv4_addr . inet_proto . inet_service', b.noEndpointServices),
    map('no-endpoint-nodeports', 'inet_proto . inet_service', b.noEndpointNodePorts),
    map('firewall-ips', 'ipv4_addr . inet_proto . inet_service', b.firewallIps),
    set('cluster-ips', 'ipv4_addr', [...b.clusterIps].sort()),
    set('nodeport-ips', 'ipv4_addr', [node.ip]),
    ...b.sets,
    chain('filter-prerouting-pre-dnat', ['type filter hook prerouting priority -110; policy accept;', 'ct state new jump firewall-check']),
    chain('filter-output-pre-dnat', ['type filter hook output priority -110; policy accept;', 'ct state new jump firewall-check']),
    chain('filter-forward', ['type filter hook forward priority 0; policy accept;', 'ct state new jump service-endpoints-check', 'ct state new jump cluster-ips-check']),
    chain('filter-input', ['type filter hook input priority 0; policy accept;', 'ct state new jump nodeport-endpoints-check', 'ct state new jump service-endpoints-check']),
    chain('filter-output', ['type filter hook output priority 0; policy accept;', 'ct state new jump service-endpoints-check', 'ct state new jump cluster-ips-check']),
    chain('firewall-check', [`${dispatch} vmap @firewall-ips`]),
    chain('service-endpoints-check', [`${dispatch} vmap @no-endpoint-services`]),
    chain('nodeport-endpoints-check', ['ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports']),
    chain('cluster-ips-check', ['ip daddr @cluster-ips reject', `ip daddr ${state.cluster.serviceCIDR} drop`]),
    chain('mark-for-masquerade', [`mark set mark or ${MASQUERADE_MARK}`]),
    chain('masquerading', [`mark and ${MASQUERADE_MARK} == 0 return`, `mark set mark xor ${MASQUERADE_MARK}`, 'masquerade fully-random']),
    chain('nat-prerouting', ['type nat hook prerouting priority -100; policy accept;', 'jump services']),
    chain('nat-output', ['type nat hook output priority -100; policy accept;', 'jump services']),
    chain('nat-postrouting', ['type nat hook postrouting priority 100; policy accept;', 'jump masquerading']),
    chain('reject-chain', ['reject']),
    chain('services', [`ip daddr @cluster-ips ip saddr != ${state.cluster.podCIDR} jump mark-for-masquerade`, `${dispatch} vmap @service-ips`, 'ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports']),
    ...b.chains,
  ];
  return `table ${KUBE_PROXY_TABLE}\ndelete table ${KUBE_PROXY_TABLE}\ntable ${KUBE_PROXY_TABLE} {\n${base.join('\n')}\n}\n`;
}
