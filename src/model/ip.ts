/**
 * IP arithmetic on bigints: parsing (strict, via ipaddr.js), CIDR ranges, formatting.
 */
import ipaddr from 'ipaddr.js';

/** An address family. */
export type Family = 4 | 6;

/** A closed range of addresses of one family. */
export interface IpRange {
  readonly family: Family;
  readonly first: bigint;
  readonly last: bigint;
}

/** Parses an IPv4 or IPv6 address into a bigint; undefined when invalid. */
export function ipToBigInt(text: string): { family: Family; value: bigint } | undefined {
  try {
    const addr = ipaddr.parse(text);
    const bytes = addr.toByteArray();
    let value = 0n;
    for (const b of bytes) value = (value << 8n) | BigInt(b);
    return { family: addr.kind() === 'ipv4' ? 4 : 6, value };
  } catch {
    return undefined;
  }
}

/** Formats a bigint address of a family. */
export function bigIntToIp(value: bigint, family: Family): string {
  const bytes: number[] = [];
  const n = family === 4 ? 4 : 16;
  for (let i = n - 1; i >= 0; i--) bytes.push(Number((value >> BigInt(i * 8)) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

/** Parses `a.b.c.d/n` into its range; undefined when invalid. */
export function cidrRange(cidr: string): IpRange | undefined {
  try {
    const [addr, bits] = ipaddr.parseCIDR(cidr);
    const family: Family = addr.kind() === 'ipv4' ? 4 : 6;
    const width = family === 4 ? 32 : 128;
    const parsed = ipToBigInt(addr.toString());
    if (!parsed) return undefined;
    const hostBits = BigInt(width - bits);
    const first = (parsed.value >> hostBits) << hostBits;
    return { family, first, last: first + (1n << hostBits) - 1n };
  } catch {
    return undefined;
  }
}

/** True when the address lies in the range. */
export function inRange(ip: string, range: IpRange): boolean {
  const p = ipToBigInt(ip);
  return p !== undefined && p.family === range.family && p.value >= range.first && p.value <= range.last;
}

/** The /mask subnets of a CIDR in order (node pod CIDRs from the cluster pod CIDR). */
export function subnet(cidr: string, mask: number, index: number): string | undefined {
  const r = cidrRange(cidr);
  if (!r) return undefined;
  const width = r.family === 4 ? 32 : 128;
  const first = r.first + (BigInt(index) << BigInt(width - mask));
  if (first > r.last) return undefined;
  return `${bigIntToIp(first, r.family)}/${mask}`;
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
