/**
 * Source ranges for `whitelist-source-range` / `denylist-source-range`: CIDRs compiled once into
 * bigint masks, a client address tested by integer comparison.
 */
import ipaddr from 'ipaddr.js';
import type { CidrBlock, SourceRange } from './types.js';

function toBigint(bytes: readonly number[]): bigint {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return value;
}

function parseAddress(text: string): { family: 4 | 6; value: bigint } | undefined {
  if (!ipaddr.isValid(text)) return undefined;
  let addr = ipaddr.parse(text);
  if (addr.kind() === 'ipv6' && addr instanceof ipaddr.IPv6 && addr.isIPv4MappedAddress()) {
    addr = addr.toIPv4Address();
  }
  if (addr.kind() === 'ipv4' && !ipaddr.IPv4.isValidFourPartDecimal(text) && !text.includes(':')) {
    return undefined;
  }
  return { family: addr.kind() === 'ipv4' ? 4 : 6, value: toBigint(addr.toByteArray()) };
}

/** Compiles a comma-separated CIDR list; returns the bad entries when any is invalid. */
export function compileSourceRange(list: string): { range?: SourceRange; invalid: string[] } {
  const blocks: CidrBlock[] = [];
  const cidrs: string[] = [];
  const invalid: string[] = [];
  for (const raw of list.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const text = entry.includes('/') ? entry : `${entry}/${entry.includes(':') ? 128 : 32}`;
    const slash = text.indexOf('/');
    const address = parseAddress(text.slice(0, slash));
    const bitsText = text.slice(slash + 1);
    const bits = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
    const width = address?.family === 4 ? 32 : 128;
    if (!address || !(bits >= 0 && bits <= width)) {
      invalid.push(entry);
      continue;
    }
    const all = (1n << BigInt(width)) - 1n;
    const mask = all ^ ((1n << BigInt(width - bits)) - 1n);
    blocks.push({ family: address.family, network: address.value & mask, mask });
    cidrs.push(entry);
  }
  if (blocks.length === 0) return { invalid };
  return { range: { cidrs, blocks }, invalid };
}

/** Whether a client address lies in a source range (false for an unparseable address). */
export function inSourceRange(range: SourceRange, clientIP: string): boolean {
  const address = parseAddress(clientIP);
  if (!address) return false;
  return range.blocks.some(
    (b) => b.family === address.family && (address.value & b.mask) === b.network,
  );
}
