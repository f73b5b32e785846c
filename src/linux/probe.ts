/**
 * The Linux plane's side of the Dataplane contract: a Connection is made for real from its source's
 * network namespace (a pod's, a node's, or the outside world's), names resolved by the resolver
 * that namespace really has, and what happened is read back — who answered, the client address it
 * saw, the HTTP status and certificate — as a plane that cannot see inside the kernel observes it.
 */
import { servicePort } from '../model/endpoints.js';
import { workloadPod, type Connection, type Hop, type Probed } from '../model/dataplane.js';
import type { NetworkState, PodState } from '../model/types.js';
import type { SocketSpec } from './binder.js';
import type { ClusterNames } from './names.js';
import { socketsOf, type AgentProbe, type ProbeOutcome, type ProbeResolver } from './probe-agent.js';
import { EXTERNAL_CLIENT, externalFabricIp } from './topology.js';

/** Where a probe starts and how it resolves names. */
interface Start {
  readonly netns: string;
  readonly address?: string;
  readonly resolver: ProbeResolver;
  readonly who: string;
}

/** A connection planned as an agent probe, or why this plane cannot make it. */
export type Planned = PlannedProbe | { readonly skipped: string };

/** A connection planned as an agent probe. */
export interface PlannedProbe {
  readonly probe: AgentProbe;
  readonly start: Start;
  readonly sockets: readonly SocketSpec[];
}

/** The resolver a pod has (the kubelet's resolv.conf for ClusterFirst). */
export function podResolver(state: NetworkState, namespace: string): ProbeResolver {
  const dns = state.services.find((s) => s.namespace === 'kube-system' && s.name === 'kube-dns');
  const domain = state.cluster.clusterDomain;
  return { nameserver: dns?.clusterIP ?? '127.0.0.1', search: [`${namespace}.svc.${domain}`, `svc.${domain}`, domain], ndots: 5 };
}

/** The outside world's resolver: its DNS server in the `external` namespace. */
export function outsideResolver(fromNode: boolean, nodeCIDR: string): ProbeResolver {
  return { nameserver: fromNode ? externalFabricIp(nodeCIDR) : '127.0.0.1', search: [], ndots: 1 };
}

function startOf(state: NetworkState, names: ClusterNames, c: Connection): Start | string {
  const podStart = (pod: PodState | undefined, what: string): Start | string =>
    pod && pod.ip !== '' ? { netns: names.pod(pod.namespace, pod.name), resolver: podResolver(state, pod.namespace), who: `pod ${pod.namespace}/${pod.name}` } : `${what} has no running pod`;
  const from = c.from;
  switch (from.kind) {
    case 'pod':
      return podStart(state.pods.find((p) => p.namespace === from.namespace && p.name === from.name), `pod ${from.namespace}/${from.name}`);
    case 'workload':
      return podStart(workloadPod(state.pods, from), `${from.workloadKind} ${from.namespace}/${from.name}`);
    case 'node': {
      const node = state.nodes.find((n) => n.name === from.name);
      return node ? { netns: names.node(node.name), resolver: outsideResolver(true, state.cluster.nodeCIDR), who: `node ${node.name}` } : `node ${from.name} does not exist`;
    }
    case 'ip': {
      const pod = state.pods.find((p) => p.ip === from.ip && !p.hostNetwork);
      if (pod) return podStart(pod, `pod ${pod.namespace}/${pod.name}`);
      const node = state.nodes.find((n) => n.ip === from.ip);
      if (node) return { netns: names.node(node.name), resolver: outsideResolver(true, state.cluster.nodeCIDR), who: `node ${node.name}` };
      return { netns: names.external, address: from.ip, resolver: outsideResolver(false, state.cluster.nodeCIDR), who: `${from.ip} outside the cluster` };
    }
    case 'external':
      return { netns: names.external, ...(from.ip && from.ip !== EXTERNAL_CLIENT.ip ? { address: from.ip } : {}), resolver: outsideResolver(false, state.cluster.nodeCIDR), who: `${from.ip ?? EXTERNAL_CLIENT.ip} outside the cluster` };
  }
}

/** Plans one connection as an agent probe. */
export function planProbe(state: NetworkState, names: ClusterNames, c: Connection, timeoutMs: number): Planned {
  const protocol = c.protocol ?? 'TCP';
  if (protocol === 'SCTP') return { skipped: 'SCTP: this kernel has no SCTP module and Node has no SCTP sockets' };
  const start = startOf(state, names, c);
  if (typeof start === 'string') return { skipped: start };
  const to = c.to;
  let host: string;
  let port: number;
  let http: AgentProbe['http'];
  switch (to.kind) {
    case 'ip':
      host = to.ip;
      port = to.port;
      break;
    case 'pod': {
      const pod = state.pods.find((p) => p.namespace === to.namespace && p.name === to.name);
      const p = typeof to.port === 'number' ? to.port : pod?.ports.find((x) => x.name === to.port)?.containerPort;
      if (!pod || p === undefined) return { skipped: `pod ${to.namespace}/${to.name} or its port ${String(to.port)} does not exist` };
      host = pod.ip;
      port = p;
      break;
    }
    case 'service': {
      const svc = state.services.find((s) => s.namespace === to.namespace && s.name === to.name);
      if (!svc) return { skipped: `service ${to.namespace}/${to.name} does not exist` };
      const sp = servicePort(svc, to.port, protocol);
      host = svc.headless || svc.clusterIP === '' ? `${svc.name}.${svc.namespace}.svc.${state.cluster.clusterDomain}` : svc.clusterIP;
      port = sp?.port ?? (typeof to.port === 'number' ? to.port : 0);
      if (port === 0) return { skipped: `service ${to.namespace}/${to.name} has no port named ${String(to.port)}` };
      if (svc.headless && typeof to.port === 'string') {
        // A headless Service's named port is its endpoints' port (what its SRV record gives).
        const ports = new Set(state.endpointSlices.filter((e) => e.namespace === svc.namespace && e.service === svc.name).flatMap((e) => e.ports.filter((p) => p.name === sp?.name && p.protocol === protocol).map((p) => p.port)));
        const only = ports.size === 1 ? [...ports][0] : undefined;
        if (only === undefined) return { skipped: `the endpoints of ${to.namespace}/${to.name}'s port ${to.port} ${ports.size === 0 ? 'are none' : 'differ'}: an SRV lookup would be needed` };
        port = only;
      }
      break;
    }
    case 'name':
      if (typeof to.port !== 'number') return { skipped: 'a named port of a DNS name needs an SRV lookup, which probes do not make' };
      host = to.name;
      port = to.port;
      break;
    case 'url':
      host = to.host;
      port = to.port;
      http = { scheme: to.scheme, method: c.method ?? 'GET', path: to.path || '/', host: to.host, headers: c.headers ?? {} };
      break;
  }
  const overridden = c.resolve?.find((r) => r.name === host && (r.port === undefined || r.port === port));
  if (overridden) host = overridden.address;
  const probe: AgentProbe = { protocol: protocol === 'UDP' ? 'udp' : 'tcp', host, port, timeoutMs, send: 'whoami', resolver: start.resolver, ...(http ? { http } : {}) };
  const sockets: SocketSpec[] = socketsOf(probe).map((kind) => (kind === 'main' ? { netns: start.netns, protocol: probe.protocol, port: 0, listen: false, ...(start.address ? { address: start.address } : {}) } : { netns: start.netns, protocol: 'udp', port: 0, listen: false, ...(start.address ? { address: start.address } : {}) }));
  return { probe, start, sockets };
}

function parseJson(text: string | undefined): { pod?: string; client?: string; forwardedFor?: string } | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as { pod?: string; client?: string; forwardedFor?: string } | null;
    return typeof v === 'object' && v !== null ? v : undefined;
  } catch {
    return undefined;
  }
}

const FAILURES: Readonly<Record<string, Probed['failure']>> = { timeout: 'timeout', 'dns-timeout': 'timeout', ECONNREFUSED: 'refused', EHOSTUNREACH: 'unreachable', ENETUNREACH: 'unreachable', nxdomain: 'nxdomain' };

/** What the plane observed of one probe. */
export function observed(planned: PlannedProbe, o: ProbeOutcome): Probed {
  const { probe, start } = planned;
  const hops: Hop[] = [{ component: 'client', action: `from ${start.who}`, verdict: 'info', refs: [], detail: `a real socket in network namespace ${start.netns}` }];
  if (o.resolved) hops.push({ component: 'dns', action: `${probe.host} → A ${o.resolved}`, verdict: 'pass', refs: [], detail: `answered by ${probe.resolver?.nameserver ?? ''}` });
  const target = `${o.resolved ?? probe.host}:${String(probe.port)}/${probe.protocol.toUpperCase()}`;
  if (!o.connected || (o.error && !o.http && !o.reply)) {
    const failure = FAILURES[o.error ?? ''] ?? 'error';
    const dns = o.error === 'nxdomain' || o.error === 'dns-timeout';
    hops.push({ component: dns ? 'dns' : 'kernel', action: dns ? `${probe.host}: ${o.error === 'nxdomain' ? 'NXDOMAIN' : 'no answer from the resolver'}` : `${target}: ${o.error ?? 'failed'}`, verdict: 'no-route', refs: [], detail: failure === 'timeout' ? 'nothing answered in time: a drop on the way (a policy, a route, a stopped node)' : `the kernel said ${o.error ?? ''}` });
    return { plane: 'linux', ...(failure ? { failure } : {}), hops };
  }
  if (o.http) {
    const reply = parseJson(o.http.body);
    const pod = o.http.headers['x-kwire-pod'] ?? reply?.pod;
    const cert = o.http.certificate;
    const certificateNames = cert ? cert.san.split(',').map((s) => s.trim().replace(/^DNS:/, '')).filter((s) => s !== '') : undefined;
    const base = { plane: 'linux' as const, status: o.http.status, ...(o.http.headers.location ? { location: o.http.headers.location } : {}), ...(certificateNames ? { certificateNames, certificateSubject: cert?.subject ?? '' } : {}) };
    if (o.http.status === 200 && pod) {
      hops.push({ component: 'pod', action: `${probe.http?.method ?? 'GET'} ${probe.http?.path ?? '/'} answered by ${pod}`, verdict: 'pass', refs: [], detail: `the pod saw the request from ${reply?.client ?? '?'}${reply?.forwardedFor ? ` (X-Forwarded-For: ${reply.forwardedFor})` : ''}` });
      return { ...base, verdict: 'delivered', answeredBy: pod, ...(reply?.forwardedFor ?? reply?.client ? { seenClient: reply?.forwardedFor ?? reply?.client } : {}), hops };
    }
    hops.push({ component: 'ingress-controller', action: `answered ${String(o.http.status)}`, verdict: 'answer', refs: [], detail: o.http.headers.location ? `Location: ${o.http.headers.location}` : 'no pod answered' });
    return { ...base, verdict: 'answered', hops };
  }
  const reply = parseJson(o.reply);
  if (reply?.pod) {
    hops.push({ component: reply.pod.startsWith('node/') ? 'node' : 'pod', action: `${target} answered by ${reply.pod}`, verdict: 'pass', refs: [], detail: `it saw the connection from ${reply.client ?? '?'}` });
    return { plane: 'linux', verdict: 'delivered', answeredBy: reply.pod, ...(reply.client ? { seenClient: reply.client } : {}), hops };
  }
  hops.push({ component: 'kernel', action: `${target}: connected, but no answer`, verdict: 'info', refs: [], detail: o.reply ?? '' });
  return { plane: 'linux', failure: 'error', hops };
}
