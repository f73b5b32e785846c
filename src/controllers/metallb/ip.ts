/**
 * IP arithmetic for MetalLB pools: addresses as bigints, ranges as inclusive [first, last] pairs,
 * formatting as Go's net.IP.String() does (dotted quad, RFC 5952 for IPv6).
 */
import ipaddr from 'ipaddr.js';

/** An address family, named as Kubernetes names it in `ipFamilies`. */
export type IPFamily = 'IPv4' | 'IPv6';

/** A parsed address. */
export interface IPValue {
  readonly family: IPFamily;
  readonly value: bigint;
}

/** An inclusive range of addresses of one family: one `addresses` entry of an IPAddressPool. */
export interface AddressRange {
  readonly family: IPFamily;
  readonly first: bigint;
  readonly last: bigint;
  /** The entry as written. */
  readonly text: string;
}

/** Number of bits of an address of the family. */
export function familyBits(family: IPFamily): number {
  return family === 'IPv4' ? 32 : 128;
}

/** Parses one address strictly (no leading zeros, no IPv6 zone); undefined when invalid. */
export function parseIP(text: string): IPValue | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) {
    return { family: 'IPv4', value: bytesToBigint(ipaddr.IPv4.parse(text).toByteArray()) };
  }
  if (!text.includes(':') || text.includes('%') || !ipaddr.IPv6.isValid(text)) return undefined;
  return { family: 'IPv6', value: bytesToBigint(ipaddr.IPv6.parse(text).toByteArray()) };
}

/** Formats an address: dotted quad for IPv4, RFC 5952 for IPv6. */
export function formatIP(family: IPFamily, value: bigint): string {
  const bytes = bigintToBytes(value, familyBits(family) / 8);
  if (family === 'IPv4') return bytes.join('.');
  return ipaddr.fromByteArray(bytes).toString();
}

/** The canonical text of an address, or undefined when it does not parse. */
export function canonicalIP(text: string): string | undefined {
  const ip = parseIP(text);
  return ip ? formatIP(ip.family, ip.value) : undefined;
}

/** Parses `A.B.C.D/N`, `X::/N` or `first-last`; returns an error message when invalid. */
export function parseAddressRange(text: string): AddressRange | string {
  const dash = text.indexOf('-');
  if (dash >= 0) {
    const from = parseIP(text.slice(0, dash).trim());
    const to = parseIP(text.slice(dash + 1).trim());
    if (!from || !to)
      return `invalid IP range ${JSON.stringify(text)}: both ends must be IP addresses`;
    if (from.family !== to.family) {
      return `invalid IP range ${JSON.stringify(text)}: mixes ${from.family} and ${to.family}`;
    }
    if (from.value > to.value) {
      return `invalid IP range ${JSON.stringify(text)}: the first address is above the last`;
    }
    return { family: from.family, first: from.value, last: to.value, text };
  }
  const slash = text.indexOf('/');
  if (slash < 0) {
    const single = parseIP(text);
    const hint = single ? ` Did you mean "${text}/${familyBits(single.family)}"?` : '';
    return `invalid CIDR ${JSON.stringify(text)}: the prefix length is missing.${hint}`;
  }
  const base = parseIP(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  const length = /^\d{1,3}$/.test(lengthText) ? Number(lengthText) : NaN;
  if (!base) return `invalid CIDR ${JSON.stringify(text)}: not an IP address before "/"`;
  const bits = familyBits(base.family);
  if (!(length >= 0 && length <= bits)) {
    return `invalid CIDR ${JSON.stringify(text)}: prefix length must be 0-${bits}`;
  }
  const first = maskAddress(base.value, length, bits);
  return { family: base.family, first, last: first + hostCount(length, bits) - 1n, text };
}

/** Clears the host bits of an address. */
export function maskAddress(value: bigint, prefixLength: number, bits: number): bigint {
  const host = hostCount(prefixLength, bits) - 1n;
  return value & ~host;
}

/** Number of addresses in a prefix of the given length. */
function hostCount(prefixLength: number, bits: number): bigint {
  return 1n << BigInt(bits - prefixLength);
}

/** The longest prefix length among the CIDRs that exactly cover a range. */
export function longestPrefixCovering(range: AddressRange): number {
  const bits = familyBits(range.family);
  let longest = 0;
  let at = range.first;
  while (at <= range.last) {
    let length = bits;
    while (length > 0) {
      const wider = length - 1;
      const size = hostCount(wider, bits);
      if (at % size !== 0n || at + size - 1n > range.last) break;
      length = wider;
    }
    longest = Math.max(longest, length);
    at += hostCount(length, bits);
  }
  return longest;
}

/** Whether an IPv4 address ends in .0 or .255 (MetalLB's `avoidBuggyIPs`). */
export function isBuggyIP(family: IPFamily, value: bigint): boolean {
  if (family !== 'IPv4') return false;
  const last = value & 0xffn;
  return last === 0n || last === 0xffn;
}

/** Number of addresses of a range MetalLB may hand out. */
export function usableCount(range: AddressRange, avoidBuggyIPs: boolean): bigint {
  const size = range.last - range.first + 1n;
  if (!avoidBuggyIPs || range.family !== 'IPv4') return size;
  return size - countCongruent(range, 0n) - countCongruent(range, 0xffn);
}

/** How many values v in the range have v mod 256 === residue. */
function countCongruent(range: AddressRange, residue: bigint): bigint {
  const upTo = (n: bigint): bigint => (n < residue ? 0n : (n - residue) / 256n + 1n);
  return upTo(range.last) - (range.first === 0n ? 0n : upTo(range.first - 1n));
}

function bytesToBigint(bytes: readonly number[]): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

function bigintToBytes(value: bigint, length: number): number[] {
  const bytes = new Array<number>(length);
  let rest = value;
  for (let i = length - 1; i >= 0; i--) {
    bytes[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return bytes;
}
