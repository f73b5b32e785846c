import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Protocol } from '../../api/types.js';
import {
  ALL_CONNS,
  connsAllow,
  connsOf,
  connsToJson,
  formatConns,
  intersectConns,
  sameConns,
  subtractConns,
  unionConns,
  type ConnSet,
} from './conns.js';

const protocol = fc.constantFrom<Protocol>('TCP', 'UDP', 'SCTP');
const range = fc
  .tuple(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 0, max: 20 }))
  .map(([lo, len]) => [lo, lo + len] as const);
const connSet = fc
  .array(fc.tuple(protocol, range), { maxLength: 5 })
  .map((parts) => unionConns(...parts.map(([p, r]) => connsOf(p, [r]))));

describe('connection sets', () => {
  it('formats like netpol-analyzer', () => {
    const set = unionConns(
      connsOf('TCP', [
        [8080, 8090],
        [80, 80],
      ]),
      connsOf('UDP', [[53, 53]]),
    );
    expect(formatConns(set)).toBe('TCP 80,8080-8090,UDP 53');
    expect(formatConns(ALL_CONNS)).toBe('All Connections');
    expect(connsToJson(ALL_CONNS)).toBe('all');
  });

  it('union, intersection and difference agree with membership', () => {
    fc.assert(
      fc.property(
        connSet,
        connSet,
        protocol,
        fc.integer({ min: 1, max: 230 }),
        (a: ConnSet, b: ConnSet, p, port) => {
          const inA = connsAllow(a, p, port);
          const inB = connsAllow(b, p, port);
          expect(connsAllow(unionConns(a, b), p, port)).toBe(inA || inB);
          expect(connsAllow(intersectConns(a, b), p, port)).toBe(inA && inB);
          expect(connsAllow(subtractConns(a, b), p, port)).toBe(inA && !inB);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('sameConns holds exactly when the text forms are equal', () => {
    fc.assert(
      fc.property(connSet, connSet, (a: ConnSet, b: ConnSet) => {
        expect(sameConns(a, b)).toBe(formatConns(a) === formatConns(b));
        expect(sameConns(a, unionConns(a, intersectConns(a, b)))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
