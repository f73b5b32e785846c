/** External peers: the address space outside the pod CIDR, cut at every ipBlock boundary. */
import type { CompiledPolicies } from '../../model/policy/index.js';
import { formatIp, maxAddress, normalizeRanges, parseIp, rangeToCidrs, subtractRanges, type IpFamily, type IpRange } from '../../model/ip.js';
import type { NetworkState } from '../../model/types.js';

/** One external atom: a contiguous address range no ipBlock boundary cuts. */
export interface ExternalAtom {
  readonly family: IpFamily;
  readonly range: IpRange;
  readonly id: string;
  readonly cidrs: readonly string[];
}

/** The id netpol-analyzer gives a range: `A.B.C.D-E.F.G.H[External]`. */
export function externalId(family: IpFamily, range: IpRange): string {
  return `${formatIp(family, range[0])}-${formatIp(family, range[1])}[External]`;
}

/** Address families the inputs use: IPv4 always, IPv6 when a pod, CIDR or ipBlock has it. */
function familiesInUse(state: NetworkState, compiled: CompiledPolicies): IpFamily[] {
  const v6 =
    compiled.podCIDRs.v6.length > 0 ||
    state.pods.some((p) => p.ip.includes(':') && parseIp(p.ip)?.family === 6) ||
    compiled.policies.some((p) =>
      [...p.ingress, ...p.egress].some(
        (r) =>
          r.peers !== 'any' &&
          r.peers.some((peer) => peer.kind === 'ipBlock' && peer.set.v6.length > 0),
      ),
    );
  return v6 ? [4, 6] : [4];
}

/** Cuts the external address space at every ipBlock boundary of the compiled policies. */
export function externalAtoms(state: NetworkState, compiled: CompiledPolicies): ExternalAtom[] {
  const atoms: ExternalAtom[] = [];
  for (const family of familiesInUse(state, compiled)) {
    const cuts = new Set<bigint>();
    for (const policy of compiled.policies) {
      for (const rule of [...policy.ingress, ...policy.egress]) {
        if (rule.peers === 'any') continue;
        for (const peer of rule.peers) {
          if (peer.kind !== 'ipBlock') continue;
          for (const [lo, hi] of family === 4 ? peer.set.v4 : peer.set.v6) {
            cuts.add(lo);
            cuts.add(hi + 1n);
          }
        }
      }
    }
    const sortedCuts = [...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const universe: IpRange[] = [[0n, maxAddress(family)]];
    const pods = family === 4 ? compiled.podCIDRs.v4 : compiled.podCIDRs.v6;
    for (const [lo, hi] of subtractRanges(universe, normalizeRanges(pods))) {
      let start = lo;
      for (const cut of sortedCuts) {
        if (cut <= start || cut > hi) continue;
        atoms.push(atom(family, [start, cut - 1n]));
        start = cut;
      }
      atoms.push(atom(family, [start, hi]));
    }
  }
  return atoms;
}

function atom(family: IpFamily, range: IpRange): ExternalAtom {
  return { family, range, id: externalId(family, range), cidrs: rangeToCidrs(family, range) };
}
