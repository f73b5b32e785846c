/**
 * `kwire trace`: one connection or request through the simulated cluster, hop by hop — DNS,
 * MetalLB, kube-proxy, NetworkPolicy at both ends, the ingress controller's routing — with the
 * object and rule that decided each hop. Everything it reads is compiled once per state.
 */
import { InputError } from '../../api/problems.js';
import type { Protocol } from '../../api/types.js';
import { routeRequest, tlsFor, type IngressRouting, type RouteServer } from '../../model/routing/index.js';
import { evaluateConnection, formatRef, type CompiledPolicies, type DirectionVerdict } from '../../model/policy/index.js';
import { chooseEndpoint, selectEndpoints, servicePort, type Candidate, type Entry } from '../../model/endpoints.js';
import { ipSetContains, ipSetOf, isIp, parseCidr, parseIp, type IpSet } from '../../model/ip.js';
import type { NetworkState, PodState, ServiceState } from '../../model/types.js';
import type { Hop, Trace, TraceDestination, TraceRef, TraceVerdict } from './types.js';

export type { Hop, Trace, TraceRef, TraceVerdict, TraceDestination } from './types.js';
export { renderTraceText } from './text.js';

/** The address kwire gives "a client outside the cluster" unless told otherwise. */
export const EXTERNAL_CLIENT_IP = '203.0.113.100';

/** Options of one trace. */
export interface TraceOptions {
  readonly protocol?: Protocol;
  /** curl-style `NAME[:PORT]:ADDR` overrides of the outside world's DNS. */
  readonly resolve?: readonly string[];
  readonly headers?: Readonly<Record<string, string>>;
  readonly method?: string;
}

/** Certificates the trace can name for an SNI (filled by the cert-manager area). */
export type CertificateLookup = (namespace: string, secretName: string | undefined, host: string) => Trace['certificate'];

/** A tracer over one state: compile once, trace many. */
export interface Tracer {
  readonly trace: (src: string, dst: string, opts?: TraceOptions) => Trace;
}

/** The source of a trace. */
type Source = { kind: 'pod'; pod: PodState } | { kind: 'external'; ip: string };

/** A parsed destination. */
type Target =
  | { kind: 'url'; scheme: 'http' | 'https'; host: string; port: number; path: string }
  | { kind: 'service'; svc: ServiceState; port: number | string }
  | { kind: 'pod'; pod: PodState; port: number }
  | { kind: 'ip'; ip: string; port: number }
  | { kind: 'name'; name: string; port: number | string };

function usage(message: string, hint?: string): InputError {
  return new InputError([{ code: 'KW-USAGE', severity: 'error', message, hint }]);
}


/** Builds a tracer for a state. */
export function createTracer(state: NetworkState, certificates?: CertificateLookup): Tracer {
  const { policies, routing } = state;
  const podsByIp = new Map(state.pods.filter((p) => p.ip && !p.hostNetwork).map((p) => [p.ip, p]));
  const svcByIp = new Map(state.services.filter((s) => s.clusterIP && s.clusterIP !== 'None').map((s) => [s.clusterIP, s]));
  const lbByIp = new Map<string, ServiceState>();
  for (const s of state.services) for (const i of [...s.loadBalancerIngress.map((x) => x.ip), ...s.externalIPs]) if (!lbByIp.has(i)) lbByIp.set(i, s);
  const nodeByIp = new Map(state.nodes.map((n) => [n.ip, n]));
  const domain = state.cluster.clusterDomain;
  const sourceRanges = new Map(state.services.filter((s) => s.loadBalancerSourceRanges.length > 0).map((s) => [s, ipSetOf(s.loadBalancerSourceRanges.flatMap((r) => parseCidr(r) ?? []))]));
  const ctx: Ctx = { state, policies, routing, podsByIp, svcByIp, lbByIp, nodeByIp, sourceRanges, domain, certificates };
  return { trace: (src, dst, opts = {}) => runTrace(ctx, src, dst, opts) };
}

interface Ctx {
  readonly state: NetworkState;
  readonly policies: CompiledPolicies;
  readonly routing: IngressRouting;
  readonly podsByIp: ReadonlyMap<string, PodState>;
  readonly svcByIp: ReadonlyMap<string, ServiceState>;
  readonly lbByIp: ReadonlyMap<string, ServiceState>;
  readonly nodeByIp: ReadonlyMap<string, NetworkState['nodes'][number]>;
  /** `spec.loadBalancerSourceRanges` of the Services that set it, as address sets. */
  readonly sourceRanges: ReadonlyMap<ServiceState, IpSet>;
  readonly domain: string;
  readonly certificates?: CertificateLookup;
}

function findPod(ctx: Ctx, ns: string, name: string): PodState {
  const pod = ctx.state.pods.find((p) => p.namespace === ns && p.name === name);
  if (!pod) {
    const near = ctx.state.pods.filter((p) => p.namespace === ns && p.name.startsWith(name)).map((p) => p.name);
    throw usage(`pod "${ns}/${name}" not found`, near.length ? `did you mean ${near.slice(0, 3).join(', ')}?` : `list them with: kwire get pods -n ${ns}`);
  }
  return pod;
}

function parseSource(ctx: Ctx, src: string): Source {
  if (src === 'external') return { kind: 'external', ip: EXTERNAL_CLIENT_IP };
  const parts = src.split('/');
  if (parts[0] === 'ip' && parts.length === 2) {
    const ip = parts[1] ?? '';
    if (!isIp(ip)) throw usage(`source "${src}": not an IP address`);
    const pod = ctx.podsByIp.get(ip);
    return pod ? { kind: 'pod', pod } : { kind: 'external', ip };
  }
  if (parts[0] === 'pod' && parts.length === 3) return { kind: 'pod', pod: findPod(ctx, parts[1] ?? '', parts[2] ?? '') };
  if ((parts[0] === 'deploy' || parts[0] === 'deployment' || parts[0] === 'sts' || parts[0] === 'ds') && parts.length === 3) {
    const kind = { deploy: 'Deployment', deployment: 'Deployment', sts: 'StatefulSet', ds: 'DaemonSet' }[parts[0]];
    const pods = ctx.state.pods.filter((p) => p.namespace === parts[1] && p.workload.kind === kind && p.workload.name === parts[2]).sort((a, b) => a.name.localeCompare(b.name));
    const pod = pods.find((p) => p.ready) ?? pods[0];
    if (!pod) throw usage(`${kind} "${parts[1] ?? ''}/${parts[2] ?? ''}" has no pods`, 'check the name and namespace with: kwire get pods -A');
    return { kind: 'pod', pod };
  }
  if (parts.length === 2) return { kind: 'pod', pod: findPod(ctx, parts[0] ?? '', parts[1] ?? '') };
  throw usage(`source "${src}" is not understood`, 'use pod/NS/NAME, NS/NAME, deploy/NS/NAME, external or ip/A.B.C.D');
}

function splitPort(text: string): [string, string | undefined] {
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    return [text.slice(1, end), text.slice(end + 2) || undefined];
  }
  const i = text.lastIndexOf(':');
  if (i < 0 || text.indexOf(':') !== i) return [text, undefined];
  return [text.slice(0, i), text.slice(i + 1)];
}

function parsePortText(text: string | undefined, what: string): number | string {
  if (text === undefined) throw usage(`${what}: a port is needed`, `e.g. ${what}:80`);
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < 1 || n > 65535) throw usage(`${what}: port ${n} is out of range 1-65535`);
    return n;
  }
  return text;
}

function parseTarget(ctx: Ctx, dst: string): Target {
  if (/^https?:\/\//i.test(dst)) {
    let url: URL;
    try {
      url = new URL(dst);
    } catch {
      throw usage(`"${dst}" is not a valid URL`);
    }
    const scheme = url.protocol === 'https:' ? 'https' : 'http';
    const host = url.hostname.replace(/^\[|\]$/g, '');
    return { kind: 'url', scheme, host, port: url.port ? Number(url.port) : scheme === 'https' ? 443 : 80, path: `${url.pathname}${url.search}` };
  }
  const parts = dst.split('/');
  if (parts[0] === 'svc' || parts[0] === 'service') {
    const [name, port] = splitPort(parts[2] ?? '');
    const svc = ctx.state.services.find((s) => s.namespace === parts[1] && s.name === name);
    if (!svc || parts.length !== 3) throw usage(`service "${parts[1] ?? ''}/${name}" not found`, 'use svc/NS/NAME:PORT; list them with: kwire get svc -A');
    return { kind: 'service', svc, port: parsePortText(port, dst) };
  }
  if (parts[0] === 'pod' && parts.length === 3) {
    const [name, port] = splitPort(parts[2] ?? '');
    const pod = findPod(ctx, parts[1] ?? '', name);
    const p = parsePortText(port, dst);
    const num = typeof p === 'number' ? p : pod.ports.find((x) => x.name === p)?.containerPort;
    if (num === undefined) throw usage(`pod ${pod.namespace}/${pod.name} has no port named "${String(p)}"`);
    return { kind: 'pod', pod, port: num };
  }
  const [host, port] = splitPort(dst);
  if (isIp(host)) {
    const p = parsePortText(port, dst);
    if (typeof p !== 'number') throw usage(`${dst}: an IP destination needs a port number`);
    return { kind: 'ip', ip: host, port: p };
  }
  return { kind: 'name', name: host.toLowerCase().replace(/\.$/, ''), port: parsePortText(port, dst) };
}

/** Collects hops and the end of a trace. */
class Path {
  readonly hops: Hop[] = [];
  add(h: Omit<Hop, 'refs'> & { refs?: readonly TraceRef[] }): void {
    this.hops.push({ ...h, refs: h.refs ?? [] });
  }
  end(verdict: TraceVerdict, extra: Partial<Omit<Trace, 'hops' | 'verdict' | 'apiVersion' | 'kind'>> = {}): Trace {
    return { apiVersion: 'kwire.dev/v1alpha1', kind: 'Trace', verdict, hops: this.hops, ...extra };
  }
}

/** Resolves a cluster DNS name from a pod: `svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.<domain>`, pod A records. */
function clusterDns(ctx: Ctx, name: string, fromNs: string): { svc?: ServiceState; pod?: PodState; fqdn: string } | undefined {
  const suffix = `.svc.${ctx.domain}`;
  const candidates = name.endsWith(suffix) ? [name] : [`${name}.${fromNs}${suffix}`, `${name}${suffix}`, `${name}.${ctx.domain}`, name];
  for (const fqdn of candidates) {
    if (!fqdn.endsWith(suffix)) continue;
    const labels = fqdn.slice(0, -suffix.length).split('.');
    if (labels.length === 2) {
      const svc = ctx.state.services.find((s) => s.name === labels[0] && s.namespace === labels[1]);
      if (svc) return { svc, fqdn };
    }
    if (labels.length === 3) {
      const pod = ctx.state.pods.find((p) => p.namespace === labels[2] && (p.name === labels[0] || p.annotations['kwire.dev/hostname'] === labels[0]));
      const svc = ctx.state.services.find((s) => s.name === labels[1] && s.namespace === labels[2] && s.headless);
      if (pod && svc) return { pod, fqdn };
    }
  }
  const podSuffix = `.pod.${ctx.domain}`;
  if (name.endsWith(podSuffix)) {
    const [dashed, ns] = name.slice(0, -podSuffix.length).split('.');
    const pod = ctx.podsByIp.get((dashed ?? '').replaceAll('-', '.'));
    if (pod && pod.namespace === ns) return { pod, fqdn: name };
  }
  return undefined;
}

/** The outside world's DNS: it knows the Ingress hosts (the address of the controller serving them). */
function outsideDns(ctx: Ctx, host: string, port: number, resolve: readonly string[]): { ip: string; port?: number; why: string; refs: TraceRef[] } | undefined {
  for (const r of resolve) {
    const m = /^([^:]+)(?::(\d+))?:(.+)$/.exec(r);
    if (!m) throw usage(`--resolve "${r}": expected NAME[:PORT]:ADDR`);
    const addr = (m[3] ?? '').replace(/^\[|\]$/g, '');
    if (!isIp(addr)) throw usage(`--resolve "${r}": "${addr}" is not an IP address`, 'e.g. --resolve example.com:443:198.51.100.10');
    if (m[1]?.toLowerCase() === host && (m[2] === undefined || Number(m[2]) === port)) return { ip: addr, why: `--resolve ${r}`, refs: [] };
  }
  // The outside world knows the hosts the controllers serve: exact hosts first, then wildcards, as routing does.
  const found = findServer(ctx, host, 'exact') ?? findServer(ctx, host, 'wildcard');
  if (!found) return undefined;
  const { controller, server } = found;
  const ref = server.locations[0]?.target.ingress ?? server.defaultBackend?.ingress;
  const refs = ref ? [{ kind: 'Ingress', namespace: ref.namespace, name: ref.name }] : [];
  const named = ref ? `Ingress ${ref.namespace}/${ref.name} names ${server.host}` : `${server.host} is served by ${controller}`;
  const ctrl = ctx.state.services.find((s) => s.addon && s.labels['app.kubernetes.io/instance'] === controller && s.type !== 'ClusterIP');
  const lbIP = ctrl?.loadBalancerIngress[0]?.ip;
  if (lbIP) return { ip: lbIP, why: `${named}; its controller's LoadBalancer address`, refs };
  if (!ctrl || ctrl.type === 'LoadBalancer') return undefined;
  const pod = ctx.state.pods.find((p) => p.addon && p.labels['app.kubernetes.io/instance'] === controller);
  const nodeIP = ctx.state.nodes.find((n) => n.name === pod?.node)?.ip;
  if (!nodeIP) return undefined;
  const np = ctrl.ports.find((p) => p.port === port)?.nodePort;
  return { ip: nodeIP, port: np, why: `${named}; no LoadBalancer address, so a node of the controller${np ? ` and its NodePort ${np}` : ''}`, refs };
}

/** The controller whose compiled routes have a server for the host, by exact host or by wildcard. */
function findServer(ctx: Ctx, host: string, kind: 'exact' | 'wildcard'): { controller: string; server: RouteServer } | undefined {
  const suffix = host.includes('.') ? host.slice(host.indexOf('.') + 1) : '';
  for (const [controller, routes] of ctx.routing.controllers) {
    const server = kind === 'exact' ? routes.exactHosts.get(host) : suffix ? routes.wildcardHosts.get(suffix) : undefined;
    if (server) return { controller, server };
  }
  return undefined;
}

function policyRefs(v: DirectionVerdict): TraceRef[] {
  const refs: TraceRef[] = v.allowedBy.map((r) => ({ kind: 'NetworkPolicy', namespace: r.namespace, name: r.name, field: r.field }));
  if (!v.allowed) for (const p of v.isolatedBy) refs.push({ kind: 'NetworkPolicy', namespace: p.namespace, name: p.name });
  return refs;
}

/** Judges NetworkPolicy for one hop; returns false (and ends nothing) when denied. */
function judge(ctx: Ctx, path: Path, src: PodState | string, dst: PodState | string, protocol: Protocol, port: number, sourceNote?: string): { allowed: boolean; hint?: string } {
  const v = evaluateConnection(ctx.policies, src, dst, protocol, port);
  for (const d of [v.egress, v.ingress]) {
    if (!d.pod) continue;
    const pod = typeof (d.direction === 'egress' ? src : dst) === 'string' ? undefined : ((d.direction === 'egress' ? src : dst) as PodState);
    path.add({
      component: 'networkpolicy',
      node: pod?.node,
      action: `${d.direction} at ${d.pod}${d.direction === 'ingress' && sourceNote ? ` (${sourceNote})` : ''}`,
      verdict: d.allowed ? 'pass' : 'deny',
      refs: policyRefs(d),
      detail: d.detail,
    });
    if (!d.allowed) return { allowed: false, hint: d.hint ?? (d.nearMisses[0] ? `${formatRef(d.nearMisses[0].rule)}: ${d.nearMisses[0].detail}` : undefined) };
  }
  if (!v.enforced) path.add({ component: 'networkpolicy', action: 'not enforced', verdict: 'pass', detail: v.detail });
  return { allowed: true };
}

function podTarget(p: PodState): NonNullable<TraceDestination['pod']> {
  return { namespace: p.namespace, name: p.name, ip: p.ip, node: p.node };
}

/** Picks the endpoint of a Service port and adds the kube-proxy hop. */
function proxyHop(ctx: Ctx, path: Path, svc: ServiceState, port: number | string, protocol: Protocol, entry: Entry, clientIP: string, connKey: string, via: string): { ep?: Candidate; svcPort?: number; portName?: string } {
  const sp = servicePort(svc, port, protocol);
  const ref = { kind: 'Service', namespace: svc.namespace, name: svc.name };
  const node = entry.kind === 'external' ? entry.node : entry.fromNode;
  if (!sp) {
    path.add({ component: 'kube-proxy', node, action: `no port ${String(port)}/${protocol} on ${svc.namespace}/${svc.name}`, verdict: 'no-route', refs: [{ ...ref, field: 'spec.ports' }], detail: `the Service has ports ${svc.ports.map((p) => `${p.port}/${p.protocol}`).join(', ')}; kube-proxy rejects the rest` });
    return {};
  }
  const sel = selectEndpoints(ctx.state, svc, sp, entry);
  const { chosen, why } = chooseEndpoint(svc, sel.candidates, clientIP, connKey);
  const idx = svc.ports.indexOf(sp);
  if (!chosen) {
    path.add({ component: 'kube-proxy', node, action: `${via} ${svc.namespace}/${svc.name}:${sp.port}: ${entry.kind === 'external' && svc.externalTrafficPolicy === 'Local' ? 'drop' : 'reject'}`, verdict: 'no-route', refs: [ref], detail: sel.detail });
    return { svcPort: sp.port, portName: sp.name || undefined };
  }
  const target = chosen.pod ? `${chosen.pod.namespace}/${chosen.pod.name}` : chosen.ip;
  path.add({ component: 'kube-proxy', node, action: `${via} ${svc.namespace}/${svc.name}:${sp.port} → DNAT ${chosen.ip}:${chosen.port} (${target})`, verdict: 'pass', refs: [{ ...ref, field: `spec.ports[${idx}]` }], detail: `${sel.detail}; ${why}` });
  return { ep: chosen, svcPort: sp.port, portName: sp.name || undefined };
}

/** kube-proxy's firewall check of `loadBalancerSourceRanges` (for every new connection to the LB IP, pods' too). */
function outsideSourceRanges(ctx: Ctx, path: Path, lb: ServiceState, clientIP: string, node: string | undefined): boolean {
  const ranges = ctx.sourceRanges.get(lb);
  if (!ranges) return false;
  const client = parseIp(clientIP);
  if (client !== undefined && ipSetContains(ranges, client)) return false;
  path.add({ component: 'kube-proxy', node, action: `drop: ${clientIP} is outside loadBalancerSourceRanges`, verdict: 'deny', refs: [{ kind: 'Service', namespace: lb.namespace, name: lb.name, field: 'spec.loadBalancerSourceRanges' }], detail: `allowed: ${lb.loadBalancerSourceRanges.join(', ')}` });
  return true;
}

/** Delivers a connection from a source to an IP:port; handles Services, nodes, LB IPs and pods. */
function deliver(ctx: Ctx, path: Path, src: Source, ip: string, port: number, protocol: Protocol, opts: { http?: HttpRequest }): Trace {
  const clientIP = src.kind === 'pod' ? src.pod.ip : src.ip;
  const connKey = `${clientIP}>${ip}:${port}/${protocol}`;
  const fromNode = src.kind === 'pod' ? src.pod.node : undefined;
  let backend: TraceDestination['backend'];
  let ep: Candidate | undefined;
  let seenSource: PodState | string = src.kind === 'pod' ? src.pod : src.ip;
  let sourceNote: string | undefined;
  const svc = ctx.svcByIp.get(ip);
  const lb = ctx.lbByIp.get(ip);
  const node = ctx.nodeByIp.get(ip);
  if (svc) {
    const r = proxyHop(ctx, path, svc, port, protocol, { kind: 'cluster', fromNode }, clientIP, connKey, 'ClusterIP');
    backend = { service: { namespace: svc.namespace, name: svc.name, port: r.svcPort } };
    if (!r.ep) return path.end('no-route', { destination: { backend, ip, port } });
    ep = r.ep;
  } else if (lb && src.kind === 'pod') {
    if (outsideSourceRanges(ctx, path, lb, clientIP, fromNode)) return path.end('denied', { destination: { ip, port } });
    const r = proxyHop(ctx, path, lb, port, protocol, { kind: 'cluster', fromNode }, clientIP, connKey, 'LoadBalancer IP from inside the cluster (kube-proxy short-circuits it like a ClusterIP)');
    backend = { service: { namespace: lb.namespace, name: lb.name, port: r.svcPort } };
    if (!r.ep) return path.end('no-route', { destination: { backend, ip, port } });
    ep = r.ep;
  } else if (lb || node) {
    let entryNode = node?.name;
    let target = lb;
    if (lb) {
      const ann = ctx.state.metallb?.announcements.byService.get(`${lb.namespace}/${lb.name}`)?.find((a) => a.ip === ip);
      if (lb.loadBalancerBy === 'metallb') {
        if (!ann || ann.announcedBy.length === 0) {
          path.add({ component: 'metallb', action: `nobody announces ${ip}`, verdict: 'no-route', refs: [{ kind: 'Service', namespace: lb.namespace, name: lb.name }], detail: 'MetalLB assigned the address but no node answers ARP or advertises a route for it (see kwire lint)' });
          return path.end('no-route', { destination: { ip, port } });
        }
        entryNode = ann.mode === 'l2' ? ann.l2?.winner : ann.announcedBy[0];
        path.add({ component: 'metallb', node: entryNode, action: ann.mode === 'l2' ? `L2: ${entryNode ?? ''} answers ARP for ${ip}` : `BGP: the router sends ${ip} to ${entryNode ?? ''} (ECMP over ${ann.announcedBy.join(', ')})`, verdict: 'pass', refs: [{ kind: 'IPAddressPool', namespace: ctx.state.metallb?.config.namespace, name: ann.pool }], detail: ann.mode === 'l2' ? `leader elected among ${ann.l2?.candidates.join(', ') ?? ''} by sha256(node#ip)` : `advertised as ${ann.bgpPrefixes.join(', ')}` });
      } else {
        entryNode = ctx.state.nodes.find((n) => n.ip === ip)?.name ?? ctx.state.nodes.find((n) => !n.controlPlane)?.name;
        path.add({ component: 'node', node: entryNode, action: `${lb.loadBalancerBy ?? 'load balancer'} delivers ${ip} to ${entryNode ?? ''}`, verdict: 'pass', refs: [{ kind: 'Service', namespace: lb.namespace, name: lb.name }], detail: 'the provider forwards to a node' });
      }
      if (outsideSourceRanges(ctx, path, lb, clientIP, entryNode)) return path.end('denied', { destination: { ip, port } });
    } else {
      target = ctx.state.services.find((s) => s.ports.some((p) => p.nodePort === port && p.protocol === protocol));
      if (!target) {
        path.add({ component: 'node', node: entryNode, action: `nothing listens on ${ip}:${port}`, verdict: 'no-route', detail: `no Service has NodePort ${port}/${protocol}` });
        return path.end('no-route', { destination: { ip, port } });
      }
    }
    if (!target || !entryNode) return path.end('no-route', { destination: { ip, port } });
    const sp = lb ? servicePort(target, port, protocol) : target.ports.find((p) => p.nodePort === port && p.protocol === protocol);
    const r = proxyHop(ctx, path, target, sp?.port ?? port, protocol, { kind: 'external', node: entryNode }, clientIP, connKey, lb ? 'LoadBalancer' : `NodePort ${port} on ${entryNode}`);
    backend = { service: { namespace: target.namespace, name: target.name, port: r.svcPort } };
    if (!r.ep) return path.end('no-route', { destination: { backend, ip, port } });
    ep = r.ep;
    const nodeIP = ctx.state.nodes.find((n) => n.name === entryNode)?.ip ?? '';
    if (target.externalTrafficPolicy === 'Cluster') {
      seenSource = src.kind === 'pod' ? src.pod : nodeIP;
      sourceNote = src.kind === 'pod' ? undefined : `externalTrafficPolicy Cluster: source masqueraded to node IP ${nodeIP}`;
    } else {
      sourceNote = `externalTrafficPolicy Local: client IP ${clientIP} kept`;
    }
  } else {
    const pod = ctx.podsByIp.get(ip);
    if (!pod) {
      if (src.kind === 'external') {
        path.add({ component: 'external', action: `${ip} is not an address of this cluster`, verdict: 'no-route', detail: 'no LoadBalancer, external IP or node has it' });
        return path.end('no-route', { destination: { ip, port } });
      }
      const v = judge(ctx, path, src.pod, ip, protocol, port);
      if (!v.allowed) return path.end('denied', { destination: { ip, port }, hint: v.hint });
      path.add({ component: 'external', action: `leaves the cluster to ${ip}:${port}`, verdict: 'pass', detail: 'routed out through the node; the source is masqueraded to the node IP' });
      return path.end('delivered', { destination: { ip, port } });
    }
    ep = { ip, port, node: pod.node, pod };
  }
  const pod = ep.pod;
  if (!pod) {
    path.add({ component: 'external', action: `endpoint ${ep.ip}:${ep.port} is outside the pod network`, verdict: 'pass', detail: 'a selector-less Service endpoint' });
    return path.end('delivered', { destination: { ip: ep.ip, port: ep.port, backend } });
  }
  const v = judge(ctx, path, seenSource, pod, protocol, ep.port, sourceNote);
  if (!v.allowed) return path.end('denied', { destination: { pod: podTarget(pod), port: ep.port, backend }, hint: v.hint });
  if (opts.http && pod.addon && ctx.state.cluster.ingressControllers.some((c) => c.name === pod.labels['app.kubernetes.io/instance'])) {
    return throughController(ctx, path, pod, opts.http, clientIP);
  }
  const declared = pod.ports.some((p) => p.containerPort === ep.port && p.protocol === protocol);
  path.add({ component: 'pod', node: pod.node, action: `delivered to ${pod.namespace}/${pod.name} ${pod.ip}:${ep.port}/${protocol}`, verdict: 'pass', refs: [{ kind: 'Pod', namespace: pod.namespace, name: pod.name }], detail: declared ? `container port ${ep.port}/${protocol} is declared` : `no container declares port ${ep.port}/${protocol}; the connection is refused unless the program listens anyway` });
  return path.end('delivered', { destination: { pod: podTarget(pod), port: ep.port, backend } });
}

interface HttpRequest {
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly path: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** The ingress controller's part: TLS, routing, and its own connection to the backend pod. */
function throughController(ctx: Ctx, path: Path, ctrlPod: PodState, req: HttpRequest, clientIP: string): Trace {
  const controller = ctrlPod.labels['app.kubernetes.io/instance'] ?? '';
  let certificate: Trace['certificate'];
  if (req.scheme === 'https') {
    const tls = tlsFor(ctx.routing, controller, req.host);
    certificate = tls ? ctx.certificates?.(tls.namespace, tls.secretName, req.host) ?? { secretName: tls.secretName, namespace: tls.namespace, dnsNames: [], covers: false } : undefined;
    path.add({
      component: 'tls',
      node: ctrlPod.node,
      action: tls ? `SNI ${req.host}: certificate from Secret ${tls.namespace}/${tls.secretName ?? '(default)'}` : `SNI ${req.host}: no Ingress has TLS for it; the controller's default (self-signed) certificate`,
      verdict: 'pass',
      refs: tls ? [{ kind: 'Ingress', namespace: tls.namespace, name: tls.ingress.name, field: tls.field }] : [],
      detail: certificate ? `${certificate.covers ? 'covers' : 'does NOT cover'} ${req.host}${certificate.issuer ? `; issued by ${certificate.issuer}` : ''}${certificate.notAfter ? `; valid until ${certificate.notAfter}` : ''}` : 'clients will see a certificate error',
    });
  }
  const d = routeRequest(ctx.routing, controller, { scheme: req.scheme, host: req.host, path: req.path, method: req.method, headers: req.headers, clientIP, sni: req.scheme === 'https' ? req.host : undefined });
  if (d.kind === 'answer') {
    path.add({ component: 'ingress-controller', node: ctrlPod.node, action: `${controller} answers ${d.status}${d.location ? ` → ${d.location}` : ''}`, verdict: 'answer', refs: d.ref ? [{ kind: 'Ingress', namespace: d.ref.namespace, name: d.ref.name, field: d.ref.field }] : [], detail: d.reason });
    return path.end('answered', { response: { status: d.status, by: controller, location: d.location }, certificate });
  }
  const ingRef = { kind: 'Ingress', namespace: d.ingress.namespace, name: d.ingress.name, field: d.field };
  path.add({ component: 'ingress-controller', node: ctrlPod.node, action: `${controller}: ${d.host || '*'}${d.path ?? ''} (${d.pathType ?? 'default backend'}) → service ${d.service.name}:${String(d.service.port)}${d.rewrittenPath ? ` (path rewritten to ${d.rewrittenPath})` : ''}`, verdict: 'pass', refs: [ingRef], detail: d.reason });
  const svc = ctx.state.services.find((s) => s.namespace === d.service.namespace && s.name === d.service.name);
  const portName = typeof d.service.port === 'string' ? d.service.port : undefined;
  const portNumber = typeof d.service.port === 'number' ? d.service.port : undefined;
  if (!svc) {
    path.add({ component: 'ingress-controller', node: ctrlPod.node, action: `${controller} answers 503`, verdict: 'answer', refs: [ingRef], detail: `Service ${d.service.namespace}/${d.service.name} does not exist` });
    return path.end('answered', { response: { status: 503, by: controller }, destination: { backend: { service: { namespace: d.service.namespace, name: d.service.name, ...(portName ? { portName } : { port: portNumber }) } } }, certificate });
  }
  const sp = servicePort(svc, portName ?? portNumber ?? 0);
  const backend = { service: { namespace: svc.namespace, name: svc.name, port: sp?.port ?? portNumber, ...(portName ? { portName } : {}) } };
  if (!sp) {
    path.add({ component: 'ingress-controller', node: ctrlPod.node, action: `${controller} answers 503`, verdict: 'answer', refs: [ingRef], detail: `Service ${svc.namespace}/${svc.name} has no port ${String(portName ?? portNumber)}` });
    return path.end('answered', { response: { status: 503, by: controller }, destination: { backend }, certificate });
  }
  const sel = selectEndpoints(ctx.state, svc, sp, { kind: 'cluster', fromNode: ctrlPod.node });
  const { chosen, why } = chooseEndpoint(svc, sel.candidates, clientIP, `${clientIP}>${req.host}${req.path}`);
  if (!chosen) {
    path.add({ component: 'ingress-controller', node: ctrlPod.node, action: `${controller} answers 503`, verdict: 'answer', refs: [{ kind: 'Service', namespace: svc.namespace, name: svc.name }], detail: sel.detail });
    return path.end('answered', { response: { status: 503, by: controller }, destination: { backend }, certificate });
  }
  path.add({ component: 'ingress-controller', node: ctrlPod.node, action: `${controller} proxies to endpoint ${chosen.ip}:${chosen.port}${chosen.pod ? ` (${chosen.pod.namespace}/${chosen.pod.name})` : ''}`, verdict: 'pass', refs: [{ kind: 'Service', namespace: svc.namespace, name: svc.name, field: `spec.ports[${svc.ports.indexOf(sp)}]` }], detail: `the controller balances over the Service's endpoints itself (not through the ClusterIP); ${why}` });
  if (!chosen.pod) return path.end('delivered', { destination: { ip: chosen.ip, port: chosen.port, backend }, certificate });
  const v = judge(ctx, path, ctrlPod, chosen.pod, 'TCP', chosen.port, `from the ingress controller pod ${ctrlPod.namespace}/${ctrlPod.name}`);
  if (!v.allowed) {
    const status = 504;
    path.add({ component: 'ingress-controller', node: ctrlPod.node, action: `${controller} answers ${status} (upstream timed out)`, verdict: 'deny', detail: 'the policy drops the controller\'s packets, so the connection to the backend times out' });
    return path.end('denied', { response: { status, by: controller }, destination: { pod: podTarget(chosen.pod), port: chosen.port, backend }, hint: v.hint, certificate });
  }
  path.add({ component: 'pod', node: chosen.pod.node, action: `${req.method ?? 'GET'} ${d.rewrittenPath ?? req.path} delivered to ${chosen.pod.namespace}/${chosen.pod.name} ${chosen.pod.ip}:${chosen.port}`, verdict: 'pass', refs: [{ kind: 'Pod', namespace: chosen.pod.namespace, name: chosen.pod.name }], detail: `Host: ${req.host}; X-Forwarded-For: ${clientIP}` });
  return path.end('delivered', { destination: { pod: podTarget(chosen.pod), port: chosen.port, backend }, certificate });
}

function runTrace(ctx: Ctx, srcText: string, dstText: string, opts: TraceOptions): Trace {
  const src = parseSource(ctx, srcText);
  const target = parseTarget(ctx, dstText);
  const protocol: Protocol = opts.protocol ?? 'TCP';
  const path = new Path();
  path.add({ component: 'client', node: src.kind === 'pod' ? src.pod.node : undefined, action: src.kind === 'pod' ? `from pod ${src.pod.namespace}/${src.pod.name} (${src.pod.ip}, node ${src.pod.node})` : `from ${src.ip}, a client outside the cluster`, verdict: 'info', refs: src.kind === 'pod' ? [{ kind: 'Pod', namespace: src.pod.namespace, name: src.pod.name }] : [], detail: src.kind === 'pod' ? `owned by ${src.pod.workload.kind} ${src.pod.workload.name}` : 'traffic enters through a node, a LoadBalancer address or an Ingress host' });
  switch (target.kind) {
    case 'pod':
      return deliver(ctx, path, src, target.pod.ip, target.port, protocol, {});
    case 'ip':
      return deliver(ctx, path, src, target.ip, target.port, protocol, {});
    case 'service': {
      const svc = target.svc;
      if (svc.type === 'ExternalName') {
        path.add({ component: 'dns', action: `${svc.name}.${svc.namespace}.svc.${ctx.domain} is a CNAME to ${svc.externalName ?? ''}`, verdict: 'info', refs: [{ kind: 'Service', namespace: svc.namespace, name: svc.name }], detail: 'ExternalName Services are DNS only: kube-proxy does nothing for them' });
        return path.end('no-route', { destination: { backend: { service: { namespace: svc.namespace, name: svc.name } } } });
      }
      if (svc.headless) {
        path.add({ component: 'dns', action: `${svc.name} is headless: no ClusterIP, DNS answers the pod IPs`, verdict: 'info', refs: [{ kind: 'Service', namespace: svc.namespace, name: svc.name }], detail: 'trace a pod of it: pod/NS/NAME:PORT' });
        return path.end('no-route', { destination: { backend: { service: { namespace: svc.namespace, name: svc.name } } } });
      }
      const sp = servicePort(svc, target.port, protocol);
      return deliver(ctx, path, src, svc.clusterIP, sp?.port ?? (typeof target.port === 'number' ? target.port : 0), protocol, {});
    }
    case 'name':
    case 'url': {
      const host = target.kind === 'url' ? target.host : target.name;
      const port = target.port;
      const http = target.kind === 'url' ? { scheme: target.scheme, host, path: target.path, method: opts.method, headers: opts.headers } : undefined;
      if (isIp(host)) return deliver(ctx, path, src, host, typeof port === 'number' ? port : 0, protocol, { http });
      if (src.kind === 'pod') {
        const found = clusterDns(ctx, host, src.pod.namespace);
        if (found) {
          const dnsSvc = ctx.state.services.find((s) => s.namespace === 'kube-system' && s.name === 'kube-dns');
          if (found.svc) {
            const svc = found.svc;
            const answer = svc.type === 'ExternalName' ? `CNAME ${svc.externalName ?? ''}` : svc.headless ? 'the ready pod IPs' : `A ${svc.clusterIP}`;
            path.add({ component: 'dns', node: src.pod.node, action: `${host} → ${found.fqdn} ${answer}`, verdict: 'pass', refs: [{ kind: 'Service', namespace: svc.namespace, name: svc.name }], detail: `asked kube-dns at ${dnsSvc?.clusterIP ?? ''} with the pod's search path (${src.pod.namespace}.svc.${ctx.domain} svc.${ctx.domain} ${ctx.domain})` });
            if (svc.type === 'ExternalName') return path.end('no-route', { destination: { backend: { service: { namespace: svc.namespace, name: svc.name } } } });
            const sp = servicePort(svc, port, protocol);
            if (svc.headless) {
              // DNS answers the ready endpoints; the client connects to one of them on the port it asked
              // for (a named port comes from the SRV record, i.e. the endpoint's port).
              const hsp = sp ?? svc.ports[0];
              const sel = hsp ? selectEndpoints(ctx.state, svc, hsp, { kind: 'cluster', fromNode: src.pod.node }) : undefined;
              const { chosen } = chooseEndpoint(svc, sel?.candidates ?? [], src.pod.ip, `${src.pod.ip}>${host}`);
              if (!chosen) {
                path.add({ component: 'dns', node: src.pod.node, action: `${host}: no ready endpoint, so no address`, verdict: 'no-route', refs: [{ kind: 'Service', namespace: svc.namespace, name: svc.name }], detail: sel?.detail ?? 'the Service has no ports' });
                return path.end('no-route');
              }
              return deliver(ctx, path, src, chosen.ip, typeof port === 'number' ? port : chosen.port, protocol, { http });
            }
            return deliver(ctx, path, src, svc.clusterIP, sp?.port ?? (typeof port === 'number' ? port : 0), protocol, { http });
          }
          if (found.pod) {
            path.add({ component: 'dns', node: src.pod.node, action: `${host} → A ${found.pod.ip}`, verdict: 'pass', refs: [{ kind: 'Pod', namespace: found.pod.namespace, name: found.pod.name }], detail: 'a pod record' });
            return deliver(ctx, path, src, found.pod.ip, typeof port === 'number' ? port : 0, protocol, { http });
          }
        }
        if (host.endsWith(`.${ctx.domain}`)) {
          path.add({ component: 'dns', node: src.pod.node, action: `${host}: NXDOMAIN`, verdict: 'no-route', detail: 'no Service or pod has this name' });
          return path.end('no-route');
        }
      }
      if (typeof port !== 'number') throw usage(`${dstText}: a named port is only meaningful for a Service`);
      const out = outsideDns(ctx, host, port, opts.resolve ?? []);
      if (!out) {
        path.add({ component: 'dns', action: `${host}: NXDOMAIN`, verdict: 'no-route', detail: 'the outside world\'s DNS knows only the hosts of the Ingresses (their controller\'s address); use --resolve NAME:PORT:ADDR to point a name somewhere' });
        return path.end('no-route');
      }
      path.add({ component: 'dns', action: `${host} → ${out.ip}${out.port ? ` (port ${out.port})` : ''}`, verdict: 'pass', refs: out.refs, detail: out.why });
      return deliver(ctx, path, src, out.ip, out.port ?? port, protocol, { http });
    }
  }
}
