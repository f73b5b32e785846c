/**
 * IP addresses as bigints and address sets as sorted disjoint ranges, per family. CIDRs are parsed
 * strictly once (ipaddr.js); matching afterwards is integer comparison only.
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

const BITS: Record<IpFamily, number> = { 4: 32, 6: 128 };

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

/** A parsed CIDR: its family, its range and its prefix length. */
export interface Cidr {
  readonly family: IpFamily;
  readonly range: IpRange;
  readonly prefix: number;
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

/** Splits a range into the fewest CIDRs that cover exactly it. */
export function rangeToCidrs(family: IpFamily, range: IpRange): string[] {
  const bits = BITS[family];
  const out: string[] = [];
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
    out.push(`${formatIp(family, first)}/${bits - size}`);
    first += 1n << BigInt(size);
  }
  return out;
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
