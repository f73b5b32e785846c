/**
 * Services: ClusterIP and NodePort allocation with the upstream static/dynamic bands, headless and
 * ExternalName Services, and EndpointSlices from selectors (named targetPorts resolved per pod).
 * Allocation is deterministic: fixed values first in input order, then a hash of the Service's
 * name picks a start in the dynamic band and the allocator probes upward from there.
 */
import type { Problem } from '../../api/problems.js';
import { formatPath, type FieldPath, type KubeObject, type Protocol, type ServicePortSpec, type ServiceSpec, type SourcePos } from '../../api/types.js';
import { cidrContains, fnv32a, formatIp, parseCidr, parseIp, type Cidr } from '../../model/ip.js';
import type { ClusterConfig, EndpointSliceState, EndpointState, PodState, ServicePortState, ServiceState } from '../../model/types.js';
import { ADDON_ANNOTATION } from '../cluster/index.js';
import { compileSelector } from '../../model/selectors.js';

/** Endpoints per slice, as the EndpointSlice controller's default `--max-endpoints-per-slice`. */
export const MAX_ENDPOINTS_PER_SLICE = 100;

/** The static band size of a service CIDR: `min(max(16, size/16), 256)` (KEP-3070). */
export function clusterIPStaticBand(size: bigint): bigint {
  const b = size / 16n;
  return b < 16n ? 16n : b > 256n ? 256n : b;
}

/** The static band size of a NodePort range: `min(max(16, size/32), 128)`. */
export function nodePortStaticBand(size: number): number {
  return Math.min(Math.max(16, Math.floor(size / 32)), 128);
}

/** Allocates from a numeric range with a static lower band and a dynamic upper band. */
class BandAllocator {
  private readonly used = new Map<bigint, string>();
  constructor(
    private readonly first: bigint,
    private readonly last: bigint,
    private readonly staticBand: bigint,
  ) {}

  /** Reserves a given value; returns the owner when already taken. */
  reserve(v: bigint, owner: string): string | undefined {
    const prev = this.used.get(v);
    if (prev !== undefined) return prev;
    this.used.set(v, owner);
    return undefined;
  }

  contains(v: bigint): boolean {
    return v >= this.first && v <= this.last;
  }

  /** Picks a free value: upper band first (hash-chosen start, probing up), then the lower band. */
  allocate(owner: string): bigint | undefined {
    const upperFirst = this.first + this.staticBand;
    const tryBand = (lo: bigint, hi: bigint): bigint | undefined => {
      if (hi < lo) return undefined;
      const size = hi - lo + 1n;
      const start = BigInt(fnv32a(owner)) % size;
      for (let i = 0n; i < size; i++) {
        const v = lo + ((start + i) % size);
        if (!this.used.has(v)) {
          this.used.set(v, owner);
          return v;
        }
      }
      return undefined;
    };
    return tryBand(upperFirst, this.last) ?? tryBand(this.first, upperFirst - 1n);
  }
}

/** Inputs of Service reconciliation. */
export interface ServiceInput {
  readonly objects: readonly KubeObject[];
  readonly pods: readonly PodState[];
  readonly cluster: ClusterConfig;
  readonly sourceOf: (o: KubeObject) => SourcePos | undefined;
  readonly locate?: (o: KubeObject, path: FieldPath) => SourcePos | undefined;
}

/** Allocates ClusterIPs and NodePorts and resolves ports; LoadBalancer addresses come later. */
export function reconcileServices(input: ServiceInput): { services: ServiceState[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const problemFor = (o: KubeObject, path: FieldPath, message: string, hint?: string, code = 'KW-SVC'): Problem => ({
    code,
    severity: 'error',
    message,
    hint,
    path: formatPath(path),
    source: input.locate?.(o, path) ?? input.sourceOf(o),
    object: { kind: 'Service', namespace: o.metadata.namespace, name: o.metadata.name },
  });
  const svcObjs = input.objects.filter((o) => o.kind === 'Service');
  const range = parseCidr(input.cluster.serviceCIDR) as Cidr;
  const [first, last] = range.range;
  const ips = new BandAllocator(first + 1n, last - 1n, clusterIPStaticBand(last - first + 1n));
  const [npLo, npHi] = input.cluster.nodePortRange;
  const ports = new BandAllocator(BigInt(npLo), BigInt(npHi), BigInt(nodePortStaticBand(npHi - npLo + 1)));
  const rejected = new Set<KubeObject>();
  const key = (o: KubeObject): string => `${o.metadata.namespace}/${o.metadata.name}`;
  // Fixed ClusterIPs and NodePorts first, in input order: a later duplicate is refused as the apiserver would.
  for (const o of svcObjs) {
    const spec = (o.spec ?? {}) as ServiceSpec;
    const ip = spec.clusterIP;
    if (ip && ip !== 'None' && spec.type !== 'ExternalName') {
      const v = parseIp(ip);
      if (!v || !cidrContains(range, v)) {
        problems.push(problemFor(o, ['spec', 'clusterIP'], `Invalid value: "${ip}": provided IP is not in the valid range. The range of valid IPs is ${input.cluster.serviceCIDR}`, 'remove spec.clusterIP to get one allocated'));
        rejected.add(o);
        continue;
      }
      const prev = ips.reserve(v.value, key(o));
      if (prev) {
        problems.push(problemFor(o, ['spec', 'clusterIP'], `Invalid value: "${ip}": provided IP is already allocated (to Service ${prev})`, 'choose another address or remove spec.clusterIP', 'KW-SVC-CONFLICT'));
        rejected.add(o);
        continue;
      }
    }
    (spec.ports ?? []).forEach((p, i) => {
      if (!p.nodePort) return;
      if (p.nodePort < npLo || p.nodePort > npHi) {
        problems.push(problemFor(o, ['spec', 'ports', i, 'nodePort'], `Invalid value: ${p.nodePort}: provided port is not in the valid range. The range of valid ports is ${npLo}-${npHi}`, `pick a port between ${npLo} and ${npHi}, or omit nodePort`));
        rejected.add(o);
        return;
      }
      const prev = ports.reserve(BigInt(p.nodePort), `${key(o)}:${p.protocol ?? 'TCP'}`);
      if (prev && prev !== `${key(o)}:${p.protocol ?? 'TCP'}`) {
        problems.push(problemFor(o, ['spec', 'ports', i, 'nodePort'], `Invalid value: ${p.nodePort}: provided port is already allocated (to Service ${prev.replace(/:\w+$/, '')})`, 'choose another port or omit nodePort', 'KW-SVC-CONFLICT'));
        rejected.add(o);
      }
    });
  }
  const services: ServiceState[] = [];
  for (const o of svcObjs) {
    if (rejected.has(o)) continue;
    const spec = (o.spec ?? {}) as ServiceSpec;
    const type = spec.type ?? 'ClusterIP';
    let clusterIP = '';
    if (type !== 'ExternalName') {
      if (spec.clusterIP === 'None') clusterIP = 'None';
      else if (spec.clusterIP) clusterIP = spec.clusterIP;
      else {
        const v = ips.allocate(key(o));
        if (v === undefined) {
          problems.push(problemFor(o, ['spec', 'clusterIP'], `no free address left in the service CIDR ${input.cluster.serviceCIDR}`));
          continue;
        }
        clusterIP = formatIp(range.family, v);
      }
    }
    const wantsNodePorts = type === 'NodePort' || (type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
    const portStates: ServicePortState[] = (spec.ports ?? []).map((p: ServicePortSpec) => {
      const protocol: Protocol = p.protocol ?? 'TCP';
      let nodePort = p.nodePort || undefined;
      if (!nodePort && wantsNodePorts) {
        const v = ports.allocate(`${key(o)}:${protocol}:${p.port}`);
        nodePort = v === undefined ? undefined : Number(v);
      }
      if (type === 'ClusterIP' || type === 'ExternalName') nodePort = undefined;
      return { name: p.name ?? '', protocol, port: p.port, targetPort: p.targetPort ?? p.port, nodePort, appProtocol: p.appProtocol };
    });
    const etp = spec.externalTrafficPolicy ?? 'Cluster';
    let healthCheckNodePort: number | undefined;
    if (type === 'LoadBalancer' && etp === 'Local') {
      healthCheckNodePort = spec.healthCheckNodePort ?? Number(ports.allocate(`${key(o)}:health`) ?? 0n);
    }
    services.push({
      namespace: o.metadata.namespace,
      name: o.metadata.name,
      type,
      labels: o.metadata.labels,
      annotations: o.metadata.annotations,
      selector: spec.selector && Object.keys(spec.selector).length > 0 ? spec.selector : undefined,
      clusterIP,
      headless: clusterIP === 'None',
      externalName: spec.externalName,
      externalIPs: spec.externalIPs ?? [],
      ports: portStates,
      externalTrafficPolicy: etp === 'Local' ? 'Local' : 'Cluster',
      internalTrafficPolicy: spec.internalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
      sessionAffinity: spec.sessionAffinity === 'ClientIP' ? 'ClientIP' : 'None',
      sessionAffinityTimeoutSeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800,
      publishNotReadyAddresses: spec.publishNotReadyAddresses === true,
      healthCheckNodePort,
      loadBalancerClass: spec.loadBalancerClass,
      loadBalancerIP: spec.loadBalancerIP,
      ipFamilies: spec.ipFamilies,
      loadBalancerSourceRanges: spec.loadBalancerSourceRanges ?? [],
      loadBalancerIngress: [],
      addon: o.metadata.annotations[ADDON_ANNOTATION] === 'true',
      source: input.sourceOf(o),
    });
  }
  return { services, problems };
}

/** Resolves a Service port's targetPort on one pod: a number, or the pod's container port of that name. */
export function resolveTargetPort(port: ServicePortState, pod: PodState): number | undefined {
  if (typeof port.targetPort === 'number') return port.targetPort;
  const named = pod.ports.find((p) => p.name === port.targetPort && p.protocol === port.protocol);
  return named?.containerPort;
}

function sliceName(svc: ServiceState, index: number): string {
  const chars = 'bcdfghjklmnpqrstvwxz2456789';
  let h = fnv32a(`${svc.namespace}/${svc.name}/${index}`);
  let suffix = '';
  for (let i = 0; i < 5; i++) {
    suffix += chars[h % chars.length] ?? 'b';
    h = Math.floor(h / chars.length);
  }
  const base = svc.name.length > 57 ? svc.name.slice(0, 57) : svc.name;
  return `${base}-${suffix}`;
}

/** Inputs of EndpointSlice reconciliation. */
export interface SliceInput {
  readonly services: readonly ServiceState[];
  readonly pods: readonly PodState[];
  readonly objects: readonly KubeObject[];
}

/** EndpointSlices for every Service: from selectors, or from user-written Endpoints/EndpointSlices. */
export function reconcileEndpointSlices(input: SliceInput): EndpointSliceState[] {
  const slices: EndpointSliceState[] = [];
  const podsByNs = new Map<string, PodState[]>();
  for (const p of input.pods) {
    if (!p.ip || p.phase === 'Succeeded' || p.phase === 'Failed') continue;
    const list = podsByNs.get(p.namespace) ?? [];
    list.push(p);
    podsByNs.set(p.namespace, list);
  }
  for (const svc of input.services) {
    if (svc.type === 'ExternalName') continue;
    if (!svc.selector) {
      slices.push(...userSlices(svc, input.objects));
      continue;
    }
    const selector = svc.selector;
    const matcher = compileSelector({ matchLabels: selector });
    const selected = (podsByNs.get(svc.namespace) ?? []).filter((p) => matcher.matches(p.labels));
    // Pods that resolve the ports to the same numbers share slices, as the EndpointSlice controller groups them.
    const groups = new Map<string, { ports: EndpointSliceState['ports']; endpoints: EndpointState[] }>();
    for (const pod of selected) {
      const resolved = svc.ports.flatMap((p) => {
        const n = resolveTargetPort(p, pod);
        return n === undefined ? [] : [{ name: p.name, port: n, protocol: p.protocol }];
      });
      if (svc.ports.length > 0 && resolved.length === 0) continue;
      const gk = JSON.stringify(resolved);
      const group = groups.get(gk) ?? { ports: resolved, endpoints: [] };
      const ready = svc.publishNotReadyAddresses || (pod.ready && !pod.terminating);
      group.endpoints.push({
        addresses: [pod.ip],
        conditions: { ready, serving: svc.publishNotReadyAddresses || pod.ready, terminating: pod.terminating },
        nodeName: pod.node,
        targetRef: { kind: 'Pod', namespace: pod.namespace, name: pod.name },
      });
      groups.set(gk, group);
    }
    let index = 0;
    const family = svc.clusterIP.includes(':') ? 'IPv6' : 'IPv4';
    const sortedGroups = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (sortedGroups.length === 0) {
      slices.push({ namespace: svc.namespace, name: sliceName(svc, 0), service: svc.name, addressType: family, ports: svc.ports.map((p) => ({ name: p.name, port: typeof p.targetPort === 'number' ? p.targetPort : p.port, protocol: p.protocol })), endpoints: [], managedBy: 'endpointslice-controller.k8s.io' });
      continue;
    }
    for (const [, group] of sortedGroups) {
      for (let i = 0; i < group.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE) {
        slices.push({
          namespace: svc.namespace,
          name: sliceName(svc, index++),
          service: svc.name,
          addressType: family,
          ports: group.ports,
          endpoints: group.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE),
          managedBy: 'endpointslice-controller.k8s.io',
        });
      }
    }
  }
  return slices;
}

/** Slices for a selector-less Service: its EndpointSlices as written, else its Endpoints converted. */
function userSlices(svc: ServiceState, objects: readonly KubeObject[]): EndpointSliceState[] {
  const out: EndpointSliceState[] = [];
  for (const o of objects) {
    if (o.metadata.namespace !== svc.namespace) continue;
    if (o.kind === 'EndpointSlice' && o.metadata.labels['kubernetes.io/service-name'] === svc.name) {
      const raw = o as unknown as { addressType: 'IPv4' | 'IPv6' | 'FQDN'; ports?: { name?: string; port?: number; protocol?: Protocol }[]; endpoints?: { addresses: string[]; conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean }; nodeName?: string }[] };
      out.push({
        namespace: svc.namespace,
        name: o.metadata.name,
        service: svc.name,
        addressType: raw.addressType,
        ports: (raw.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port ?? 0, protocol: p.protocol ?? 'TCP' })),
        endpoints: (raw.endpoints ?? []).map((e) => ({
          addresses: e.addresses,
          conditions: { ready: e.conditions?.ready ?? true, serving: e.conditions?.serving ?? e.conditions?.ready ?? true, terminating: e.conditions?.terminating ?? false },
          nodeName: e.nodeName,
        })),
        managedBy: o.metadata.labels['endpointslice.kubernetes.io/managed-by'] ?? 'user',
      });
    }
    if (o.kind === 'Endpoints' && o.metadata.name === svc.name) {
      const subsets = ((o as unknown as { subsets?: unknown }).subsets ?? []) as { addresses?: { ip: string; nodeName?: string }[]; notReadyAddresses?: { ip: string; nodeName?: string }[]; ports?: { name?: string; port: number; protocol?: Protocol }[] }[];
      subsets.forEach((s, i) => {
        const mk = (a: { ip: string; nodeName?: string }, ready: boolean): EndpointState => ({ addresses: [a.ip], conditions: { ready, serving: ready, terminating: false }, nodeName: a.nodeName });
        out.push({
          namespace: svc.namespace,
          name: `${svc.name}-${i}`,
          service: svc.name,
          addressType: (s.addresses?.[0]?.ip ?? '').includes(':') ? 'IPv6' : 'IPv4',
          ports: (s.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
          endpoints: [...(s.addresses ?? []).map((a) => mk(a, true)), ...(s.notReadyAddresses ?? []).map((a) => mk(a, false))],
          managedBy: 'endpoint-mirroring',
        });
      });
    }
  }
  return out;
}
