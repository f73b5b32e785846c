import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import {
  canonicalIp,
  cidrContains,
  familyName,
  formatIp,
  ipSetContains,
  ipSetOf,
  ipSetSubtract,
  ipSetUnion,
  longestCoveringPrefix,
  parseCidr,
  parseIp,
  rangeToCidrs,
  subnet,
  subtractRanges,
  type Cidr,
  type IpAddress,
  type IpRange,
} from './ip.js';

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', 4, '10.0.0.0', '10.255.255.255'],
    ['10.1.2.3/8', 4, '10.0.0.0', '10.255.255.255'],
    ['0.0.0.0/0', 4, '0.0.0.0', '255.255.255.255'],
    ['192.168.1.7/32', 4, '192.168.1.7', '192.168.1.7'],
    ['2001:db8::/32', 6, '2001:db8::', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff'],
    ['::/0', 6, '::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
  ] as const)('%s', (text, family, first, last) => {
    const cidr = parseCidr(text);
    expect(cidr?.family).toBe(family);
    expect(cidr && formatIp(family, cidr.range[0])).toBe(first);
    expect(cidr && formatIp(family, cidr.range[1])).toBe(last);
  });

  it.each([
    '10.0.0.1',
    '10.0.0.0/33',
    '10.0.0/8',
    '0x0a.0.0.0/8',
    '10.0.0.0/-1',
    '2001:db8::/129',
    'fe80::1%eth0/64',
  ])('rejects %s', (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });
});

describe('rangeToCidrs', () => {
  it('splits 0.0.0.0-9.255.255.255 as DESIGN.md shows', () => {
    const range = [
      parseIp('0.0.0.0')?.value ?? -1n,
      parseIp('9.255.255.255')?.value ?? -1n,
    ] as const;
    expect(rangeToCidrs(4, range)).toEqual(['0.0.0.0/5', '8.0.0.0/7']);
  });

  it('covers exactly the range, for any range', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }),
        fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }),
        (a, b) => {
          const range: IpRange = a <= b ? [a, b] : [b, a];
          const covered = rangeToCidrs(4, range).map((c) => parseCidr(c)?.range ?? [0n, -1n]);
          let next = range[0];
          for (const [lo, hi] of covered) {
            expect(lo).toBe(next);
            next = hi + 1n;
          }
          expect(next).toBe(range[1] + 1n);
        },
      ),
      { numRuns: 200 },
    );
  });
});

it('subtractRanges cuts holes', () => {
  expect(
    subtractRanges(
      [[0n, 100n]],
      [
        [10n, 20n],
        [50n, 200n],
      ],
    ),
  ).toEqual([
    [0n, 9n],
    [21n, 49n],
  ]);
});

describe('parseIp', () => {
  const strict = (text: string): string | undefined => {
    if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text).toString();
    if (!text.includes('%') && ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text).toString();
    return undefined;
  };
  const parsed = (text: string): string | undefined => {
    const ip = parseIp(text);
    return ip && ipaddr.fromByteArray(toBytes(ip.family, ip.value)).toString();
  };
  const toBytes = (family: 4 | 6, value: bigint): number[] => {
    const length = family === 4 ? 4 : 16;
    return Array.from({ length }, (_, i) =>
      Number((value >> BigInt(8 * (length - 1 - i))) & 0xffn),
    );
  };
  const part = fc.oneof(
    fc.nat(300).map(String),
    fc.constantFrom('0', '00', '01', '0x1', '255', '256', '1000', '', ' 1', 'a', '-1'),
  );

  it.each(['10.244.1.2', '0.0.0.0', '255.255.255.255', '::1', '::ffff:1.2.3.4', '2001:db8::7'])(
    'accepts %s',
    (text) => {
      expect(parsed(text)).toBe(strict(text));
      expect(parsed(text)).toBeDefined();
    },
  );

  it.each([
    '',
    '1.2.3',
    '1.2.3.256',
    '01.2.3.4',
    '0x7f.0.0.1',
    '1.2.3.4 ',
    'fe80::1%eth0',
    '1::2::3',
  ])('rejects %j', (text) => {
    expect(parseIp(text)).toBeUndefined();
  });

  it('agrees with ipaddr.js strict parsing', () => {
    const text = fc.oneof(
      fc.array(part, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('.')),
      fc.string(),
    );
    fc.assert(
      fc.property(text, (t) => {
        expect(parsed(t)).toBe(strict(t));
      }),
      { numRuns: 2000, seed: 7 },
    );
  });
});

describe('sets, containment and covers', () => {
  const cidr = (text: string): Cidr => {
    const parsed = parseCidr(text);
    if (!parsed) throw new Error(text);
    return parsed;
  };
  const address = (text: string): IpAddress => {
    const parsed = parseIp(text);
    if (!parsed) throw new Error(text);
    return parsed;
  };

  it.each([
    ['10.0.0.0/8', '10.1.2.3', true],
    ['10.0.0.0/8', '11.0.0.0', false],
    ['10.0.0.0/8', '::a00:1', false],
    ['2001:db8::/32', '2001:db8::1', true],
  ] as const)('%s contains %s: %s', (block, ip, expected) => {
    expect(cidrContains(cidr(block), address(ip))).toBe(expected);
  });

  it('unions, subtracts and tests membership per family', () => {
    const a = ipSetOf([cidr('10.0.0.0/24'), cidr('2001:db8::/64')]);
    const b = ipSetOf([cidr('10.0.1.0/24')]);
    const union = ipSetUnion(a, b);
    expect(union.v4).toEqual([[address('10.0.0.0').value, address('10.0.1.255').value]]);
    expect(ipSetContains(union, address('2001:db8::9'))).toBe(true);
    const cut = ipSetSubtract(union, ipSetOf([cidr('10.0.0.128/25')]));
    expect(ipSetContains(cut, address('10.0.0.200'))).toBe(false);
    expect(ipSetContains(cut, address('10.0.1.200'))).toBe(true);
  });

  it.each([
    ['10.0.0.0', '10.0.0.255', 24],
    ['10.0.0.0', '10.0.1.0', 32],
    ['192.168.10.0', '192.168.10.15', 28],
  ] as const)('the longest prefix covering %s-%s is /%i', (first, last, prefix) => {
    expect(longestCoveringPrefix(4, [address(first).value, address(last).value])).toBe(prefix);
  });

  it.each([
    ['10.244.0.0/16', 24, 3, '10.244.3.0/24'],
    ['10.244.0.0/16', 24, 256, undefined],
    ['fd00::/48', 64, 1, 'fd00:0:0:1::/64'],
  ] as const)('subnet(%s, /%i, %i) is %s', (parent, prefix, index, expected) => {
    expect(subnet(parent, prefix, index)).toBe(expected);
  });

  it('canonicalizes and names families', () => {
    expect(canonicalIp('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(canonicalIp('010.0.0.1')).toBeUndefined();
    expect(familyName(6)).toBe('IPv6');
  });
});
