/**
 * `kwire trace`: one connection or request through the simulated cluster, hop by hop — DNS (the
 * query itself judged by NetworkPolicy), MetalLB, kube-proxy, NetworkPolicy at both ends, the
 * ingress controller's routing — with the object and rule that decided each hop. Everything it
 * reads is the state's compiled model; the random draws of the data path (kube-proxy's endpoint,
 * a router's ECMP next hop) are explicit, so `traceAll` can list every outcome a cluster can give.
 */
import type { Protocol } from '../../api/types.js';
import { chooseEndpoint, nodePortService, selectEndpoints, servicePort, type Candidate, type Entry } from '../../model/endpoints.js';
import { entryNodes, hostPortPod, masqueradeAddress, seenSource } from '../../model/entry.js';
import { ipSetContains, isIp, parseIp } from '../../model/ip.js';
import { EXTERNAL_CLIENT_IP, workloadPod, type Connection, type ConnectionSource, type ConnectionTarget, type PodTarget, type Trace, type TraceDestination } from '../../model/dataplane.js';
import type { NetworkState, NodeState, PodState, ServiceState } from '../../model/types.js';
import { contextOf, usage, Walk, type Ctx, type Draw } from './context.js';
import { throughController, type HttpRequest } from './controller.js';
import { clusterDns, dnsQuery, outsideDns } from './dns.js';
import { judge } from './policy.js';

export { EXTERNAL_CLIENT_IP } from '../../model/dataplane.js';
export type { Connection, ConnectionSource, ConnectionTarget, Hop, Trace, TraceDestination, TraceRef, TraceVerdict } from '../../model/dataplane.js';
export { renderTraceText } from './text.js';


/** At most this many walks when listing every outcome of a connection. */
const MAX_WALKS = 256;

/** A tracer over one state: index once, trace many. */
export interface Tracer {
  /** The connection as kwire shows it: every random draw made from a hash of the connection. */
  readonly trace: (connection: Connection) => Trace;
  /**
   * Every outcome the connection can have in a running cluster: one trace per combination of the
   * data path's random draws (at most 256), the default one first.
   */
  readonly traceAll: (connection: Connection) => Trace[];
}

/** The source of a walk. */
type Source = { kind: 'pod'; pod: PodState } | { kind: 'external'; ip: string } | { kind: 'node'; node: NodeState };

/** Builds a tracer for a state. */
export function createTracer(state: NetworkState): Tracer {
  const ctx = contextOf(state);
  const traceAll = (connection: Connection): Trace[] => enumerateDraws((draw) => {
    const walk = new Walk(draw);
    return runTrace(ctx, walk, connection);
  });
  return {
    trace: (connection) => {
      const walk = new Walk((_n, preferred) => preferred);
      const t = runTrace(ctx, walk, connection);
      if (!walk.random) return t;
      const possible = [...new Set(traceAll(connection).flatMap((x) => (x.verdict === 'delivered' && x.destination?.pod ? [`${x.destination.pod.namespace}/${x.destination.pod.name}`] : [])))].sort();
      return possible.length > 0 && t.destination ? { ...t, destination: { ...t.destination, possible } } : t;
    },
    traceAll,
  };
}

/**
 * Runs `walk` once per combination of its draws (depth first; the preferred draw first), each
 * draw point's choices enumerated after the points before it are fixed.
 */
function enumerateDraws(walk: (draw: Draw) => Trace): Trace[] {
  const out: Trace[] = [];
  const pending: number[][] = [[]];
  while (pending.length > 0 && out.length < MAX_WALKS) {
    const prefix = pending.shift() ?? [];
    const options: number[] = [];
    const taken: number[] = [];
    const trace = walk((n, preferred) => {
      const i = taken.length;
      const pick = i < prefix.length ? (prefix[i] ?? preferred) : preferred;
      options.push(n);
      taken.push(pick);
      return pick;
    });
    out.push(trace);
    for (let i = prefix.length; i < options.length; i++) {
      for (let alt = 0; alt < (options[i] ?? 0); alt++) if (alt !== taken[i]) pending.push([...taken.slice(0, i), alt]);
    }
  }
  return out;
}

function findPod(ctx: Ctx, ns: string, name: string): PodState {
  const pod = ctx.state.pods.find((p) => p.namespace === ns && p.name === name);
  if (!pod) {
    const near = ctx.state.pods.filter((p) => p.namespace === ns && p.name.startsWith(name)).map((p) => p.name);
    throw usage(`pod "${ns}/${name}" not found`, near.length ? `did you mean ${near.slice(0, 3).join(', ')}?` : `list them with: kwire get pods -n ${ns}`);
  }
  return pod;
}

function resolveSource(ctx: Ctx, src: ConnectionSource): Source {
  switch (src.kind) {
    case 'external':
      return { kind: 'external', ip: src.ip ?? EXTERNAL_CLIENT_IP };
    case 'ip': {
      const pod = ctx.podsByIp.get(src.ip);
      const node = ctx.nodeByIp.get(src.ip);
      return pod ? { kind: 'pod', pod } : node ? { kind: 'node', node } : { kind: 'external', ip: src.ip };
    }
    case 'node': {
      const node = ctx.nodeByName.get(src.name);
      if (!node) throw usage(`node "${src.name}" not found`, `nodes: ${ctx.state.nodes.map((n) => n.name).join(', ')}`);
      return { kind: 'node', node };
    }
    case 'pod':
      return { kind: 'pod', pod: findPod(ctx, src.namespace, src.name) };
    case 'workload': {
      const pod = workloadPod(ctx.state.pods, src);
      if (!pod) throw usage(`${src.workloadKind} "${src.namespace}/${src.name}" has no pods`, 'check the name and namespace with: kwire get pods -A');
      return { kind: 'pod', pod };
    }
  }
}

function clientIpOf(src: Source): string {
  return src.kind === 'pod' ? src.pod.ip : src.kind === 'node' ? src.node.ip : src.ip;
}

function nodeOfSource(src: Source): string | undefined {
  return src.kind === 'pod' ? src.pod.node : src.kind === 'node' ? src.node.name : undefined;
}

function podTarget(p: PodState): PodTarget {
  return { namespace: p.namespace, name: p.name, ip: p.ip, node: p.node };
}

/** A node that is stopped (not ready): its links are down. */
function stopped(ctx: Ctx, walk: Walk, nodeName: string | undefined, what: string): boolean {
  const node = nodeName === undefined ? undefined : ctx.nodeByName.get(nodeName);
  if (!node || node.ready) return false;
  walk.add({ component: 'node', node: node.name, action: `node ${node.name} is stopped: ${what}`, verdict: 'no-route', refs: [{ kind: 'Node', name: node.name }], detail: 'a node that is not ready has its links down; its pods do not answer and its speaker announces nothing' });
  return true;
}

/** Picks the endpoint of a Service port and adds the kube-proxy hop. */
function proxyHop(ctx: Ctx, walk: Walk, svc: ServiceState, port: number | string, protocol: Protocol, entry: Entry, clientIP: string, connKey: string, via: string): { ep?: Candidate; svcPort?: number } {
  const sp = servicePort(svc, port, protocol);
  const ref = { kind: 'Service', namespace: svc.namespace, name: svc.name };
  const node = entry.kind === 'external' ? entry.node : entry.fromNode;
  if (!sp) {
    walk.add({ component: 'kube-proxy', node, action: `no port ${String(port)}/${protocol} on ${svc.namespace}/${svc.name}`, verdict: 'no-route', refs: [{ ...ref, field: 'spec.ports' }], detail: `the Service has ports ${svc.ports.map((p) => `${p.port}/${p.protocol}`).join(', ')}; kube-proxy rejects the rest` });
    return {};
  }
  const sel = selectEndpoints(ctx.state, svc, sp, entry);
  const { chosen: preferred, why } = chooseEndpoint(svc, sel.candidates, clientIP, connKey);
  const chosen = sel.candidates[walk.draw(sel.candidates.length, preferred ? sel.candidates.indexOf(preferred) : 0)];
  const idx = svc.ports.indexOf(sp);
  if (!chosen) {
    walk.add({ component: 'kube-proxy', node, action: `${via} ${svc.namespace}/${svc.name}:${sp.port}: ${entry.kind === 'external' && svc.externalTrafficPolicy === 'Local' && sel.ready > 0 ? 'drop' : 'reject'}`, verdict: 'no-route', refs: [ref], detail: sel.detail });
    return { svcPort: sp.port };
  }
  const target = chosen.pod ? `${chosen.pod.namespace}/${chosen.pod.name}` : chosen.ip;
  walk.add({ component: 'kube-proxy', node, action: `${via} ${svc.namespace}/${svc.name}:${sp.port} → DNAT ${chosen.ip}:${chosen.port} (${target})`, verdict: 'pass', refs: [{ ...ref, field: `spec.ports[${idx}]` }], detail: `${sel.detail}; ${chosen === preferred ? why : `one of ${sel.candidates.length} at random (another draw)`}` });
  return { ep: chosen, svcPort: sp.port };
}

/** kube-proxy's firewall check of `loadBalancerSourceRanges` (for every new connection to the LB IP, pods' too). */
function outsideSourceRanges(ctx: Ctx, walk: Walk, lb: ServiceState, clientIP: string, node: string | undefined): boolean {
  const ranges = ctx.sourceRanges.get(lb);
  if (!ranges) return false;
  const client = parseIp(clientIP);
  if (client !== undefined && ipSetContains(ranges, client)) return false;
  walk.add({ component: 'kube-proxy', node, action: `drop: ${clientIP} is outside loadBalancerSourceRanges`, verdict: 'deny', refs: [{ kind: 'Service', namespace: lb.namespace, name: lb.name, field: 'spec.loadBalancerSourceRanges' }], detail: `allowed: ${lb.loadBalancerSourceRanges.join(', ')}` });
  return true;
}

/** The Service of an LB/external IP that serves this port (servicelb shares node IPs between Services). */
function lbService(ctx: Ctx, ip: string, port: number, protocol: Protocol): ServiceState | undefined {
  const list = ctx.lbByIp.get(ip);
  return list?.find((s) => servicePort(s, port, protocol) !== undefined) ?? (ctx.nodeByIp.has(ip) ? undefined : list?.[0]);
}

/** Where a connection to an address first lands, and what it is. */
interface Landing {
  readonly ep?: Candidate;
  readonly backend?: TraceDestination['backend'];
  /** What NetworkPolicy sees as the source at the destination. */
  readonly seen: PodState | string;
  /** The source address the destination's socket sees, when masquerade makes it differ from `seen`. */
  readonly client?: string;
  /**
   * What the destination's ingress rules see, when it differs from `seen` (the egress source): a
   * connection masqueraded on the source's node reaches a pod on another node from that node's address.
   */
  readonly ingressFrom?: string;
  readonly sourceNote?: string;
  /** The node the connection entered the cluster by, when it came from outside or from another node. */
  readonly entered?: string;
  readonly end?: Trace;
}

/** A connection from inside the cluster (a pod or a node) to an address: kube-proxy on the source's node. */
function landInside(ctx: Ctx, walk: Walk, src: Source & { kind: 'pod' | 'node' }, ip: string, port: number, protocol: Protocol): Landing {
  const clientIP = clientIpOf(src);
  const fromNode = nodeOfSource(src);
  const connKey = `${clientIP}>${ip}:${port}/${protocol}`;
  const seen = src.kind === 'pod' ? src.pod : clientIP;
  const svc = ctx.svcByIp.get(ip);
  const lb = svc ? undefined : lbService(ctx, ip, port, protocol);
  const node = ctx.nodeByIp.get(ip);
  // The source's own node address: kube-proxy's NodePort rules match it (`fib daddr type local`).
  const nodePort = node && !svc && !lb ? nodePortService(ctx.state, port, protocol) : undefined;
  if (svc || lb || nodePort) {
    let target: ServiceState;
    let via: string;
    let svcPort = port;
    // A ClusterIP follows internalTrafficPolicy; kube-proxy short-circuits a LoadBalancer address
    // or its own NodePort to every ready endpoint (its cluster policy chain), whatever the policies.
    let entry: Entry = { kind: 'all', fromNode };
    const masqueraded = src.kind === 'node' || (svc === undefined && (lb ?? nodePort?.service)?.externalTrafficPolicy === 'Cluster');
    if (svc) {
      target = svc;
      via = 'ClusterIP';
      entry = { kind: 'cluster', fromNode };
    } else if (lb) {
      if (outsideSourceRanges(ctx, walk, lb, clientIP, fromNode)) return { seen, end: walk.end('denied', { destination: { ip, port } }) };
      target = lb;
      via = `LoadBalancer IP from inside the cluster (kube-proxy short-circuits it to every endpoint${masqueraded ? ', masquerading' : ''})`;
    } else if (nodePort) {
      target = nodePort.service;
      svcPort = nodePort.port.port;
      via = `NodePort ${port} on ${src.kind === 'node' ? 'the node itself' : 'the node of the pod'} (kube-proxy short-circuits it to every endpoint${masqueraded ? ', masquerading' : ''})`;
    } else {
      return { seen, end: walk.end('no-route', { destination: { ip, port } }) };
    }
    const r = proxyHop(ctx, walk, target, svcPort, protocol, entry, clientIP, connKey, via);
    const backend = { service: { namespace: target.namespace, name: target.name, port: r.svcPort } };
    if (!r.ep) return { seen, backend, end: walk.end('no-route', { destination: { backend, ip, port } }) };
    if (src.kind === 'node') {
      const masq = masqueradeAddress(ctx.state, src.node, r.ep.node);
      return { ep: r.ep, backend, seen: masq, ...(masq === clientIP ? {} : { client: masq }), sourceNote: `source masqueraded to ${masq}` };
    }
    const srcNode = ctx.nodeByName.get(src.pod.node);
    const podNode = srcNode ? masqueradeAddress(ctx.state, srcNode, r.ep.node) : undefined;
    // Through kube-proxy's external chain (a LoadBalancer address, a NodePort) under
    // externalTrafficPolicy Cluster, pod traffic is masqueraded too (to the pod's node): a pod on
    // another node sees, and its ingress rules judge, that node's address; on the same node the
    // forward path judged it before the SNAT.
    if (masqueraded && podNode) {
      const remote = r.ep.node !== src.pod.node;
      return { ep: r.ep, backend, seen, client: podNode, ...(remote ? { ingressFrom: podNode, sourceNote: `source masqueraded to node IP ${podNode}` } : {}) };
    }
    // Hairpin: a pod sent to its own Service's address and got itself; kube-proxy masquerades the
    // connection (to its node's address) so the reply comes back through the node. Policies judged
    // it in the forward path, before the masquerade, as the pod itself.
    const hairpin = r.ep.pod === src.pod ? podNode : undefined;
    return { ep: r.ep, backend, seen, ...(hairpin ? { client: hairpin } : {}) };
  }
  const pod = ctx.podsByIp.get(ip);
  if (pod) return { ep: { ip, port, node: pod.node, pod }, seen };
  const bound = node ? hostPortPod(ctx.state, node, port, protocol) : undefined;
  if (bound) {
    walk.add({ component: 'node', node: node?.name, action: `host port ${ip}:${port} → DNAT ${bound.pod.ip}:${bound.containerPort} (${bound.pod.namespace}/${bound.pod.name})`, verdict: 'pass', refs: [{ kind: 'Pod', namespace: bound.pod.namespace, name: bound.pod.name, field: 'spec.containers[].ports[].hostPort' }], detail: "the CNI's portmap binds the pod's hostPort on its node's address" });
    return { ep: { ip: bound.pod.ip, port: bound.containerPort, node: bound.pod.node, pod: bound.pod }, seen };
  }
  if (node) return { ep: { ip, port, node: node.name }, seen };
  if (src.kind === 'pod') {
    const v = judge(ctx, walk, src.pod, ip, protocol, port);
    if (!v.allowed) return { seen, end: walk.end('denied', { destination: { ip, port }, ...(v.hint ? { hint: v.hint } : {}) }) };
  }
  walk.add({ component: 'external', action: `leaves the cluster to ${ip}:${port}`, verdict: 'pass', detail: src.kind === 'pod' ? "routed out through the node; the CNI masquerades the pod's address to the node's (Calico natOutgoing, flannel ipMasq)" : 'routed out through the node' });
  return { seen, end: walk.end('delivered', { destination: { ip, port } }) };
}

/** A connection from outside the cluster (or from a node to another node) entering through a node. */
function landOutside(ctx: Ctx, walk: Walk, src: Source, ip: string, port: number, protocol: Protocol): Landing {
  const clientIP = clientIpOf(src);
  const connKey = `${clientIP}>${ip}:${port}/${protocol}`;
  const lb = lbService(ctx, ip, port, protocol);
  const node = ctx.nodeByIp.get(ip);
  const seen = clientIP;
  if (ctx.svcByIp.has(ip)) {
    const svc = ctx.svcByIp.get(ip);
    walk.add({ component: 'external', action: `${ip} is a ClusterIP: nothing outside the cluster routes it`, verdict: 'no-route', refs: svc ? [{ kind: 'Service', namespace: svc.namespace, name: svc.name, field: 'spec.clusterIP' }] : [], detail: 'ClusterIPs are virtual addresses that only kube-proxy on the nodes knows; from outside use a NodePort, a LoadBalancer address or an Ingress' });
    return { seen, end: walk.end('no-route', { destination: { ip, port } }) };
  }
  if (!lb && !node) {
    const pod = ctx.podsByIp.get(ip);
    walk.add(pod
      ? { component: 'external', action: `${ip} is the address of pod ${pod.namespace}/${pod.name}: nothing outside the cluster routes it`, verdict: 'no-route', refs: [{ kind: 'Pod', namespace: pod.namespace, name: pod.name }], detail: `pod addresses (${ctx.state.cluster.podCIDR}) are routed only between the cluster's nodes; expose the pod with a Service of type NodePort or LoadBalancer` }
      : { component: 'external', action: `${ip} is not an address of this cluster`, verdict: 'no-route', detail: 'no LoadBalancer, external IP or node has it' });
    return { seen, end: walk.end('no-route', { destination: { ip, port } }) };
  }
  let entryNode = node?.name;
  let target = lb;
  if (lb) {
    const entry = entryNodes(ctx.state, lb, ip);
    if (lb.loadBalancerBy === 'metallb') {
      const ann = ctx.state.metallb?.announcements.byService.get(`${lb.namespace}/${lb.name}`)?.find((a) => a.ip === ip);
      if (!ann || entry.nodes.length === 0) {
        walk.add({ component: 'metallb', action: `nobody announces ${ip}`, verdict: 'no-route', refs: [{ kind: 'Service', namespace: lb.namespace, name: lb.name }], detail: 'MetalLB assigned the address but no node answers ARP or advertises a route for it (see kwire lint)' });
        return { seen, end: walk.end('no-route', { destination: { ip, port } }) };
      }
      const poolRef = { kind: 'IPAddressPool', namespace: ctx.state.metallb?.config.namespace, name: ann.pool };
      entryNode = entry.nodes[walk.draw(entry.nodes.length, 0)];
      if (entry.mode === 'l2') {
        walk.add({ component: 'metallb', node: entryNode, action: `L2: ${entryNode ?? ''} answers ARP for ${ip}`, verdict: 'pass', refs: [poolRef], detail: `leader elected among ${ann.l2?.candidates.join(', ') ?? ''} by sha256(node#ip); the client sends to its MAC` });
      } else {
        const nodes = entry.nodes;
        walk.add({ component: 'metallb', node: entryNode, action: `BGP: the router sends ${ip} to ${entryNode ?? ''}${nodes.length > 1 ? ` (ECMP over ${nodes.join(', ')})` : ''}`, verdict: 'pass', refs: [poolRef], detail: `advertised as ${ann.bgpPrefixes.join(', ')}${nodes.length > 1 ? '; the router hashes each connection onto one next hop' : ''}` });
      }
    } else {
      entryNode = entry.nodes[0];
      walk.add({ component: 'node', node: entryNode, action: `${lb.loadBalancerBy ?? 'load balancer'} delivers ${ip} to ${entryNode ?? ''}`, verdict: 'pass', refs: [{ kind: 'Service', namespace: lb.namespace, name: lb.name }], detail: lb.loadBalancerBy === 'servicelb' ? "k3s's ServiceLB binds the Service's ports on every node's address" : 'the provider forwards to a node' });
    }
    if (stopped(ctx, walk, entryNode, `nothing answers on ${ip}`)) return { seen, end: walk.end('no-route', { destination: { ip, port } }) };
    if (outsideSourceRanges(ctx, walk, lb, clientIP, entryNode)) return { seen, end: walk.end('denied', { destination: { ip, port } }) };
  } else {
    if (stopped(ctx, walk, entryNode, `nothing answers on ${ip}`)) return { seen, end: walk.end('no-route', { destination: { ip, port } }) };
    target = nodePortService(ctx.state, port, protocol)?.service;
    const bound = !target && node ? hostPortPod(ctx.state, node, port, protocol) : undefined;
    if (bound) {
      walk.add({ component: 'node', node: node?.name, action: `host port ${ip}:${port} → DNAT ${bound.pod.ip}:${bound.containerPort} (${bound.pod.namespace}/${bound.pod.name})`, verdict: 'pass', refs: [{ kind: 'Pod', namespace: bound.pod.namespace, name: bound.pod.name, field: 'spec.containers[].ports[].hostPort' }], detail: "the CNI's portmap binds the pod's hostPort on its node's address; the client's address is kept" });
      return { ep: { ip: bound.pod.ip, port: bound.containerPort, node: bound.pod.node, pod: bound.pod }, seen: clientIP, entered: entryNode };
    }
    // No NodePort, no host port: the node's own processes, if one listens (see `deliver`).
    if (!target && node) return { ep: { ip, port, node: node.name }, seen, entered: entryNode };
  }
  if (!target || !entryNode) return { seen, end: walk.end('no-route', { destination: { ip, port } }) };
  const sp = lb ? servicePort(target, port, protocol) : target.ports.find((p) => p.nodePort === port && p.protocol === protocol);
  const r = proxyHop(ctx, walk, target, sp?.port ?? port, protocol, { kind: 'external', node: entryNode }, clientIP, connKey, lb ? 'LoadBalancer' : `NodePort ${port} on ${entryNode}`);
  const backend = { service: { namespace: target.namespace, name: target.name, port: r.svcPort } };
  if (!r.ep) return { seen, backend, end: walk.end('no-route', { destination: { backend, ip, port } }) };
  const entry = ctx.nodeByName.get(entryNode);
  const seenIP = entry ? seenSource(ctx.state, target, clientIP, entry, r.ep.node) : clientIP;
  if (seenIP === clientIP) return { ep: r.ep, backend, seen: clientIP, entered: entryNode, sourceNote: `externalTrafficPolicy ${target.externalTrafficPolicy}: client IP ${clientIP} kept` };
  // The masquerade happens as the packet leaves the entry node: an endpoint on another node is
  // judged from the entry node's address, one on the entry node (forwarded before the SNAT) from the client's.
  if (r.ep.node === entryNode) return { ep: r.ep, backend, seen: clientIP, client: seenIP, entered: entryNode, sourceNote: `externalTrafficPolicy Cluster: the endpoint is on the entry node, so its policies see ${clientIP} before the masquerade to ${seenIP}` };
  return { ep: r.ep, backend, seen: seenIP, entered: entryNode, sourceNote: `externalTrafficPolicy Cluster: source masqueraded to node IP ${seenIP}` };
}

/** Delivers a connection from a source to an IP:port; handles Services, nodes, LB IPs and pods. */
function deliver(ctx: Ctx, walk: Walk, origin: Source, ip: string, port: number, protocol: Protocol, http?: HttpRequest): Trace {
  if (stopped(ctx, walk, nodeOfSource(origin), 'the connection cannot leave it')) return walk.end('no-route', { destination: { ip, port } });
  const dstNode = ctx.nodeByIp.get(ip);
  // A node address that is a LoadBalancer IP (k3s's ServiceLB) is kube-proxy's on the source's node.
  const otherNode = origin.kind !== 'external' && dstNode !== undefined && dstNode.name !== nodeOfSource(origin) && !lbService(ctx, ip, port, protocol);
  let src = origin;
  if (otherNode && origin.kind === 'pod') {
    // To another node's address: the pod's egress rules judge that address, and the CNI
    // masquerades the connection to its node's (it leaves the pod network): from there on it is
    // the node's connection.
    const v = judge(ctx, walk, origin.pod, ip, protocol, port);
    if (!v.allowed) return walk.end('denied', { destination: { ip, port }, ...(v.hint ? { hint: v.hint } : {}) });
    const node = ctx.nodeByName.get(origin.pod.node);
    if (!node) return walk.end('no-route', { destination: { ip, port } });
    walk.add({ component: 'node', node: node.name, action: `${ip} is outside the pod network: source masqueraded to ${node.ip}`, verdict: 'pass', detail: "the CNI masquerades pod traffic that leaves the pod network (Calico's natOutgoing, flannel's ipMasq)" });
    src = { kind: 'node', node };
  }
  const landing = src.kind === 'external' || otherNode ? landOutside(ctx, walk, src, ip, port, protocol) : landInside(ctx, walk, src, ip, port, protocol);
  if (landing.end) return landing.end;
  const { ep, backend } = landing;
  if (!ep) return walk.end('no-route', { destination: { ip, port } });
  const pod = ep.pod;
  if (!pod) {
    const node = ctx.nodeByIp.get(ep.ip);
    const destination = { ...(node ? { node: node.name } : {}), ip: ep.ip, port: ep.port, ...(backend ? { backend } : {}) };
    if (node && stopped(ctx, walk, node.name, `${ep.ip}:${ep.port} does not answer`)) return walk.end('no-route', { destination });
    if (src.kind === 'pod') {
      const v = judge(ctx, walk, src.pod, ep.ip, protocol, ep.port);
      if (!v.allowed) return walk.end('denied', { destination, ...(v.hint ? { hint: v.hint } : {}) });
    }
    let client = typeof landing.seen === 'string' ? landing.seen : landing.seen.ip;
    if (node) {
      const listens = ctx.nodeListening.get(node.name)?.find((p) => p.port === ep.port && p.protocol === protocol);
      if (!listens) {
        walk.add({ component: 'node', node: node.name, action: `${node.name} refuses ${ep.ip}:${ep.port}/${protocol}`, verdict: 'no-route', refs: [{ kind: 'Node', name: node.name }], detail: `no NodePort, host port or process of the node takes ${ep.port}/${protocol} (kwire's nodes run only the API server, on control-plane nodes)` });
        return walk.end('no-route', { destination: { ...destination, client } });
      }
      // A pod's connection to another node's process (the API server behind the kubernetes
      // Service) leaves the pod network: the CNI masquerades it to the pod's node.
      const fromNode = src.kind === 'pod' ? ctx.nodeByName.get(src.pod.node) : undefined;
      if (fromNode && fromNode.name !== node.name) client = fromNode.ip;
      walk.add({ component: 'node', node: node.name, action: `delivered to node ${node.name} ${ep.ip}:${ep.port}/${protocol}`, verdict: 'pass', refs: [{ kind: 'Node', name: node.name }], detail: `${listens.service.namespace === 'default' && listens.service.name === 'kubernetes' ? 'the API server listens on the control-plane node itself (host network)' : `a process of the node answers (endpoints of Service ${listens.service.namespace}/${listens.service.name})`}${client === (typeof landing.seen === 'string' ? landing.seen : landing.seen.ip) ? '' : `; it sees ${client}: the CNI masqueraded the pod's connection as it left the pod network`}` });
    } else {
      walk.add({ component: 'external', action: `endpoint ${ep.ip}:${ep.port} is outside the pod network`, verdict: 'pass', detail: 'a selector-less Service endpoint' });
    }
    return walk.end('delivered', { destination: { ...destination, client } });
  }
  if (stopped(ctx, walk, pod.node, `pod ${pod.namespace}/${pod.name} does not answer`)) return walk.end('no-route', { destination: { pod: podTarget(pod), port: ep.port, ...(backend ? { backend } : {}) } });
  if (src.kind === 'pod' && src.pod === pod && !backend) {
    walk.add({ component: 'networkpolicy', node: pod.node, action: `${pod.namespace}/${pod.name} to its own address: not filtered`, verdict: 'pass', detail: "the connection never leaves the pod's network namespace, so no NetworkPolicy sees it" });
    return delivered(ctx, walk, pod, protocol, ep.port, pod.ip, backend);
  }
  if (src.kind === 'node' && pod.node === src.node.name && landing.entered === undefined && typeof landing.seen === 'string') {
    walk.add({ component: 'networkpolicy', node: pod.node, action: `from node ${src.node.name} to its own pod: not filtered`, verdict: 'pass', detail: 'traffic from the node where a pod runs is always allowed (it never crosses the forward path NetworkPolicy filters)' });
    return delivered(ctx, walk, pod, protocol, ep.port, landing.client ?? landing.seen, backend);
  }
  const v = judge(ctx, walk, landing.seen, pod, protocol, ep.port, landing.sourceNote, landing.ingressFrom ? { ingressFrom: landing.ingressFrom } : {});
  if (!v.allowed) return walk.end('denied', { destination: { pod: podTarget(pod), port: ep.port, ...(backend ? { backend } : {}) }, ...(v.hint ? { hint: v.hint } : {}) });
  if (http && pod.addon && ctx.state.cluster.ingressControllers.some((c) => c.name === pod.labels['app.kubernetes.io/instance'])) {
    const seenIP = landing.client ?? (typeof landing.seen === 'string' ? landing.seen : landing.seen.ip);
    return throughController(ctx, walk, pod, http, seenIP);
  }
  return delivered(ctx, walk, pod, protocol, ep.port, landing.client ?? (typeof landing.seen === 'string' ? landing.seen : landing.seen.ip), backend);
}

/** The last hop: the pod's program gets the connection, if it listens on the port. */
function delivered(ctx: Ctx, walk: Walk, pod: PodState, protocol: Protocol, port: number, client: string, backend: TraceDestination['backend']): Trace {
  const listening = ctx.listening.get(pod)?.find((p) => p.port === port && p.protocol === protocol);
  const destination = { pod: podTarget(pod), port, client, ...(backend ? { backend } : {}) };
  if (!listening) {
    walk.add({ component: 'pod', node: pod.node, action: `${pod.namespace}/${pod.name} refuses ${pod.ip}:${port}/${protocol}`, verdict: 'no-route', refs: [{ kind: 'Pod', namespace: pod.namespace, name: pod.name, field: 'spec.containers[].ports' }], detail: `no container declares port ${port}/${protocol} and no Service targets it there: kwire's pods listen only on those (a real program might listen anyway: containerPort is informational)` });
    return walk.end('no-route', { destination });
  }
  walk.add({ component: 'pod', node: pod.node, action: `delivered to ${pod.namespace}/${pod.name} ${pod.ip}:${port}/${protocol}`, verdict: 'pass', refs: [{ kind: 'Pod', namespace: pod.namespace, name: pod.name }], detail: listening.container ? `container ${listening.container} declares port ${port}/${protocol}` : `no container declares port ${port}/${protocol}, but a Service targets it there` });
  return walk.end('delivered', { destination });
}

function serviceOf(ctx: Ctx, namespace: string, name: string): ServiceState {
  const svc = ctx.state.services.find((s) => s.namespace === namespace && s.name === name);
  if (!svc) throw usage(`service "${namespace}/${name}" not found`, 'use svc/NS/NAME:PORT; list them with: kwire get svc -A');
  return svc;
}

/** A Service addressed by name (svc/NS/NAME:PORT or its DNS name): its ClusterIP, or why there is none. */
function toService(ctx: Ctx, walk: Walk, src: Source, svc: ServiceState, port: number | string, protocol: Protocol, http: HttpRequest | undefined, host: string): Trace {
  const backend = { service: { namespace: svc.namespace, name: svc.name } };
  if (svc.type === 'ExternalName') {
    walk.add({ component: 'dns', action: `${svc.name}.${svc.namespace}.svc.${ctx.domain} is a CNAME to ${svc.externalName ?? ''}`, verdict: 'info', refs: [{ kind: 'Service', namespace: svc.namespace, name: svc.name }], detail: 'ExternalName Services are DNS only: kube-proxy does nothing for them' });
    return walk.end('no-route', { destination: { backend } });
  }
  const sp = servicePort(svc, port, protocol);
  if (svc.headless) {
    const hsp = sp ?? svc.ports[0];
    const sel = hsp ? selectEndpoints(ctx.state, svc, hsp, { kind: 'cluster', fromNode: nodeOfSource(src) }) : undefined;
    const candidates = sel?.candidates ?? [];
    const preferred = chooseEndpoint(svc, candidates, clientIpOf(src), `${clientIpOf(src)}>${host}`).chosen;
    const chosen = candidates[walk.draw(candidates.length, preferred ? candidates.indexOf(preferred) : 0)];
    if (!chosen) {
      walk.add({ component: 'dns', node: nodeOfSource(src), action: `${host}: no ready endpoint, so no address`, verdict: 'no-route', refs: [{ kind: 'Service', namespace: svc.namespace, name: svc.name }], detail: sel?.detail ?? 'the Service has no ports' });
      return walk.end('no-route');
    }
    return deliver(ctx, walk, src, chosen.ip, typeof port === 'number' ? port : chosen.port, protocol, http);
  }
  return deliver(ctx, walk, src, svc.clusterIP, sp?.port ?? (typeof port === 'number' ? port : 0), protocol, http);
}

function runTrace(ctx: Ctx, walk: Walk, connection: Connection): Trace {
  const src = resolveSource(ctx, connection.from);
  const target = connection.to;
  const protocol: Protocol = connection.protocol ?? 'TCP';
  walk.add({
    component: 'client',
    node: nodeOfSource(src),
    action: src.kind === 'pod' ? `from pod ${src.pod.namespace}/${src.pod.name} (${src.pod.ip}, node ${src.pod.node})` : src.kind === 'node' ? `from node ${src.node.name} (${src.node.ip})` : `from ${src.ip}, a client outside the cluster`,
    verdict: 'info',
    refs: src.kind === 'pod' ? [{ kind: 'Pod', namespace: src.pod.namespace, name: src.pod.name }] : src.kind === 'node' ? [{ kind: 'Node', name: src.node.name }] : [],
    detail: src.kind === 'pod' ? `owned by ${src.pod.workload.kind} ${src.pod.workload.name}` : src.kind === 'node' ? "a process in the node's own network namespace" : 'traffic enters through a node, a LoadBalancer address or an Ingress host',
  });
  switch (target.kind) {
    case 'pod': {
      const pod = findPod(ctx, target.namespace, target.name);
      const port = typeof target.port === 'number' ? target.port : pod.ports.find((x) => x.name === target.port)?.containerPort;
      if (port === undefined) throw usage(`pod ${pod.namespace}/${pod.name} has no port named "${String(target.port)}"`);
      return deliver(ctx, walk, src, pod.ip, port, protocol);
    }
    case 'ip':
      return deliver(ctx, walk, src, target.ip, target.port, protocol);
    case 'service': {
      const svc = serviceOf(ctx, target.namespace, target.name);
      const host = `${target.name}.${target.namespace}`;
      // A headless Service has no address of its own: a pod finds its endpoints only by asking DNS.
      if (svc.headless && src.kind === 'pod') {
        const query = dnsQuery(ctx, walk, src.pod, host);
        if (!query.ok) return walk.end(query.verdict, query.hint ? { hint: query.hint } : {});
        walk.add({ component: 'dns', node: src.pod.node, action: `${host}.svc.${ctx.domain} → the ready pod IPs`, verdict: 'pass', refs: [{ kind: 'Service', namespace: svc.namespace, name: svc.name }], detail: `a headless Service; ${query.note}` });
      }
      return toService(ctx, walk, src, svc, target.port, protocol, undefined, host);
    }
    case 'name':
    case 'url':
      return toName(ctx, walk, src, target, protocol, connection);
  }
}

/** A DNS name or a URL: resolved by the cluster's DNS from a pod, by the outside world's otherwise. */
function toName(ctx: Ctx, walk: Walk, src: Source, target: ConnectionTarget & { kind: 'name' | 'url' }, protocol: Protocol, connection: Connection): Trace {
  const host = target.kind === 'url' ? target.host.toLowerCase() : target.name;
  const port = target.port;
  const http: HttpRequest | undefined = target.kind === 'url' ? { scheme: target.scheme, host, path: target.path, ...(connection.method ? { method: connection.method } : {}), ...(connection.headers ? { headers: connection.headers } : {}) } : undefined;
  if (isIp(host)) return deliver(ctx, walk, src, host, typeof port === 'number' ? port : 0, protocol, http);
  if (src.kind === 'pod') {
    const query = dnsQuery(ctx, walk, src.pod, host);
    if (!query.ok) return walk.end(query.verdict, query.hint ? { hint: query.hint } : {});
    const found = clusterDns(ctx, host, src.pod.namespace);
    if (found?.svc) {
      const svc = found.svc;
      const answer = svc.type === 'ExternalName' ? `CNAME ${svc.externalName ?? ''}` : svc.headless ? 'the ready pod IPs' : `A ${svc.clusterIP}`;
      walk.add({ component: 'dns', node: src.pod.node, action: `${host} → ${found.fqdn} ${answer}`, verdict: 'pass', refs: [{ kind: 'Service', namespace: svc.namespace, name: svc.name }], detail: `${query.note}; the pod's search path is ${src.pod.namespace}.svc.${ctx.domain} svc.${ctx.domain} ${ctx.domain}` });
      if (svc.type === 'ExternalName') return walk.end('no-route', { destination: { backend: { service: { namespace: svc.namespace, name: svc.name } } } });
      return toService(ctx, walk, src, svc, port, protocol, http, host);
    }
    if (found?.pod) {
      walk.add({ component: 'dns', node: src.pod.node, action: `${host} → A ${found.pod.ip}`, verdict: 'pass', refs: [{ kind: 'Pod', namespace: found.pod.namespace, name: found.pod.name }], detail: `a pod record; ${query.note}` });
      return deliver(ctx, walk, src, found.pod.ip, typeof port === 'number' ? port : 0, protocol, http);
    }
    if (host.endsWith(`.${ctx.domain}`)) {
      walk.add({ component: 'dns', node: src.pod.node, action: `${host}: NXDOMAIN`, verdict: 'no-route', detail: 'no Service or pod has this name' });
      return walk.end('no-route');
    }
  }
  if (typeof port !== 'number') throw usage(`${host}:${port}: a named port is only meaningful for a Service`);
  const out = outsideDns(ctx, host, port, connection.resolve ?? []);
  const asker = src.kind === 'pod' ? 'kube-dns forwards the query to the outside world\'s DNS, which' : src.kind === 'node' ? "the node's resolver (the outside world's DNS)" : "the outside world's DNS";
  if (!out) {
    walk.add({ component: 'dns', node: nodeOfSource(src), action: `${host}: NXDOMAIN`, verdict: 'no-route', detail: `${asker} knows only the hosts of the Ingresses (their controller's address); use --resolve NAME:PORT:ADDR to point a name somewhere` });
    return walk.end('no-route');
  }
  walk.add({ component: 'dns', node: nodeOfSource(src), action: `${host} → ${out.ip}${out.port ? ` (port ${out.port})` : ''}`, verdict: 'pass', refs: out.refs, detail: out.why });
  return deliver(ctx, walk, src, out.ip, out.port ?? port, protocol, http);
}
