/**
 * MetalLB's controller: gives LoadBalancer Services addresses from IPAddressPools, honouring
 * requested IPs, the address-pool and allow-shared-ip annotations, serviceAllocation priority and
 * selectors, and `spec.loadBalancerClass`. Deterministic: the same input gives the same addresses.
 */
import type { NamespaceState, ServiceState } from '../../model/types.js';
import type { StringMap } from '../../api/types.js';
import { quote } from '../../api/problems.js';
import { type AddressPool, type MetalLBConfig, poolAdmits, poolHasFamily } from './config.js';
import { familyName, formatIp, parseIp, type IpAddress, type IpFamily } from '../../model/ip.js';
import { isBuggyIP, usableCount } from './addresses.js';
import type { Allocation, Pending } from '../../model/metallb.js';
export type { Allocation, Pending } from '../../model/metallb.js';

/** A LoadBalancer Service as the allocator reads it: ServiceState plus the spec fields it needs. */
export type LoadBalancerService = ServiceState & {
  /** Deprecated `spec.loadBalancerIP`. */
  readonly loadBalancerIP?: string;
  /** `spec.ipFamilies`; when absent the family of `clusterIP` is used. */
  readonly ipFamilies?: readonly string[];
};

/** What `allocateLoadBalancerIPs` needs. */
export interface AllocationInput {
  readonly services: readonly LoadBalancerService[];
  readonly namespaces: readonly NamespaceState[];
  readonly config: MetalLBConfig;
  /** MetalLB's `--lb-class`; when set only Services of that class are served. */
  readonly lbClass?: string;
}

/** Usage of one pool, for `kwire get ipaddresspools`. */
export interface PoolUsage {
  readonly name: string;
  readonly autoAssign: boolean;
  readonly avoidBuggyIPs: boolean;
  readonly addresses: readonly string[];
  /** Addresses MetalLB may hand out (IPv6 sizes above 2^53 are approximate). */
  readonly total: number;
  /** Distinct addresses given to at least one Service. */
  readonly used: number;
  readonly available: number;
}

/** The annotations MetalLB reads, new prefix first. */
export const annotations = {
  loadBalancerIPs: ['metallb.io/loadBalancerIPs', 'metallb.universe.tf/loadBalancerIPs'],
  addressPool: ['metallb.io/address-pool', 'metallb.universe.tf/address-pool'],
  allowSharedIP: ['metallb.io/allow-shared-ip', 'metallb.universe.tf/allow-shared-ip'],
  allocatedFromPool: 'metallb.io/ip-allocated-from-pool',
} as const;

/** The `ns/name` key of a Service. */
export function serviceKey(service: { readonly namespace: string; readonly name: string }): string {
  return `${service.namespace}/${service.name}`;
}

interface Holder {
  readonly sharingKey: string;
  readonly backendKey: string;
  readonly ports: Map<string, string>;
  readonly services: string[];
}

interface Request {
  readonly service: LoadBalancerService;
  readonly key: string;
  readonly families: readonly IpFamily[];
  readonly ips: readonly IpAddress[];
  readonly pool?: string;
  readonly sharingKey: string;
  readonly backendKey: string;
  readonly ports: readonly string[];
}

/** Allocates LoadBalancer addresses for every `type: LoadBalancer` Service, keyed `ns/name`. */
export function allocateLoadBalancerIPs(input: AllocationInput): Map<string, Allocation | Pending> {
  const results = new Map<string, Allocation | Pending>();
  const namespaceLabels = new Map(input.namespaces.map((n) => [n.name, n.labels]));
  const pools = input.config.pools;
  const requests: Request[] = [];
  const services = input.services
    .filter((s) => s.type === 'LoadBalancer')
    .sort((a, b) => compareText(serviceKey(a), serviceKey(b)));
  for (const service of services) {
    const key = serviceKey(service);
    const skip = classMismatch(service, input.lbClass);
    if (skip !== undefined) {
      results.set(key, pending('KW-LB037', skip, true));
      continue;
    }
    if (pools.length === 0) {
      results.set(
        key,
        pending('KW-LB038', 'no IPAddressPool exists, so MetalLB has no address to give'),
      );
      continue;
    }
    const request = readRequest(service);
    if (typeof request === 'string') results.set(key, pending('KW-LB035', request));
    else requests.push(request);
  }
  const holders = new Map<string, Holder>();
  const ordered = [
    ...requests.filter((r) => r.ips.length > 0),
    ...requests.filter((r) => r.ips.length === 0),
  ];
  for (const request of ordered) {
    const labels = namespaceLabels.get(request.service.namespace) ?? {
      'kubernetes.io/metadata.name': request.service.namespace,
    };
    const namespace = { name: request.service.namespace, labels };
    const outcome =
      request.ips.length > 0
        ? assignRequested(request, pools, holders)
        : assignAutomatic(request, pools, namespace, holders);
    if (outcome.kind === 'allocated') {
      for (const ip of outcome.ips) hold(holders, ip, request);
    }
    results.set(request.key, outcome);
  }
  return withSharing(results, holders);
}

/** Per pool: how many addresses it has, how many are given out and how many are left; sorted by name. */
export function poolUsage(
  config: MetalLBConfig,
  allocations: ReadonlyMap<string, Allocation | Pending>,
): PoolUsage[] {
  const usedByPool = new Map<string, Set<string>>();
  for (const result of allocations.values()) {
    if (result.kind !== 'allocated') continue;
    const used = usedByPool.get(result.pool) ?? new Set<string>();
    for (const ip of result.ips) used.add(ip);
    usedByPool.set(result.pool, used);
  }
  return [...config.pools]
    .sort((a, b) => compareText(a.name, b.name))
    .map((pool) => {
      const total = Number(
        pool.ranges.reduce((sum, r) => sum + usableCount(r, pool.avoidBuggyIPs), 0n),
      );
      const used = usedByPool.get(pool.name)?.size ?? 0;
      return {
        name: pool.name,
        autoAssign: pool.autoAssign,
        avoidBuggyIPs: pool.avoidBuggyIPs,
        addresses: pool.ranges.map((r) => r.text),
        total,
        used,
        available: Math.max(0, total - used),
      };
    });
}

function classMismatch(
  service: LoadBalancerService,
  lbClass: string | undefined,
): string | undefined {
  const own = service.loadBalancerClass;
  if (lbClass === undefined) {
    return own === undefined
      ? undefined
      : `spec.loadBalancerClass is ${quote(own)}: MetalLB (no --lb-class) leaves this Service to that implementation`;
  }
  if (own === lbClass) return undefined;
  return own === undefined
    ? `MetalLB runs with --lb-class=${lbClass} and serves only Services of that loadBalancerClass`
    : `spec.loadBalancerClass is ${quote(own)}, not MetalLB's ${quote(lbClass)}`;
}

function readRequest(service: LoadBalancerService): Request | string {
  const a = service.annotations;
  const listed = firstAnnotation(a, annotations.loadBalancerIPs);
  const legacy = service.loadBalancerIP?.trim() ?? '';
  if (listed !== undefined && legacy !== '') {
    return 'the Service sets both metallb.io/loadBalancerIPs and spec.loadBalancerIP; keep only the annotation';
  }
  const texts = listed !== undefined ? splitList(listed.value) : legacy === '' ? [] : [legacy];
  const field = listed !== undefined ? `annotation ${listed.name}` : 'spec.loadBalancerIP';
  const ips: IpAddress[] = [];
  for (const text of texts) {
    const ip = parseIp(text);
    if (!ip) return `${field}: ${quote(text)} is not an IP address`;
    if (ips.some((other) => other.family === ip.family)) {
      return `${field}: asks for two ${familyName(ip.family)} addresses; give at most one per family`;
    }
    ips.push(ip);
  }
  const families = serviceFamilies(service);
  const foreign = ips.find((ip) => !families.includes(ip.family));
  if (foreign) {
    return `${field}: ${formatIp(foreign.family, foreign.value)} is ${familyName(foreign.family)} but the Service is ${families.map(familyName).join(',')}`;
  }
  const pool = firstAnnotation(a, annotations.addressPool)?.value.trim();
  const sharingKey = firstAnnotation(a, annotations.allowSharedIP)?.value ?? '';
  return {
    service,
    key: serviceKey(service),
    families,
    ips,
    ...(pool === undefined || pool === '' ? {} : { pool }),
    sharingKey,
    backendKey:
      service.externalTrafficPolicy === 'Local' ? selectorKey(service.selector ?? {}) : '',
    ports: service.ports.map((p) => `${p.protocol}/${p.port}`),
  };
}

function serviceFamilies(service: LoadBalancerService): IpFamily[] {
  const given = (service.ipFamilies ?? []).flatMap((f): IpFamily[] =>
    f === 'IPv4' ? [4] : f === 'IPv6' ? [6] : [],
  );
  if (given.length > 0) return [...new Set(given)];
  return [parseIp(service.clusterIP)?.family ?? 4];
}

function assignRequested(
  request: Request,
  pools: readonly AddressPool[],
  holders: ReadonlyMap<string, Holder>,
): Allocation | Pending {
  const texts = request.ips.map((ip) => formatIp(ip.family, ip.value));
  const poolOf = (ip: IpAddress): AddressPool | undefined =>
    pools.find((p) =>
      p.ranges.some((r) => r.family === ip.family && r.first <= ip.value && ip.value <= r.last),
    );
  const owners = request.ips.map(poolOf);
  const outside = owners.findIndex((p) => p === undefined);
  if (outside >= 0) {
    return pending(
      'KW-LB032',
      `requested IP ${texts[outside] ?? ''} is not in any IPAddressPool (${describePools(pools)})`,
    );
  }
  const pool = owners[0];
  if (!pool) return pending('KW-LB032', 'no requested IP');
  if (owners.some((p) => p !== pool)) {
    return pending('KW-LB032', `requested IPs ${texts.join(', ')} are in different IPAddressPools`);
  }
  if (request.pool !== undefined && request.pool !== pool.name) {
    return pending(
      'KW-LB039',
      `requested IP ${texts.join(', ')} is in IPAddressPool ${quote(pool.name)}, not in ${quote(request.pool)} named by metallb.io/address-pool`,
    );
  }
  for (const [index, ip] of request.ips.entries()) {
    const text = texts[index] ?? '';
    if (pool.avoidBuggyIPs && isBuggyIP(ip.family, ip.value)) {
      return pending(
        'KW-LB035',
        `requested IP ${text} ends in .0 or .255 and IPAddressPool ${quote(pool.name)} sets avoidBuggyIPs`,
      );
    }
    const refusal = sharingRefusal(holders.get(text), request);
    if (refusal !== undefined)
      return pending('KW-LB033', `requested IP ${text} is in use: ${refusal}`);
  }
  return allocated(texts, pool.name, true, request);
}

function assignAutomatic(
  request: Request,
  pools: readonly AddressPool[],
  namespace: { readonly name: string; readonly labels: StringMap },
  holders: ReadonlyMap<string, Holder>,
): Allocation | Pending {
  const serviceLabels = request.service.labels;
  const missingFamily = (pool: AddressPool): IpFamily | undefined =>
    request.families.find((f) => !poolHasFamily(pool, f));
  if (request.pool !== undefined) {
    const pool = pools.find((p) => p.name === request.pool);
    if (!pool) {
      return pending(
        'KW-LB034',
        `metallb.io/address-pool names IPAddressPool ${quote(request.pool)}, which does not exist (${describePools(pools)})`,
      );
    }
    if (!poolAdmits(pool, namespace, serviceLabels)) {
      return pending(
        'KW-LB036',
        `IPAddressPool ${quote(pool.name)} named by metallb.io/address-pool does not admit this Service: ${admissionDetail(pool)}`,
      );
    }
    const family = missingFamily(pool);
    if (family)
      return pending('KW-LB030', `IPAddressPool ${quote(pool.name)} has no ${familyName(family)} address`);
    const ips = takeFromPool(pool, request, holders);
    return ips
      ? allocated(ips, pool.name, false, request)
      : pending(
          'KW-LB031',
          `IPAddressPool ${quote(pool.name)} is exhausted: ${exhaustedDetail(request)}`,
        );
  }
  const rejected: string[] = [];
  const eligible = pools.filter((pool) => {
    const family = missingFamily(pool);
    const why = !pool.autoAssign
      ? 'autoAssign is false (name it in metallb.io/address-pool)'
      : !poolAdmits(pool, namespace, serviceLabels)
        ? admissionDetail(pool)
        : family
          ? `no ${familyName(family)} address`
          : undefined;
    if (why !== undefined) rejected.push(`${pool.name}: ${why}`);
    return why === undefined;
  });
  if (eligible.length === 0) {
    return pending('KW-LB030', `no IPAddressPool can serve this Service (${rejected.join('; ')})`);
  }
  eligible.sort(byPriority);
  for (const pool of eligible) {
    const ips = takeFromPool(pool, request, holders);
    if (ips) return allocated(ips, pool.name, false, request);
  }
  return pending(
    'KW-LB031',
    `every eligible IPAddressPool is exhausted (${eligible.map((p) => p.name).join(', ')}): ${exhaustedDetail(request)}`,
  );
}

function byPriority(a: AddressPool, b: AddressPool): number {
  const pa = a.serviceAllocation?.priority;
  const pb = b.serviceAllocation?.priority;
  if (pa !== pb) {
    if (pa === undefined) return 1;
    if (pb === undefined) return -1;
    return pa - pb;
  }
  return compareText(a.name, b.name);
}

function takeFromPool(
  pool: AddressPool,
  request: Request,
  holders: ReadonlyMap<string, Holder>,
): string[] | undefined {
  const ips: string[] = [];
  for (const family of request.families) {
    const ip = lowestUsable(pool, family, request, holders);
    if (ip === undefined) return undefined;
    ips.push(ip);
  }
  return ips;
}

function lowestUsable(
  pool: AddressPool,
  family: IpFamily,
  request: Request,
  holders: ReadonlyMap<string, Holder>,
): string | undefined {
  for (const range of pool.ranges) {
    if (range.family !== family) continue;
    for (let value = range.first; value <= range.last; value++) {
      if (pool.avoidBuggyIPs && isBuggyIP(family, value)) continue;
      const text = formatIp(family, value);
      if (sharingRefusal(holders.get(text), request) === undefined) return text;
    }
  }
  return undefined;
}

/** Why a Service may not use an address already held (MetalLB's sharingOK plus the port check). */
function sharingRefusal(holder: Holder | undefined, request: Request): string | undefined {
  if (!holder) return undefined;
  const users = holder.services.join(', ');
  if (holder.sharingKey === '')
    return `${users} holds it and does not allow sharing (no metallb.io/allow-shared-ip)`;
  if (request.sharingKey === '')
    return `${users} holds it and this Service has no metallb.io/allow-shared-ip`;
  if (holder.sharingKey !== request.sharingKey) {
    return `sharing key ${quote(request.sharingKey)} differs from ${quote(holder.sharingKey)} of ${users}`;
  }
  if (holder.backendKey !== request.backendKey) {
    return `${users} has another backend: sharing needs externalTrafficPolicy Cluster on both, or identical selectors`;
  }
  for (const port of request.ports) {
    const user = holder.ports.get(port);
    if (user !== undefined) return `port ${port} is already used on it by ${user}`;
  }
  return undefined;
}

function hold(holders: Map<string, Holder>, ip: string, request: Request): void {
  const holder = holders.get(ip) ?? {
    sharingKey: request.sharingKey,
    backendKey: request.backendKey,
    ports: new Map<string, string>(),
    services: [],
  };
  for (const port of request.ports) holder.ports.set(port, request.key);
  holder.services.push(request.key);
  holders.set(ip, holder);
}

function withSharing(
  results: Map<string, Allocation | Pending>,
  holders: ReadonlyMap<string, Holder>,
): Map<string, Allocation | Pending> {
  const sorted = new Map([...results.entries()].sort(([a], [b]) => compareText(a, b)));
  for (const [key, result] of sorted) {
    if (result.kind !== 'allocated') continue;
    const others = new Set(result.ips.flatMap((ip) => holders.get(ip)?.services ?? []));
    others.delete(key);
    if (others.size > 0) sorted.set(key, { ...result, sharedWith: [...others].sort(compareText) });
  }
  return sorted;
}

function allocated(
  ips: readonly string[],
  pool: string,
  requested: boolean,
  request: Request,
): Allocation {
  return {
    kind: 'allocated',
    ips,
    pool,
    requested,
    ...(request.sharingKey === '' ? {} : { sharingKey: request.sharingKey }),
    sharedWith: [],
  };
}

function pending(code: string, reason: string, ignored = false): Pending {
  return { kind: 'pending', code, reason, ignored };
}

function admissionDetail(pool: AddressPool): string {
  const allocation = pool.serviceAllocation;
  if (!allocation) return 'admits every Service';
  const parts: string[] = [];
  if (allocation.namespaces.length > 0) parts.push(`namespaces ${allocation.namespaces.join(',')}`);
  if (allocation.namespaceSelectors.length > 0) parts.push('namespaceSelectors');
  if (allocation.serviceSelectors.length > 0) parts.push('serviceSelectors');
  return `serviceAllocation (${parts.join(', ')}) does not select it`;
}

function exhaustedDetail(request: Request): string {
  const sharing =
    request.sharingKey === '' ? 'no address is free' : 'no address is free or shareable';
  return `${sharing} for ${request.families.join(' and ')}`;
}

function describePools(pools: readonly AddressPool[]): string {
  return pools.map((p) => `${p.name}: ${p.ranges.map((r) => r.text).join(', ')}`).join('; ');
}

function firstAnnotation(
  map: StringMap,
  names: readonly string[],
): { readonly name: string; readonly value: string } | undefined {
  for (const name of names) {
    const value = map[name];
    if (value !== undefined) return { name, value };
  }
  return undefined;
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function selectorKey(selector: StringMap): string {
  return Object.keys(selector)
    .sort(compareText)
    .map((k) => `${k}=${selector[k] ?? ''}`)
    .join(',');
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
