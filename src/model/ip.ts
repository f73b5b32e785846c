/**
 * IP arithmetic shared by every area: IPv4 and IPv6 addresses as bigints, strict parsing (ipaddr.js
 * for IPv6, a fast path for dotted quads), CIDRs, RFC 5952 formatting, and address sets as sorted
 * disjoint ranges per family. Parse once; matching afterwards is integer comparison only.
 */
import ipaddr from 'ipaddr.js';

/** An address family. */
export type IpFamily = 4 | 6;

/** A closed range of addresses `[first, last]` within one family. */
export type IpRange = readonly [bigint, bigint];

/** A set of addresses: sorted, disjoint, non-adjacent ranges per family. */
export interface IpSet {
  readonly v4: readonly IpRange[];
  readonly v6: readonly IpRange[];
}

/** A parsed address. */
export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

/** A parsed CIDR: its family, its range (host bits masked off) and its prefix length. */
export interface Cidr {
  readonly family: IpFamily;
  readonly range: IpRange;
  readonly prefix: number;
}

const BITS: Record<IpFamily, number> = { 4: 32, 6: 128 };

/** Number of bits of an address of the family. */
export function familyBits(family: IpFamily): number {
  return BITS[family];
}

/** The family as Kubernetes names it in `ipFamilies` and EndpointSlice `addressType`. */
export function familyName(family: IpFamily): 'IPv4' | 'IPv6' {
  return family === 4 ? 'IPv4' : 'IPv6';
}

/** The highest address of a family. */
export function maxAddress(family: IpFamily): bigint {
  return (1n << BigInt(BITS[family])) - 1n;
}

function bytesToBigint(bytes: readonly number[]): bigint {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return value;
}

const DOTTED_QUAD = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/** Parses one address strictly (four-part decimal IPv4, or IPv6 without zone); undefined when invalid. */
export function parseIp(text: string): IpAddress | undefined {
  const quad = DOTTED_QUAD.exec(text);
  if (quad) {
    const [a = 256, b = 256, c = 256, d = 256] = quad.slice(1).map(Number);
    if (a > 255 || b > 255 || c > 255 || d > 255) return undefined;
    return { family: 4, value: BigInt(((a * 256 + b) * 256 + c) * 256 + d) };
  }
  if (text.includes(':') && !text.includes('%') && ipaddr.IPv6.isValid(text)) {
    return { family: 6, value: bytesToBigint(ipaddr.IPv6.parse(text).toByteArray()) };
  }
  return undefined;
}

/** Whether a text is a strictly written IPv4 or IPv6 address. */
export function isIp(text: string): boolean {
  return parseIp(text) !== undefined;
}

/** Clears the host bits of an address for a prefix length. */
export function maskAddress(family: IpFamily, value: bigint, prefix: number): bigint {
  const hostBits = BigInt(BITS[family] - prefix);
  return (value >> hostBits) << hostBits;
}

/** Parses `A.B.C.D/N` or `X::/N` strictly; host bits are masked off. Undefined when invalid. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!address || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const bits = BITS[address.family];
  if (prefix > bits) return undefined;
  const hostBits = BigInt(bits - prefix);
  const first = (address.value >> hostBits) << hostBits;
  return { family: address.family, range: [first, first + (1n << hostBits) - 1n], prefix };
}

/** Whether a CIDR contains an address. */
export function cidrContains(cidr: Cidr, address: IpAddress): boolean {
  return (
    address.family === cidr.family && cidr.range[0] <= address.value && address.value <= cidr.range[1]
  );
}

/** Renders an address of a family (IPv6 in RFC 5952 form). */
export function formatIp(family: IpFamily, value: bigint): string {
  const bytes: number[] = [];
  for (let i = BITS[family] / 8 - 1; i >= 0; i--)
    bytes.push(Number((value >> BigInt(i * 8)) & 0xffn));
  const address = ipaddr.fromByteArray(bytes);
  return address.kind() === 'ipv6'
    ? (address as ipaddr.IPv6).toRFC5952String()
    : address.toString();
}

/** The canonical text of an address, or undefined when it does not parse. */
export function canonicalIp(text: string): string | undefined {
  const ip = parseIp(text);
  return ip ? formatIp(ip.family, ip.value) : undefined;
}

/** The `index`-th /`prefix` subnet of a CIDR (node pod CIDRs from the cluster pod CIDR). */
export function subnet(cidr: string, prefix: number, index: number): string | undefined {
  const parent = parseCidr(cidr);
  if (!parent) return undefined;
  const first = parent.range[0] + (BigInt(index) << BigInt(BITS[parent.family] - prefix));
  if (first > parent.range[1]) return undefined;
  return `${formatIp(parent.family, first)}/${prefix}`;
}

/** Splits a range into the fewest aligned prefixes that cover exactly it, as first address and length. */
export function rangeToPrefixes(
  family: IpFamily,
  range: IpRange,
): { first: bigint; prefix: number }[] {
  const bits = BITS[family];
  const out: { first: bigint; prefix: number }[] = [];
  let [first] = range;
  const last = range[1];
  while (first <= last) {
    let size = 0;
    while (size < bits) {
      const next = size + 1;
      const block = 1n << BigInt(next);
      if (first % block !== 0n || first + block - 1n > last) break;
      size = next;
    }
    out.push({ first, prefix: bits - size });
    first += 1n << BigInt(size);
  }
  return out;
}

/** Splits a range into the fewest CIDRs that cover exactly it. */
export function rangeToCidrs(family: IpFamily, range: IpRange): string[] {
  return rangeToPrefixes(family, range).map((p) => `${formatIp(family, p.first)}/${p.prefix}`);
}

/** The longest prefix length among the CIDRs that exactly cover a range. */
export function longestCoveringPrefix(family: IpFamily, range: IpRange): number {
  return Math.max(0, ...rangeToPrefixes(family, range).map((p) => p.prefix));
}

/** Normalizes ranges: sorted, merged when overlapping or adjacent. */
export function normalizeRanges(ranges: Iterable<IpRange>): IpRange[] {
  const sorted = [...ranges].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: [bigint, bigint][] = [];
  for (const [lo, hi] of sorted) {
    const prev = out[out.length - 1];
    if (prev && lo <= prev[1] + 1n) {
      if (hi > prev[1]) prev[1] = hi;
    } else out.push([lo, hi]);
  }
  return out;
}

/** Ranges of `a` not in `b` (both normalized). */
export function subtractRanges(a: readonly IpRange[], b: readonly IpRange[]): IpRange[] {
  const out: IpRange[] = [];
  for (const [lo0, hi] of a) {
    let lo = lo0;
    for (const [blo, bhi] of b) {
      if (bhi < lo || blo > hi) continue;
      if (blo > lo) out.push([lo, blo - 1n]);
      lo = bhi + 1n;
      if (lo > hi) break;
    }
    if (lo <= hi) out.push([lo, hi]);
  }
  return out;
}

/** Ranges in both `a` and `b` (both normalized). */
export function intersectRanges(a: readonly IpRange[], b: readonly IpRange[]): IpRange[] {
  const out: IpRange[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i];
    const y = b[j];
    if (!x || !y) break;
    const lo = x[0] > y[0] ? x[0] : y[0];
    const hi = x[1] < y[1] ? x[1] : y[1];
    if (lo <= hi) out.push([lo, hi]);
    if (x[1] < y[1]) i++;
    else j++;
  }
  return out;
}

/** Whether a normalized range list contains a value (binary search). */
export function rangesContain(ranges: readonly IpRange[], value: bigint): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid];
    if (!r) return false;
    if (value < r[0]) hi = mid - 1;
    else if (value > r[1]) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Whether a normalized range list contains the whole range. */
export function rangesCover(ranges: readonly IpRange[], range: IpRange): boolean {
  return ranges.some(([lo, hi]) => lo <= range[0] && range[1] <= hi);
}

/** The empty address set. */
export const EMPTY_IP_SET: IpSet = { v4: [], v6: [] };

/** Ranges of one family of a set. */
export function familyRanges(set: IpSet, family: IpFamily): readonly IpRange[] {
  return family === 4 ? set.v4 : set.v6;
}

/** Whether an address set contains an address. */
export function ipSetContains(set: IpSet, address: IpAddress): boolean {
  return rangesContain(familyRanges(set, address.family), address.value);
}

/** Builds a set from CIDRs (already parsed). */
export function ipSetOf(cidrs: readonly Cidr[]): IpSet {
  return {
    v4: normalizeRanges(cidrs.filter((c) => c.family === 4).map((c) => c.range)),
    v6: normalizeRanges(cidrs.filter((c) => c.family === 6).map((c) => c.range)),
  };
}

/** Addresses in either set. */
export function ipSetUnion(a: IpSet, b: IpSet): IpSet {
  return { v4: normalizeRanges([...a.v4, ...b.v4]), v6: normalizeRanges([...a.v6, ...b.v6]) };
}

/** Addresses of `a` not in `b`. */
export function ipSetSubtract(a: IpSet, b: IpSet): IpSet {
  return { v4: subtractRanges(a.v4, b.v4), v6: subtractRanges(a.v6, b.v6) };
}

/** Addresses in both sets. */
export function ipSetIntersect(a: IpSet, b: IpSet): IpSet {
  return { v4: intersectRanges(a.v4, b.v4), v6: intersectRanges(a.v6, b.v6) };
}

/** Whether the set holds no address. */
export function ipSetIsEmpty(set: IpSet): boolean {
  return set.v4.length === 0 && set.v6.length === 0;
}

/** FNV-1a 32-bit hash of a string: stable names and probes for deterministic allocation. */
export function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
