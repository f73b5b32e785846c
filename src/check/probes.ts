/**
 * The questions the differential suite asks of a cluster: connections of every kind `kwire trace`
 * answers, chosen deterministically from a state. Each probe names what it reaches symbolically
 * (a pod, a Service port, a node's NodePort), so the same probe can be asked again of a smaller
 * cluster while a reproducer is minimized, where addresses may have moved.
 */
import type { Protocol } from '../api/types.js';
import type { Connection, ConnectionSource } from '../model/dataplane.js';
import type { NetworkState, PodState, ServiceState } from '../model/types.js';
import { OTHER_EXTERNAL_CLIENT } from './generate.js';
import { createRandom, mixSeed, type Random } from './random.js';

/** Every kind of probe, in the order probes are taken from them. */
export const PROBE_KINDS = [
  'pod-to-pod-tcp',
  'pod-to-pod-udp',
  'pod-to-service',
  'pod-to-service-dns',
  'pod-to-apiserver',
  'node-to-nodeport-own',
  'node-to-nodeport-other',
  'pod-to-nodeport',
  'pod-to-lb',
  'pod-to-node',
  'external-to-nodeport',
  'external-to-lb-l2',
  'external-to-lb-bgp',
  'external-to-lb-provider',
  'external-to-cluster-ip',
  'external-to-pod-ip',
  'external-to-ingress-http',
  'external-to-ingress-https',
  'pod-to-ingress',
] as const;

/** A kind of probe. */
export type ProbeKind = (typeof PROBE_KINDS)[number];

/** Where a probe starts, by name. */
export type SourceRef = { readonly kind: 'pod'; readonly namespace: string; readonly name: string } | { readonly kind: 'node'; readonly name: string } | { readonly kind: 'external'; readonly ip?: string };

/** What a probe reaches, by name; resolved to an address against a state. */
export type TargetRef =
  | { readonly kind: 'pod-ip'; readonly namespace: string; readonly name: string; readonly port: number }
  | { readonly kind: 'service'; readonly namespace: string; readonly name: string; readonly port: number | string }
  | { readonly kind: 'service-name'; readonly name: string; readonly port: number }
  | { readonly kind: 'url'; readonly scheme: 'http' | 'https'; readonly host: string; readonly port: number; readonly path: string }
  | { readonly kind: 'node-port'; readonly node: string; readonly namespace: string; readonly name: string; readonly port: number; readonly protocol: Protocol }
  | { readonly kind: 'lb-ip'; readonly namespace: string; readonly name: string; readonly port: number }
  | { readonly kind: 'cluster-ip'; readonly namespace: string; readonly name: string; readonly port: number }
  | { readonly kind: 'node-ip'; readonly node: string; readonly port: number };

/** One probe: its kind, and the connection by name. */
export interface ProbeSpec {
  readonly kind: ProbeKind;
  readonly from: SourceRef;
  readonly to: TargetRef;
  readonly protocol: Protocol;
}

/** A probe with its connection resolved against a state. */
export interface Probe {
  readonly spec: ProbeSpec;
  readonly connection: Connection;
}

/** Options of `probesOf`. */
export interface ProbeOptions {
  /** @default 40 */
  readonly max?: number;
  /** Seed of the draws (the cluster's). @default 0 */
  readonly seed?: number;
}

function findService(state: NetworkState, namespace: string, name: string): ServiceState | undefined {
  return state.services.find((s) => s.namespace === namespace && s.name === name);
}

function findPod(state: NetworkState, namespace: string, name: string): PodState | undefined {
  return state.pods.find((p) => p.namespace === namespace && p.name === name);
}

function sourceOf(state: NetworkState, ref: SourceRef): ConnectionSource | undefined {
  switch (ref.kind) {
    case 'pod':
      return findPod(state, ref.namespace, ref.name)?.ip ? { kind: 'pod', namespace: ref.namespace, name: ref.name } : undefined;
    case 'node':
      return state.nodes.some((n) => n.name === ref.name) ? { kind: 'node', name: ref.name } : undefined;
    case 'external':
      return ref.ip ? { kind: 'ip', ip: ref.ip } : { kind: 'external' };
  }
}

/** The connection a probe makes in a state, or undefined when what it names is not there. */
export function connectionOf(state: NetworkState, spec: ProbeSpec): Connection | undefined {
  const from = sourceOf(state, spec.from);
  if (!from) return undefined;
  const to = spec.to;
  const protocol = spec.protocol === 'TCP' ? {} : { protocol: spec.protocol };
  switch (to.kind) {
    case 'pod-ip': {
      const pod = findPod(state, to.namespace, to.name);
      return pod?.ip ? { from, to: { kind: 'ip', ip: pod.ip, port: to.port }, ...protocol } : undefined;
    }
    case 'service':
      return findService(state, to.namespace, to.name) ? { from, to: { kind: 'service', namespace: to.namespace, name: to.name, port: to.port }, ...protocol } : undefined;
    case 'service-name':
      return { from, to: { kind: 'name', name: to.name, port: to.port }, ...protocol };
    case 'url':
      return { from, to: { kind: 'url', scheme: to.scheme, host: to.host, port: to.port, path: to.path }, ...protocol };
    case 'node-port': {
      const node = state.nodes.find((n) => n.name === to.node);
      const nodePort = findService(state, to.namespace, to.name)?.ports.find((p) => p.port === to.port && p.protocol === spec.protocol)?.nodePort;
      return node && nodePort ? { from, to: { kind: 'ip', ip: node.ip, port: nodePort }, ...protocol } : undefined;
    }
    case 'lb-ip': {
      const ip = findService(state, to.namespace, to.name)?.loadBalancerIngress[0]?.ip;
      return ip ? { from, to: { kind: 'ip', ip, port: to.port }, ...protocol } : undefined;
    }
    case 'node-ip': {
      const node = state.nodes.find((n) => n.name === to.node);
      return node ? { from, to: { kind: 'ip', ip: node.ip, port: to.port }, ...protocol } : undefined;
    }
    case 'cluster-ip': {
      const svc = findService(state, to.namespace, to.name);
      return svc && !svc.headless && svc.clusterIP !== '' ? { from, to: { kind: 'ip', ip: svc.clusterIP, port: to.port }, ...protocol } : undefined;
    }
  }
}

/** How the outside world reaches a LoadBalancer Service's address. */
function lbKind(state: NetworkState, svc: ServiceState): ProbeKind {
  if (svc.loadBalancerBy !== 'metallb') return 'external-to-lb-provider';
  const mode = state.metallb?.announcements.byService.get(`${svc.namespace}/${svc.name}`)?.[0]?.mode;
  return mode === 'bgp' ? 'external-to-lb-bgp' : 'external-to-lb-l2';
}

function externalSource(r: Random): SourceRef {
  return r.chance(0.2) ? { kind: 'external', ip: OTHER_EXTERNAL_CLIENT } : { kind: 'external' };
}

/** The URLs of the Ingresses: each rule's paths (and one no rule matches), HTTPS for TLS hosts and sometimes others. */
function ingressUrls(state: NetworkState, r: Random): { url: TargetRef & { kind: 'url' }; tls: boolean }[] {
  const out: { url: TargetRef & { kind: 'url' }; tls: boolean }[] = [];
  for (const ing of state.ingresses) {
    if (!ing.controller) continue;
    const tlsHosts = new Set((ing.spec.tls ?? []).flatMap((t) => t.hosts ?? []));
    for (const rule of ing.spec.rules ?? []) {
      if (!rule.host) continue;
      const host = rule.host.startsWith('*.') ? `www${rule.host.slice(1)}` : rule.host;
      const paths = (rule.http?.paths ?? []).map((p) => (p.pathType === 'Exact' ? (p.path ?? '/') : `${p.path === '/' ? '' : (p.path ?? '')}/${r.pick(['', 'x', 'a/b'])}`));
      for (const path of [...paths, '/nothing-here']) {
        out.push({ url: { kind: 'url', scheme: 'http', host, port: 80, path }, tls: false });
        if (tlsHosts.has(rule.host) || r.chance(0.25)) out.push({ url: { kind: 'url', scheme: 'https', host, port: 443, path }, tls: true });
      }
    }
  }
  return out;
}

/** Every candidate probe of a state, by kind. */
function candidates(state: NetworkState, r: Random): Map<ProbeKind, ProbeSpec[]> {
  const out = new Map<ProbeKind, ProbeSpec[]>(PROBE_KINDS.map((k) => [k, []]));
  const add = (spec: ProbeSpec): void => {
    out.get(spec.kind)?.push(spec);
  };
  const pods = state.pods.filter((p) => !p.addon && p.ip !== '' && !p.hostNetwork);
  if (pods.length === 0) return out;
  const podRef = (p: PodState): SourceRef => ({ kind: 'pod', namespace: p.namespace, name: p.name });
  const anyPod = (): PodState => r.pick(pods);
  for (const dst of pods) {
    for (const port of dst.ports) {
      if (port.protocol === 'SCTP') continue;
      const src = anyPod();
      add({ kind: port.protocol === 'UDP' ? 'pod-to-pod-udp' : 'pod-to-pod-tcp', from: podRef(src), to: { kind: 'pod-ip', namespace: dst.namespace, name: dst.name, port: port.containerPort }, protocol: port.protocol });
      add({ kind: 'external-to-pod-ip', from: externalSource(r), to: { kind: 'pod-ip', namespace: dst.namespace, name: dst.name, port: port.containerPort }, protocol: port.protocol });
    }
  }
  const services = state.services.filter((s) => !s.addon && s.type !== 'ExternalName');
  for (const svc of services) {
    for (const sp of svc.ports) {
      if (sp.protocol === 'SCTP') continue;
      const src = anyPod();
      add({ kind: 'pod-to-service', from: podRef(src), to: { kind: 'service', namespace: svc.namespace, name: svc.name, port: r.chance(0.2) && sp.name ? sp.name : sp.port }, protocol: sp.protocol });
      const dnsName = src.namespace === svc.namespace && r.chance(0.4) ? svc.name : r.chance(0.5) ? `${svc.name}.${svc.namespace}` : `${svc.name}.${svc.namespace}.svc.${state.cluster.clusterDomain}`;
      add({ kind: 'pod-to-service-dns', from: podRef(anyPod()), to: { kind: 'service-name', name: dnsName, port: sp.port }, protocol: sp.protocol });
      if (!svc.headless) add({ kind: 'external-to-cluster-ip', from: externalSource(r), to: { kind: 'cluster-ip', namespace: svc.namespace, name: svc.name, port: sp.port }, protocol: sp.protocol });
      if (sp.nodePort) {
        const nodes = r.shuffle(state.nodes);
        const [own, other] = nodes;
        if (own) add({ kind: 'node-to-nodeport-own', from: { kind: 'node', name: own.name }, to: { kind: 'node-port', node: own.name, namespace: svc.namespace, name: svc.name, port: sp.port, protocol: sp.protocol }, protocol: sp.protocol });
        if (own && other) add({ kind: 'node-to-nodeport-other', from: { kind: 'node', name: own.name }, to: { kind: 'node-port', node: other.name, namespace: svc.namespace, name: svc.name, port: sp.port, protocol: sp.protocol }, protocol: sp.protocol });
        const at = r.pick(nodes);
        add({ kind: 'pod-to-nodeport', from: podRef(anyPod()), to: { kind: 'node-port', node: at.name, namespace: svc.namespace, name: svc.name, port: sp.port, protocol: sp.protocol }, protocol: sp.protocol });
        for (const n of nodes) add({ kind: 'external-to-nodeport', from: externalSource(r), to: { kind: 'node-port', node: n.name, namespace: svc.namespace, name: svc.name, port: sp.port, protocol: sp.protocol }, protocol: sp.protocol });
      }
      if (svc.type === 'LoadBalancer' && svc.loadBalancerIngress.length > 0) {
        add({ kind: lbKind(state, svc), from: externalSource(r), to: { kind: 'lb-ip', namespace: svc.namespace, name: svc.name, port: sp.port }, protocol: sp.protocol });
        add({ kind: 'pod-to-lb', from: podRef(anyPod()), to: { kind: 'lb-ip', namespace: svc.namespace, name: svc.name, port: sp.port }, protocol: sp.protocol });
      }
    }
  }
  // A node's own address: the API server on control-plane nodes, nothing on other ports.
  for (const node of state.nodes) add({ kind: 'pod-to-node', from: podRef(anyPod()), to: { kind: 'node-ip', node: node.name, port: r.pick([6443, 10250]) }, protocol: 'TCP' });
  add({ kind: 'pod-to-apiserver', from: podRef(anyPod()), to: { kind: 'url', scheme: 'https', host: 'kubernetes.default', port: 443, path: '/' }, protocol: 'TCP' });
  for (const { url, tls } of ingressUrls(state, r)) {
    add({ kind: tls ? 'external-to-ingress-https' : 'external-to-ingress-http', from: externalSource(r), to: url, protocol: 'TCP' });
    if (r.chance(0.5)) add({ kind: 'pod-to-ingress', from: podRef(anyPod()), to: url, protocol: 'TCP' });
  }
  return out;
}

/**
 * The probes of a state: every kind in turn (a shuffled candidate of each), until `max` probes or
 * no candidate is left. Deterministic for a state and seed.
 */
export function probesOf(state: NetworkState, opts: ProbeOptions = {}): Probe[] {
  const r: Random = createRandom(mixSeed('kwire-probes', opts.seed ?? 0));
  const max = opts.max ?? 40;
  const queues = [...candidates(state, r)].map(([kind, list]) => ({ kind, list: r.shuffle(list) }));
  const out: Probe[] = [];
  const seen = new Set<string>();
  while (out.length < max && queues.some((q) => q.list.length > 0)) {
    for (const q of queues) {
      if (out.length >= max) break;
      for (let spec = q.list.shift(); spec; spec = q.list.shift()) {
        const connection = connectionOf(state, spec);
        const key = JSON.stringify(connection);
        if (!connection || seen.has(key)) continue;
        seen.add(key);
        out.push({ spec, connection });
        break;
      }
    }
  }
  return out;
}
