/**
 * Names in a trace: the cluster's DNS as a pod's resolver asks it (the query itself is a UDP
 * connection to a kube-dns pod that NetworkPolicies may drop), and the outside world's DNS, which
 * knows only the hosts the ingress controllers serve.
 */
import { evaluateConnection } from '../../model/policy/index.js';
import { chooseEndpoint, selectEndpoints, servicePort } from '../../model/endpoints.js';
import type { ResolveOverride, TraceRef } from '../../model/dataplane.js';
import { outsideAddress, type OutsideAnswer } from '../../model/outside-dns.js';
import type { PodState, ServiceState } from '../../model/types.js';
import type { Ctx, Walk } from './context.js';
import { judge } from './policy.js';

/** What a cluster name resolves to. */
export interface ClusterAnswer {
  readonly svc?: ServiceState;
  readonly pod?: PodState;
  readonly fqdn: string;
}

/** Resolves a cluster DNS name from a pod: `svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.<domain>`, pod A records. */
export function clusterDns(ctx: Ctx, name: string, fromNs: string): ClusterAnswer | undefined {
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

/**
 * The pod's DNS query: UDP 53 to the kube-dns Service, DNATed to one of its pods, where
 * NetworkPolicies apply like to any connection. Returns why the name cannot be resolved, if so.
 */
export function dnsQuery(ctx: Ctx, walk: Walk, pod: PodState, name: string): { ok: true; note: string } | { ok: false; verdict: 'denied' | 'no-route'; hint?: string } {
  const dns = ctx.dns;
  const udp = dns ? servicePort(dns, 53, 'UDP') : undefined;
  if (!dns || !udp || dns.headless) {
    walk.add({ component: 'dns', node: pod.node, action: `${name}: no answer`, verdict: 'no-route', detail: 'the cluster has no kube-system/kube-dns Service with UDP port 53, so the pod has no resolver' });
    return { ok: false, verdict: 'no-route' };
  }
  const ref: TraceRef = { kind: 'Service', namespace: dns.namespace, name: dns.name };
  const sel = selectEndpoints(ctx.state, dns, udp, { kind: 'cluster', fromNode: pod.node });
  const preferred = chooseEndpoint(dns, sel.candidates, pod.ip, `${pod.ip}>dns`).chosen;
  const chosen = sel.candidates[walk.draw(sel.candidates.length, preferred ? sel.candidates.indexOf(preferred) : 0)];
  if (!chosen) {
    walk.add({ component: 'dns', node: pod.node, action: `${name}: the query to ${dns.clusterIP} gets no answer`, verdict: 'no-route', refs: [ref], detail: `kube-dns: ${sel.detail}; the resolver times out` });
    return { ok: false, verdict: 'no-route' };
  }
  const server = chosen.pod ?? chosen.ip;
  const v = judge(ctx, walk, pod, server, 'UDP', chosen.port, undefined, { quiet: true });
  if (!v.allowed) {
    walk.add({ component: 'dns', node: pod.node, action: `${name}: the DNS query (UDP ${chosen.port} to ${typeof server === 'string' ? server : `${server.namespace}/${server.name}`}) is dropped`, verdict: 'deny', refs: [ref], detail: 'the name never resolves: the resolver times out and the connection is never made' });
    return { ok: false, verdict: 'denied', hint: v.hint ? `allow DNS: ${v.hint}` : 'allow egress to the kube-dns pods on UDP and TCP port 53' };
  }
  const tcp = servicePort(dns, 53, 'TCP');
  const tcpAllowed = tcp === undefined || !chosen.pod || evaluateConnection(ctx.state.policies, pod, chosen.pod, 'TCP', chosen.port).allowed;
  const isolated = ctx.state.policies.enforced && v.checked;
  const note = `${isolated ? `the query (UDP ${chosen.port} to ${chosen.pod ? `${chosen.pod.namespace}/${chosen.pod.name}` : chosen.ip}) is allowed by the policies on the way` : `asked kube-dns at ${dns.clusterIP}`}${tcpAllowed ? '' : '; TCP 53 is not allowed, so answers too long for UDP fail'}`;
  return { ok: true, note };
}

/** The outside world's DNS, with curl-style `--resolve` overrides first. */
export function outsideDns(ctx: Ctx, host: string, port: number, resolve: readonly ResolveOverride[]): OutsideAnswer | undefined {
  for (const r of resolve) {
    if (r.name === host && (r.port === undefined || r.port === port)) return { ip: r.address, why: `--resolve ${r.name}${r.port === undefined ? '' : `:${r.port}`}:${r.address}`, refs: [] };
  }
  return outsideAddress(ctx.state, host, port);
}
