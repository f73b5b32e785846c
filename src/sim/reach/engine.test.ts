import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Protocol } from '../../api/types.js';
import { ALL_CONNS, NO_CONNS, connsOf, intersectConns, sameConns, unionConns, type ConnSet } from '../../model/policy/index.js';
import { ALL_ID, ConnsPool, NO_ID } from './engine.js';

const protocol = fc.constantFrom<Protocol>('TCP', 'UDP', 'SCTP');
const connSet = fc
  .array(fc.tuple(protocol, fc.integer({ min: 1, max: 100 }), fc.nat(10)), { maxLength: 4 })
  .map((parts) =>
    unionConns(NO_CONNS, ...parts.map(([p, lo, len]) => connsOf(p, [[lo, lo + len]]))),
  );

describe('ConnsPool', () => {
  it('gives equal sets one id, and fixed ids to the empty and full sets', () => {
    const pool = new ConnsPool();
    expect(pool.idOf(NO_CONNS)).toBe(NO_ID);
    expect(pool.idOf(ALL_CONNS)).toBe(ALL_ID);
    expect(pool.idOf(connsOf('TCP', []))).toBe(NO_ID);
    const web = pool.idOf(connsOf('TCP', [[80, 80]]));
    expect(pool.idOf(unionConns(connsOf('TCP', [[80, 80]]), NO_CONNS))).toBe(web);
    expect(pool.idOf(connsOf('UDP', [[80, 80]]))).not.toBe(web);
  });

  it('unions and intersects like the sets do', () => {
    const pool = new ConnsPool();
    fc.assert(
      fc.property(connSet, connSet, (a: ConnSet, b: ConnSet) => {
        const ia = pool.idOf(a);
        const ib = pool.idOf(b);
        expect(sameConns(pool.setOf(pool.union(ia, ib)), unionConns(a, b))).toBe(true);
        expect(sameConns(pool.setOf(pool.intersect(ia, ib)), intersectConns(a, b))).toBe(true);
        expect(pool.union(ia, ib)).toBe(pool.union(ib, ia));
      }),
      { numRuns: 300, seed: 3 },
    );
  });
});
