/**
 * Connection sets: for each protocol (TCP, UDP, SCTP) a sorted list of disjoint, non-adjacent port
 * ranges within 1–65535. Values are immutable; operations return new sets.
 */
import type { Protocol } from '../../api/types.js';

/** Protocols in the order every output lists them. */
export const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

/** A closed port range `[first, last]`. */
export type PortRange = readonly [number, number];

/** Allowed ports per protocol. */
export type ConnSet = Readonly<Record<Protocol, readonly PortRange[]>>;

/** The lowest and highest port. */
export const MIN_PORT = 1;
/** The highest port. */
export const MAX_PORT = 65535;

const FULL: readonly PortRange[] = [[MIN_PORT, MAX_PORT]];

/** Every protocol, every port. */
export const ALL_CONNS: ConnSet = { TCP: FULL, UDP: FULL, SCTP: FULL };

/** No connection. */
export const NO_CONNS: ConnSet = { TCP: [], UDP: [], SCTP: [] };

/** The JSON form of a set: `"all"` or one entry per protocol with allowed ports. */
export type ConnsJson =
  'all' | readonly { readonly protocol: Protocol; readonly ports: readonly PortRange[] }[];

function mergeRanges(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const prev = out[out.length - 1];
    if (prev && lo <= prev[1] + 1) prev[1] = Math.max(prev[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function intersectPortRanges(a: readonly PortRange[], b: readonly PortRange[]): PortRange[] {
  const out: PortRange[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i];
    const y = b[j];
    if (!x || !y) break;
    const lo = Math.max(x[0], y[0]);
    const hi = Math.min(x[1], y[1]);
    if (lo <= hi) out.push([lo, hi]);
    if (x[1] < y[1]) i++;
    else j++;
  }
  return out;
}

/** A set allowing one protocol on the given ranges (clamped to 1–65535). */
export function connsOf(protocol: Protocol, ranges: readonly PortRange[]): ConnSet {
  const clamped = ranges
    .map(([lo, hi]): PortRange => [Math.max(lo, MIN_PORT), Math.min(hi, MAX_PORT)])
    .filter(([lo, hi]) => lo <= hi);
  return { ...NO_CONNS, [protocol]: mergeRanges(clamped) };
}

/** Union of sets. */
export function unionConns(...sets: readonly ConnSet[]): ConnSet {
  if (sets.length === 2) {
    const [a = NO_CONNS, b = NO_CONNS] = sets;
    if (isNoConns(a)) return isNoConns(b) ? NO_CONNS : b;
    if (isNoConns(b)) return a;
  }
  const nonEmpty = sets.filter((s) => !isNoConns(s));
  if (nonEmpty.length === 0) return NO_CONNS;
  if (nonEmpty.includes(ALL_CONNS)) return ALL_CONNS;
  if (nonEmpty.length === 1 && nonEmpty[0]) return nonEmpty[0];
  return {
    TCP: mergeRanges(nonEmpty.flatMap((s) => s.TCP)),
    UDP: mergeRanges(nonEmpty.flatMap((s) => s.UDP)),
    SCTP: mergeRanges(nonEmpty.flatMap((s) => s.SCTP)),
  };
}

/** Intersection of two sets. */
export function intersectConns(a: ConnSet, b: ConnSet): ConnSet {
  if (a === ALL_CONNS || a === b) return b;
  if (b === ALL_CONNS) return a;
  if (isNoConns(a) || isNoConns(b)) return NO_CONNS;
  return {
    TCP: intersectPortRanges(a.TCP, b.TCP),
    UDP: intersectPortRanges(a.UDP, b.UDP),
    SCTP: intersectPortRanges(a.SCTP, b.SCTP),
  };
}

/** Ports of `a` not in `b`. */
export function subtractConns(a: ConnSet, b: ConnSet): ConnSet {
  const sub = (x: readonly PortRange[], y: readonly PortRange[]): PortRange[] => {
    const out: PortRange[] = [];
    for (const [lo0, hi] of x) {
      let lo = lo0;
      for (const [ylo, yhi] of y) {
        if (yhi < lo || ylo > hi) continue;
        if (ylo > lo) out.push([lo, ylo - 1]);
        lo = yhi + 1;
        if (lo > hi) break;
      }
      if (lo <= hi) out.push([lo, hi]);
    }
    return out;
  };
  return { TCP: sub(a.TCP, b.TCP), UDP: sub(a.UDP, b.UDP), SCTP: sub(a.SCTP, b.SCTP) };
}

/** Whether the set allows nothing. */
export function isNoConns(set: ConnSet): boolean {
  return set.TCP.length === 0 && set.UDP.length === 0 && set.SCTP.length === 0;
}

/** Whether the set allows every protocol on every port. */
export function isAllConns(set: ConnSet): boolean {
  return PROTOCOLS.every((p) => {
    const r = set[p];
    return r.length === 1 && r[0]?.[0] === MIN_PORT && r[0][1] === MAX_PORT;
  });
}

/** Whether the set allows one protocol and port. */
export function connsAllow(set: ConnSet, protocol: Protocol, port: number): boolean {
  return set[protocol].some(([lo, hi]) => lo <= port && port <= hi);
}

function sameRanges(a: readonly PortRange[], b: readonly PortRange[]): boolean {
  return a.length === b.length && a.every((r, i) => r[0] === b[i]?.[0] && r[1] === b[i]?.[1]);
}

/** Whether two sets are equal. */
export function sameConns(a: ConnSet, b: ConnSet): boolean {
  return (
    a === b || (sameRanges(a.TCP, b.TCP) && sameRanges(a.UDP, b.UDP) && sameRanges(a.SCTP, b.SCTP))
  );
}

/** A canonical string for a set (the text form). */
export function connsKey(set: ConnSet): string {
  return formatConns(set);
}

function formatRanges(ranges: readonly PortRange[]): string {
  return ranges.map(([lo, hi]) => (lo === hi ? String(lo) : `${lo}-${hi}`)).join(',');
}

/** `TCP 80,8080-8090,UDP 53`, `All Connections` or `No Connections` (netpol-analyzer's notation). */
export function formatConns(set: ConnSet): string {
  if (isAllConns(set)) return 'All Connections';
  if (isNoConns(set)) return 'No Connections';
  return PROTOCOLS.filter((p) => set[p].length > 0)
    .map((p) => `${p} ${formatRanges(set[p])}`)
    .join(',');
}

/** The JSON form of a set (DESIGN.md's `conns`). */
export function connsToJson(set: ConnSet): ConnsJson {
  if (isAllConns(set)) return 'all';
  return PROTOCOLS.filter((p) => set[p].length > 0).map((protocol) => ({
    protocol,
    ports: set[protocol].map(([lo, hi]): PortRange => [lo, hi]),
  }));
}

/** Reads the JSON form back into a set. */
export function connsFromJson(json: ConnsJson): ConnSet {
  if (json === 'all') return ALL_CONNS;
  return unionConns(NO_CONNS, ...json.map((entry) => connsOf(entry.protocol, entry.ports)));
}
