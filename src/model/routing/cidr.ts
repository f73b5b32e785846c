/**
 * Source ranges for `whitelist-source-range` / `denylist-source-range`: CIDRs compiled once into an
 * address set, a client address tested by integer comparison.
 */
import { familyBits, ipSetContains, ipSetOf, parseCidr, parseIp, type Cidr, type IpAddress } from '../ip.js';
import type { SourceRange } from './types.js';

const V4_MAPPED = 0xffff_0000_0000n;
const V4_MAPPED_MASK = ~0xffff_ffffn;

/** A client address, an IPv4-mapped IPv6 address read as the IPv4 address it carries. */
function clientAddress(text: string): IpAddress | undefined {
  const address = parseIp(text);
  if (address?.family === 6 && (address.value & V4_MAPPED_MASK) === V4_MAPPED) {
    return { family: 4, value: address.value & 0xffff_ffffn };
  }
  return address;
}

/** Compiles a comma-separated CIDR list (a bare address is its /32 or /128); returns the bad entries when any is invalid. */
export function compileSourceRange(list: string): { range?: SourceRange; invalid: string[] } {
  const blocks: Cidr[] = [];
  const cidrs: string[] = [];
  const invalid: string[] = [];
  for (const raw of list.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const single = entry.includes('/') ? undefined : parseIp(entry);
    const cidr = parseCidr(single ? `${entry}/${familyBits(single.family)}` : entry);
    if (!cidr) {
      invalid.push(entry);
      continue;
    }
    blocks.push(cidr);
    cidrs.push(entry);
  }
  if (blocks.length === 0) return { invalid };
  return { range: { cidrs, set: ipSetOf(blocks) }, invalid };
}

/** Whether a client address lies in a source range (false for an unparseable address). */
export function inSourceRange(range: SourceRange, clientIP: string): boolean {
  const address = clientAddress(clientIP);
  return address !== undefined && ipSetContains(range.set, address);
}
