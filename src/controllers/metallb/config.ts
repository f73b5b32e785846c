/**
 * MetalLB configuration read from its custom resources (metallb.io): IPAddressPool,
 * L2Advertisement, BGPAdvertisement, BGPPeer and Community, checked as MetalLB's controller checks
 * them and compiled once (address ranges as bigints, selectors as matchers).
 */
import type { KubeObject, StringMap } from '../../api/types.js';
import { quote, type ObjectRef, type Problem } from '../../api/problems.js';
import {
  canonicalIp,
  familyBits,
  longestCoveringPrefix,
  parseIp,
  type IpFamily,
} from '../../model/ip.js';
import { type AddressRange, parseAddressRange } from './addresses.js';
import type { CompiledSelector } from '../../model/selectors.js';
import { anyMatches, isRecord, readSelector } from './selector.js';
import type { ServiceAllocation, AddressPool, L2Advertisement, BGPAdvertisement, BGPPeer, MetalLBConfig } from '../../model/metallb.js';
export type { ServiceAllocation, AddressPool, L2Advertisement, BGPAdvertisement, BGPPeer, MetalLBConfig } from '../../model/metallb.js';

/** Options of `parseMetalLB`. */
export interface ParseOptions {
  /** Namespace MetalLB runs in; resources elsewhere are ignored (a namespace-less resource is kept). @default "metallb-system" */
  readonly namespace?: string;
}

/** The namespace MetalLB is installed in by its manifests and Helm chart. */
export const defaultMetalLBNamespace = 'metallb-system';

const group = 'metallb.io/';

/** Reads MetalLB's resources out of all input objects; other objects are ignored. */
export function parseMetalLB(
  objects: readonly KubeObject[],
  options: ParseOptions = {},
): MetalLBConfig {
  const namespace = options.namespace ?? defaultMetalLBNamespace;
  const problems: Problem[] = [];
  const byKind = new Map<string, KubeObject[]>();
  for (const object of objects) {
    if (!object.apiVersion.startsWith(group)) continue;
    if (object.metadata.namespace !== '' && object.metadata.namespace !== namespace) {
      problems.push({
        code: 'KW-LB009',
        severity: 'warning',
        object: refOf(object),
        message: `MetalLB reads its resources only from namespace ${quote(namespace)}; this ${object.kind} is ignored`,
        hint: `move it to namespace ${quote(namespace)}`,
      });
      continue;
    }
    if (object.kind === 'AddressPool') {
      problems.push({
        code: 'KW-LB012',
        severity: 'warning',
        object: refOf(object),
        message: 'AddressPool was removed in MetalLB 0.14 and is ignored',
        hint: 'use an IPAddressPool plus an L2Advertisement or BGPAdvertisement',
      });
      continue;
    }
    const list = byKind.get(object.kind) ?? [];
    list.push(object);
    byKind.set(object.kind, list);
  }
  const ofKind = (kind: string): KubeObject[] =>
    uniqueByName(byKind.get(kind) ?? [], problems).sort((a, b) =>
      compareText(a.metadata.name, b.metadata.name),
    );

  const pools = parsePools(ofKind('IPAddressPool'), problems);
  const communities = parseCommunities(ofKind('Community'), problems);
  const bgpPeers = ofKind('BGPPeer').flatMap((o) => parsePeer(o, problems) ?? []);
  const l2Advertisements = ofKind('L2Advertisement').map((o) => parseL2(o, pools, problems));
  const bgpAdvertisements = ofKind('BGPAdvertisement').map((o) =>
    parseBGPAdvertisement(o, pools, communities, bgpPeers, problems),
  );
  return { namespace, pools, l2Advertisements, bgpAdvertisements, bgpPeers, communities, problems };
}

/** Whether a Service's namespace and labels pass a pool's `serviceAllocation` selectors. */
export function poolAdmits(
  pool: AddressPool,
  namespace: { readonly name: string; readonly labels: StringMap },
  serviceLabels: StringMap,
): boolean {
  const allocation = pool.serviceAllocation;
  if (!allocation) return true;
  const restrictsNamespace =
    allocation.namespaces.length > 0 || allocation.namespaceSelectors.length > 0;
  if (
    restrictsNamespace &&
    !allocation.namespaces.includes(namespace.name) &&
    !allocation.namespaceSelectors.some((s) => s.matches(namespace.labels))
  ) {
    return false;
  }
  return anyMatches(allocation.serviceSelectors, serviceLabels);
}

/** Whether an address family has any range in the pool. */
export function poolHasFamily(pool: AddressPool, family: IpFamily): boolean {
  return pool.ranges.some((r) => r.family === family);
}

function parsePools(objects: readonly KubeObject[], problems: Problem[]): AddressPool[] {
  const taken: { range: AddressRange; pool: string }[] = [];
  return objects.map((object) => {
    const spec = specOf(object);
    const report = problemSink(object, problems);
    const ranges: AddressRange[] = [];
    const addresses = readStringList(spec.addresses, 'spec.addresses', report);
    for (const [index, text] of addresses.entries()) {
      const path = `spec.addresses[${index}]`;
      const range = parseAddressRange(text.trim());
      if (typeof range === 'string') {
        report('KW-LB001', path, range);
        continue;
      }
      const clash = taken.find(
        (t) =>
          t.range.family === range.family &&
          t.range.first <= range.last &&
          range.first <= t.range.last,
      );
      if (clash) {
        report(
          'KW-LB002',
          path,
          `${quote(text)} overlaps ${quote(clash.range.text)} of IPAddressPool ${quote(clash.pool)}`,
          'an address may belong to one pool only; MetalLB rejects overlapping pools',
        );
        continue;
      }
      taken.push({ range, pool: object.metadata.name });
      ranges.push(range);
    }
    if (ranges.length === 0) {
      problems.push({
        code: 'KW-LB010',
        severity: 'warning',
        object: refOf(object),
        path: 'spec.addresses',
        message: 'the pool has no usable address',
        hint: 'list CIDRs like "192.168.10.0/24" or ranges like "192.168.10.10-192.168.10.20"',
      });
    }
    return {
      name: object.metadata.name,
      namespace: object.metadata.namespace,
      labels: object.metadata.labels,
      ranges,
      autoAssign: readBoolean(spec.autoAssign, true, 'spec.autoAssign', report),
      avoidBuggyIPs: readBoolean(spec.avoidBuggyIPs, false, 'spec.avoidBuggyIPs', report),
      ...optional('serviceAllocation', readServiceAllocation(spec.serviceAllocation, report)),
    };
  });
}

function readServiceAllocation(raw: unknown, report: Report): ServiceAllocation | undefined {
  if (raw === undefined || raw === null) return undefined;
  const path = 'spec.serviceAllocation';
  if (!isRecord(raw)) {
    report('KW-LB004', path, 'must be an object');
    return undefined;
  }
  let priority: number | undefined;
  if (raw.priority !== undefined) {
    if (typeof raw.priority === 'number' && Number.isInteger(raw.priority)) {
      if (raw.priority !== 0) priority = raw.priority;
    } else report('KW-LB004', `${path}.priority`, `${quote(raw.priority)} is not an integer`);
  }
  return {
    ...optional('priority', priority),
    namespaces: readStringList(raw.namespaces, `${path}.namespaces`, report),
    namespaceSelectors: readSelectors(raw.namespaceSelectors, `${path}.namespaceSelectors`, report),
    serviceSelectors: readSelectors(raw.serviceSelectors, `${path}.serviceSelectors`, report),
  };
}

function parseL2(
  object: KubeObject,
  pools: readonly AddressPool[],
  problems: Problem[],
): L2Advertisement {
  const spec = specOf(object);
  const report = problemSink(object, problems);
  return {
    name: object.metadata.name,
    namespace: object.metadata.namespace,
    pools: resolvePools(spec, pools, report),
    nodeSelectors: readSelectors(spec.nodeSelectors, 'spec.nodeSelectors', report),
    interfaces: readStringList(spec.interfaces, 'spec.interfaces', report),
    serviceSelectors: readSelectors(spec.serviceSelectors, 'spec.serviceSelectors', report),
  };
}

function parseBGPAdvertisement(
  object: KubeObject,
  pools: readonly AddressPool[],
  communities: ReadonlyMap<string, string>,
  peers: readonly BGPPeer[],
  problems: Problem[],
): BGPAdvertisement {
  const spec = specOf(object);
  const report = problemSink(object, problems);
  const aggregationLength = readAggregation(
    spec.aggregationLength,
    4,
    'spec.aggregationLength',
    report,
  );
  const aggregationLengthV6 = readAggregation(
    spec.aggregationLengthV6,
    6,
    'spec.aggregationLengthV6',
    report,
  );
  const poolNames = resolvePools(spec, pools, report).filter((name) => {
    const pool = pools.find((p) => p.name === name);
    const tooNarrow = pool?.ranges.find(
      (r) =>
        longestCoveringPrefix(r.family, [r.first, r.last]) >
        (r.family === 4 ? aggregationLength : aggregationLengthV6),
    );
    if (!tooNarrow) return true;
    const length = tooNarrow.family === 4 ? aggregationLength : aggregationLengthV6;
    report(
      'KW-LB007',
      tooNarrow.family === 4 ? 'spec.aggregationLength' : 'spec.aggregationLengthV6',
      `invalid aggregation length ${length}: ${quote(tooNarrow.text)} of IPAddressPool ${quote(name)} is more specific than /${length}, so the route would cover addresses outside the pool`,
      `use an aggregation length of at least ${longestCoveringPrefix(tooNarrow.family, [tooNarrow.first, tooNarrow.last])}`,
    );
    return false;
  });
  const communityValues: string[] = [];
  for (const [index, text] of readStringList(
    spec.communities,
    'spec.communities',
    report,
  ).entries()) {
    const value = normalizeCommunity(text) ?? communities.get(text);
    if (value === undefined) {
      report(
        'KW-LB006',
        `spec.communities[${index}]`,
        `${quote(text)} is neither a community ("65000:100", "large:1:2:3") nor the name of a Community alias`,
      );
    } else if (!communityValues.includes(value)) communityValues.push(value);
  }
  const peerNames = readStringList(spec.peers, 'spec.peers', report).filter((name, index) => {
    if (peers.some((p) => p.name === name)) return true;
    report('KW-LB011', `spec.peers[${index}]`, `BGPPeer ${quote(name)} does not exist`);
    return false;
  });
  let localPref: number | undefined;
  if (spec.localPref !== undefined) {
    if (isUint(spec.localPref, 0xffffffff)) localPref = spec.localPref;
    else
      report(
        'KW-LB004',
        'spec.localPref',
        `${quote(spec.localPref)} is not a 32-bit unsigned integer`,
      );
  }
  return {
    name: object.metadata.name,
    namespace: object.metadata.namespace,
    pools: poolNames,
    aggregationLength,
    aggregationLengthV6,
    ...optional('localPref', localPref),
    communities: communityValues,
    nodeSelectors: readSelectors(spec.nodeSelectors, 'spec.nodeSelectors', report),
    peers: peerNames,
    serviceSelectors: readSelectors(spec.serviceSelectors, 'spec.serviceSelectors', report),
  };
}

function readAggregation(raw: unknown, family: IpFamily, path: string, report: Report): number {
  const bits = familyBits(family);
  if (raw === undefined || raw === null) return bits;
  if (isUint(raw, bits)) return raw;
  report('KW-LB007', path, `${quote(raw)} must be an integer from 0 to ${bits}`);
  return bits;
}

function resolvePools(
  spec: Record<string, unknown>,
  pools: readonly AddressPool[],
  report: Report,
): string[] {
  const names = readStringList(spec.ipAddressPools, 'spec.ipAddressPools', report);
  const selectors = readSelectors(
    spec.ipAddressPoolSelectors,
    'spec.ipAddressPoolSelectors',
    report,
  );
  if (names.length === 0 && selectors.length === 0) return pools.map((p) => p.name);
  const chosen = new Set<string>();
  for (const [index, name] of names.entries()) {
    if (pools.some((p) => p.name === name)) chosen.add(name);
    else
      report(
        'KW-LB005',
        `spec.ipAddressPools[${index}]`,
        `IPAddressPool ${quote(name)} does not exist`,
      );
  }
  for (const pool of pools)
    if (selectors.some((s) => s.matches(pool.labels))) chosen.add(pool.name);
  return pools.filter((p) => chosen.has(p.name)).map((p) => p.name);
}

function parseCommunities(
  objects: readonly KubeObject[],
  problems: Problem[],
): Map<string, string> {
  const aliases = new Map<string, string>();
  for (const object of objects) {
    const spec = specOf(object);
    const report = problemSink(object, problems);
    const entries = Array.isArray(spec.communities) ? (spec.communities as unknown[]) : [];
    for (const [index, entry] of entries.entries()) {
      const path = `spec.communities[${index}]`;
      if (!isRecord(entry) || typeof entry.name !== 'string' || typeof entry.value !== 'string') {
        report('KW-LB006', path, 'each community needs a string name and value');
        continue;
      }
      const value = normalizeCommunity(entry.value);
      if (value === undefined) {
        report(
          'KW-LB006',
          `${path}.value`,
          `${quote(entry.value)} is not a community ("65000:100" or "large:1:2:3")`,
        );
      } else if (aliases.has(entry.name)) {
        report('KW-LB006', `${path}.name`, `community alias ${quote(entry.name)} is defined twice`);
      } else aliases.set(entry.name, value);
    }
  }
  return aliases;
}

/** Normalizes a BGP community: `A:B` (16-bit each) or `large:A:B:C` (32-bit each); undefined when invalid. */
export function normalizeCommunity(text: string): string | undefined {
  const parts = text.split(':');
  const numbers = (list: readonly string[], max: number): number[] | undefined => {
    const values = list.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
    return values.every((v) => v >= 0 && v <= max) ? values : undefined;
  };
  if (parts.length === 2) return numbers(parts, 0xffff)?.join(':');
  if (parts.length === 4 && parts[0] === 'large') {
    const values = numbers(parts.slice(1), 0xffffffff);
    return values ? `large:${values.join(':')}` : undefined;
  }
  return undefined;
}

function parsePeer(object: KubeObject, problems: Problem[]): BGPPeer | undefined {
  const spec = specOf(object);
  const report = problemSink(object, problems);
  const ok = { value: true };
  const fail = (path: string, message: string, hint?: string): void => {
    ok.value = false;
    report('KW-LB008', path, message, hint);
  };
  const asn = (raw: unknown, path: string): number | undefined => {
    if (raw === undefined) return undefined;
    if (isUint(raw, 0xffffffff)) return raw;
    fail(path, `${quote(raw)} is not an AS number (0-4294967295)`);
    return undefined;
  };
  const myASN = asn(spec.myASN, 'spec.myASN');
  if (spec.myASN === undefined) fail('spec.myASN', 'myASN is required');
  const peerASN = asn(spec.peerASN, 'spec.peerASN');
  const dynamicASN = spec.dynamicASN;
  if (dynamicASN !== undefined && dynamicASN !== 'internal' && dynamicASN !== 'external') {
    fail('spec.dynamicASN', `${quote(dynamicASN)} must be "internal" or "external"`);
  }
  if ((spec.peerASN === undefined) === (dynamicASN === undefined)) {
    fail('spec.peerASN', 'exactly one of peerASN and dynamicASN must be set');
  }
  const peerAddress = readOptionalString(spec.peerAddress, 'spec.peerAddress', report);
  const iface = readOptionalString(spec.interface, 'spec.interface', report);
  if ((peerAddress === undefined) === (iface === undefined)) {
    fail('spec.peerAddress', 'exactly one of peerAddress and interface must be set');
  }
  if (peerAddress !== undefined && canonicalIp(peerAddress) === undefined) {
    fail('spec.peerAddress', `${quote(peerAddress)} is not an IP address`);
  }
  let peerPort = 179;
  if (spec.peerPort !== undefined) {
    if (isUint(spec.peerPort, 16384) && spec.peerPort > 0) peerPort = spec.peerPort;
    else fail('spec.peerPort', `${quote(spec.peerPort)} must be a port from 1 to 16384`);
  }
  const holdTime = readOptionalString(spec.holdTime, 'spec.holdTime', report) ?? '90s';
  if (!isDuration(holdTime))
    fail('spec.holdTime', `${quote(holdTime)} is not a duration like "90s"`);
  const keepaliveTime = readOptionalString(spec.keepaliveTime, 'spec.keepaliveTime', report);
  if (keepaliveTime !== undefined && !isDuration(keepaliveTime)) {
    fail('spec.keepaliveTime', `${quote(keepaliveTime)} is not a duration like "30s"`);
  }
  const routerID = readOptionalString(spec.routerID, 'spec.routerID', report);
  if (routerID !== undefined && parseIp(routerID)?.family !== 4) {
    fail('spec.routerID', `${quote(routerID)} must be an IPv4 address`);
  }
  const sourceAddress = readOptionalString(spec.sourceAddress, 'spec.sourceAddress', report);
  if (sourceAddress !== undefined && canonicalIp(sourceAddress) === undefined) {
    fail('spec.sourceAddress', `${quote(sourceAddress)} is not an IP address`);
  }
  const nodeSelectors = readSelectors(spec.nodeSelectors, 'spec.nodeSelectors', report);
  if (!ok.value || myASN === undefined) return undefined;
  return {
    name: object.metadata.name,
    namespace: object.metadata.namespace,
    apiVersion: object.apiVersion,
    myASN,
    ...optional('peerASN', peerASN),
    ...optional<'dynamicASN', 'internal' | 'external'>(
      'dynamicASN',
      dynamicASN === 'internal' ? 'internal' : dynamicASN === 'external' ? 'external' : undefined,
    ),
    ...optional('peerAddress', peerAddress === undefined ? undefined : canonicalIp(peerAddress)),
    ...optional('interface', iface),
    peerPort,
    holdTime,
    ...optional('keepaliveTime', keepaliveTime),
    ...optional('routerID', routerID),
    ...optional('sourceAddress', sourceAddress),
    ebgpMultiHop: spec.ebgpMultiHop === true,
    ...optional('vrf', readOptionalString(spec.vrf, 'spec.vrf', report)),
    nodeSelectors,
  };
}

/** Whether a BGP session with the peer is internal (same AS on both sides). */
export function isInternalPeer(peer: BGPPeer): boolean {
  return peer.peerASN === undefined ? peer.dynamicASN === 'internal' : peer.peerASN === peer.myASN;
}

type Report = (code: string, path: string, message: string, hint?: string) => void;

function problemSink(object: KubeObject, problems: Problem[]): Report {
  return (code, path, message, hint) => {
    problems.push({
      code,
      severity: 'error',
      object: refOf(object),
      path,
      message,
      ...optional('hint', hint),
    });
  };
}

function uniqueByName(objects: readonly KubeObject[], problems: Problem[]): KubeObject[] {
  const seen = new Set<string>();
  return objects.filter((object) => {
    if (!seen.has(object.metadata.name)) {
      seen.add(object.metadata.name);
      return true;
    }
    problems.push({
      code: 'KW-LB003',
      severity: 'error',
      object: refOf(object),
      path: 'metadata.name',
      message: `a ${object.kind} named ${quote(object.metadata.name)} is defined twice; the later one is ignored`,
    });
    return false;
  });
}

function refOf(object: KubeObject): ObjectRef {
  return object.metadata.namespace === ''
    ? { kind: object.kind, name: object.metadata.name }
    : { kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name };
}

function specOf(object: KubeObject): Record<string, unknown> {
  return isRecord(object.spec) ? object.spec : {};
}

function readStringList(raw: unknown, path: string, report: Report): string[] {
  if (raw === undefined || raw === null) return [];
  if (Array.isArray(raw) && raw.every((v): v is string => typeof v === 'string')) return raw;
  report('KW-LB004', path, 'must be a list of strings');
  return [];
}

function readOptionalString(raw: unknown, path: string, report: Report): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') return raw;
  report('KW-LB004', path, `${quote(raw)} must be a string`);
  return undefined;
}

function readBoolean(raw: unknown, fallback: boolean, path: string, report: Report): boolean {
  if (raw === undefined || raw === null) return fallback;
  if (typeof raw === 'boolean') return raw;
  report('KW-LB004', path, `${quote(raw)} must be true or false`);
  return fallback;
}

function readSelectors(raw: unknown, path: string, report: Report): CompiledSelector[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    report('KW-LB004', path, 'must be a list of label selectors');
    return [];
  }
  const selectors: CompiledSelector[] = [];
  for (const [index, entry] of (raw as unknown[]).entries()) {
    const compiled = readSelector(entry);
    if (typeof compiled === 'string') report('KW-LB004', `${path}[${index}]`, compiled);
    else selectors.push(compiled);
  }
  return selectors;
}

function isUint(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;
}

function isDuration(text: string): boolean {
  return /^(\d+(\.\d+)?(h|m|s|ms|us|µs|ns))+$/.test(text) || text === '0';
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `{key: value}` when the value is defined, `{}` otherwise (exactOptionalPropertyTypes-friendly spreads). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
