/**
 * The `addresses` of an IPAddressPool: CIDRs and `first-last` ranges read as MetalLB reads them,
 * and how many addresses of a range MetalLB may hand out. Arithmetic comes from `model/ip`.
 */
import { familyBits, familyName, maskAddress, parseIp, type IpFamily } from '../../model/ip.js';
import type { AddressRange } from '../../model/metallb.js';
export type { AddressRange } from '../../model/metallb.js';

/** Parses `A.B.C.D/N`, `X::/N` or `first-last`; returns an error message when invalid. */
export function parseAddressRange(text: string): AddressRange | string {
  const dash = text.indexOf('-');
  if (dash >= 0) {
    const from = parseIp(text.slice(0, dash).trim());
    const to = parseIp(text.slice(dash + 1).trim());
    if (!from || !to)
      return `invalid IP range ${JSON.stringify(text)}: both ends must be IP addresses`;
    if (from.family !== to.family) {
      return `invalid IP range ${JSON.stringify(text)}: mixes ${familyName(from.family)} and ${familyName(to.family)}`;
    }
    if (from.value > to.value) {
      return `invalid IP range ${JSON.stringify(text)}: the first address is above the last`;
    }
    return { family: from.family, first: from.value, last: to.value, text };
  }
  const slash = text.indexOf('/');
  if (slash < 0) {
    const single = parseIp(text);
    const hint = single ? ` Did you mean "${text}/${familyBits(single.family)}"?` : '';
    return `invalid CIDR ${JSON.stringify(text)}: the prefix length is missing.${hint}`;
  }
  const base = parseIp(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  const length = /^\d{1,3}$/.test(lengthText) ? Number(lengthText) : NaN;
  if (!base) return `invalid CIDR ${JSON.stringify(text)}: not an IP address before "/"`;
  const bits = familyBits(base.family);
  if (!(length >= 0 && length <= bits)) {
    return `invalid CIDR ${JSON.stringify(text)}: prefix length must be 0-${bits}`;
  }
  const first = maskAddress(base.family, base.value, length);
  return { family: base.family, first, last: first + (1n << BigInt(bits - length)) - 1n, text };
}

/** Whether an IPv4 address ends in .0 or .255 (MetalLB's `avoidBuggyIPs`). */
export function isBuggyIP(family: IpFamily, value: bigint): boolean {
  if (family !== 4) return false;
  const last = value & 0xffn;
  return last === 0n || last === 0xffn;
}

/** Number of addresses of a range MetalLB may hand out. */
export function usableCount(range: AddressRange, avoidBuggyIPs: boolean): bigint {
  const size = range.last - range.first + 1n;
  if (!avoidBuggyIPs || range.family !== 4) return size;
  return size - countCongruent(range, 0n) - countCongruent(range, 0xffn);
}

/** How many values v in the range have v mod 256 === residue. */
function countCongruent(range: AddressRange, residue: bigint): bigint {
  const upTo = (n: bigint): bigint => (n < residue ? 0n : (n - residue) / 256n + 1n);
  return upTo(range.last) - (range.first === 0n ? 0n : upTo(range.first - 1n));
}
