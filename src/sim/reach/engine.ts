/**
 * The reach engine: connection sets interned as integers, and per rule a bitset of the units (pod
 * classes and external atoms) its peers select. A unit pair is then judged with a few bit tests and
 * memoized set operations, never by re-matching selectors.
 */
import { ALL_CONNS, NO_CONNS, connsKey, intersectConns, portsConns, unionConns, type CompiledPeer, type CompiledPolicies, type CompiledPolicy, type CompiledRule, type ConnSet, type Direction, type PeerView, type PolicyRef, type RuleAllowance } from '../../model/policy/index.js';
import type { CompiledSelector } from '../../model/selectors.js';
import { familyRanges, ipSetContains, rangesCover } from '../../model/ip.js';

/** Id of the empty connection set in every pool. */
export const NO_ID = 0;
/** Id of the full connection set in every pool. */
export const ALL_ID = 1;

const PAIR_SPACE = 2 ** 26;
const DENSE = 256;

/** A memo of a commutative operation on ids: a dense table for small ids, a map beyond. */
class PairMemo {
  private readonly table = new Int32Array(DENSE * DENSE).fill(-1);
  private readonly sparse = new Map<number, number>();

  get(a: number, b: number): number | undefined {
    if (a < DENSE && b < DENSE) {
      const id = this.table[a * DENSE + b] ?? -1;
      return id < 0 ? undefined : id;
    }
    return this.sparse.get(a < b ? a * PAIR_SPACE + b : b * PAIR_SPACE + a);
  }

  set(a: number, b: number, id: number): void {
    if (a < DENSE && b < DENSE) {
      this.table[a * DENSE + b] = id;
      this.table[b * DENSE + a] = id;
    } else this.sparse.set(a < b ? a * PAIR_SPACE + b : b * PAIR_SPACE + a, id);
  }
}

/** Connection sets interned as ids, with memoized union and intersection. */
export class ConnsPool {
  private readonly sets: ConnSet[] = [NO_CONNS, ALL_CONNS];
  private readonly ids = new Map<string, number>([
    [connsKey(NO_CONNS), NO_ID],
    [connsKey(ALL_CONNS), ALL_ID],
  ]);
  private readonly unions = new PairMemo();
  private readonly intersections = new PairMemo();

  /** The id of a set (equal sets share one id). */
  idOf(set: ConnSet): number {
    if (set === NO_CONNS) return NO_ID;
    if (set === ALL_CONNS) return ALL_ID;
    const key = connsKey(set);
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.sets.length;
      this.sets.push(set);
      this.ids.set(key, id);
    }
    return id;
  }

  /** The set of an id. */
  setOf(id: number): ConnSet {
    return this.sets[id] ?? NO_CONNS;
  }

  /** Id of the union of two sets. */
  union(a: number, b: number): number {
    if (a === b || b === NO_ID || a === ALL_ID) return a;
    if (a === NO_ID || b === ALL_ID) return b;
    let id = this.unions.get(a, b);
    if (id === undefined) {
      id = this.idOf(unionConns(this.setOf(a), this.setOf(b)));
      this.unions.set(a, b, id);
    }
    return id;
  }

  /** Id of the intersection of two sets. */
  intersect(a: number, b: number): number {
    if (a === b || b === ALL_ID || a === NO_ID) return a;
    if (b === NO_ID || a === ALL_ID) return b;
    let id = this.intersections.get(a, b);
    if (id === undefined) {
      id = this.idOf(intersectConns(this.setOf(a), this.setOf(b)));
      this.intersections.set(a, b, id);
    }
    return id;
  }
}

/** A peer of reach: a class of alike pods or an external atom, as policies see it. */
export interface Unit {
  readonly view: PeerView;
}

/** One direction at one unit, with the rules that decided it. */
export interface Side {
  readonly conns: ConnSet;
  readonly isolatedBy: readonly PolicyRef[];
  readonly allowedBy: readonly RuleAllowance[];
  readonly isolated: boolean;
}

/** A unit pair: what it allows and the sides that decided it. */
export interface PairResult {
  readonly conns: ConnSet;
  readonly egress: Side;
  readonly ingress: Side;
}

const OPEN_SIDE: Side = { conns: ALL_CONNS, isolatedBy: [], allowedBy: [], isolated: false };

type Bitset = Uint32Array;

function bitsetOf(size: number): Bitset {
  return new Uint32Array((size + 31) >>> 5);
}

function hasBit(bits: Bitset, index: number): boolean {
  return ((bits[index >>> 5] ?? 0) & (1 << (index & 31))) !== 0;
}

function setBit(bits: Bitset, index: number): void {
  bits[index >>> 5] = (bits[index >>> 5] ?? 0) | (1 << (index & 31));
}

function andInto(target: Bitset, other: Bitset): void {
  for (let i = 0; i < target.length; i++) target[i] = (target[i] ?? 0) & (other[i] ?? 0);
}

function orInto(target: Bitset, other: Bitset): void {
  for (let i = 0; i < target.length; i++) target[i] = (target[i] ?? 0) | (other[i] ?? 0);
}

/** What one direction of one unit looks at: its isolating policies and their rules, in order. */
interface DirectionPlan {
  readonly isolatedBy: readonly PolicyRef[];
  readonly rules: Int32Array;
}

function portsKey(view: PeerView): string {
  if (view.kind !== 'pod') return '';
  return view.ports
    .map((p) => `${p.name ?? ''}:${String(p.containerPort)}/${p.protocol}`)
    .sort()
    .join(',');
}

/** Judges unit pairs (see the file comment); built once per `computeReach`. */
export class ReachEngine {
  readonly pool = new ConnsPool();
  private readonly rules: CompiledRule[] = [];
  private readonly ruleIndex = new Map<CompiledRule, number>();
  /** Per rule: the units its peers select, `null` when it selects every peer. */
  private readonly selected: (Bitset | null)[] = [];
  /** Per rule: the id of its conns when no port is named, else -1. */
  private readonly staticIds: number[] = [];
  private readonly namedIds = new Map<number, number>();
  private readonly portClass: number[] = [];
  private readonly portClasses: number;
  /** Per direction and unit: its plan, `null` when not isolated. */
  private readonly plans: Record<Direction, (DirectionPlan | null)[]> = {
    ingress: [],
    egress: [],
  };

  constructor(
    private readonly compiled: CompiledPolicies,
    private readonly units: readonly Unit[],
  ) {
    const portClassOf = new Map<string, number>();
    for (const unit of units) {
      const key = portsKey(unit.view);
      let id = portClassOf.get(key);
      if (id === undefined) {
        id = portClassOf.size;
        portClassOf.set(key, id);
      }
      this.portClass.push(id);
    }
    this.portClasses = portClassOf.size;
    const matcher = new PeerMatcher(compiled, units);
    for (const policy of compiled.policies) {
      for (const rule of [...policy.ingress, ...policy.egress]) {
        this.ruleIndex.set(rule, this.rules.length);
        this.rules.push(rule);
        this.selected.push(rule.peers === 'any' ? null : matcher.ruleBits(rule.peers, policy));
        this.staticIds.push(rule.staticConns ? this.pool.idOf(rule.staticConns) : -1);
      }
    }
    for (const [index, unit] of units.entries()) {
      const selecting = compiled.enforced ? selectingAll(compiled, unit.view) : [];
      this.plans.ingress[index] = this.plan(selecting, 'ingress');
      this.plans.egress[index] = this.plan(selecting, 'egress');
    }
  }

  private plan(selecting: readonly CompiledPolicy[], direction: Direction): DirectionPlan | null {
    const policies = selecting.filter((p) => p.isolates[direction]);
    if (policies.length === 0) return null;
    const rules: number[] = [];
    for (const policy of policies)
      for (const rule of policy[direction]) rules.push(this.ruleIndex.get(rule) ?? -1);
    return { isolatedBy: policies.map((p) => p.ref), rules: Int32Array.from(rules) };
  }

  private selects(rule: number, unit: number): boolean {
    const bits = this.selected[rule];
    return bits === null || (bits !== undefined && hasBit(bits, unit));
  }

  private ruleConnsId(rule: number, destination: number): number {
    const id = this.staticIds[rule] ?? -1;
    if (id >= 0) return id;
    const key = rule * this.portClasses + (this.portClass[destination] ?? 0);
    let named = this.namedIds.get(key);
    if (named === undefined) {
      const view = this.units[destination]?.view;
      const ports = view?.kind === 'pod' ? view.ports : undefined;
      named = this.pool.idOf(portsConns(this.rules[rule]?.ports ?? 'any', ports));
      this.namedIds.set(key, named);
    }
    return named;
  }

  private sideId(
    plan: DirectionPlan | null | undefined,
    peer: number,
    destination: number,
  ): number {
    if (!plan) return ALL_ID;
    let conns = NO_ID;
    for (const rule of plan.rules) {
      if (this.selects(rule, peer))
        conns = this.pool.union(conns, this.ruleConnsId(rule, destination));
    }
    return conns;
  }

  /** Id of what is allowed from unit `src` to unit `dst`. */
  connsId(src: number, dst: number): number {
    const egress = this.sideId(this.plans.egress[src], dst, dst);
    if (egress === NO_ID) return NO_ID;
    return this.pool.intersect(egress, this.sideId(this.plans.ingress[dst], src, dst));
  }

  private side(direction: Direction, unit: number, peer: number): Side {
    const plan = this.plans[direction][unit];
    if (!plan) return OPEN_SIDE;
    const destination = direction === 'ingress' ? unit : peer;
    const allowedBy: RuleAllowance[] = [];
    let conns = NO_ID;
    for (const rule of plan.rules) {
      const compiledRule = this.rules[rule];
      if (!compiledRule || !this.selects(rule, peer)) continue;
      const id = this.ruleConnsId(rule, destination);
      if (id === NO_ID) continue;
      allowedBy.push({ rule: compiledRule.ref, conns: this.pool.setOf(id) });
      conns = this.pool.union(conns, id);
    }
    return {
      conns: this.pool.setOf(conns),
      isolatedBy: plan.isolatedBy,
      allowedBy,
      isolated: true,
    };
  }

  /** What unit `src` may send unit `dst`, with the sides that decided it. */
  pair(src: number, dst: number): PairResult {
    const egress = this.side('egress', src, dst);
    const ingress = this.side('ingress', dst, src);
    return { conns: intersectConns(egress.conns, ingress.conns), egress, ingress };
  }
}

/** Policies of a pod's namespace whose podSelector selects it (either direction). */
function selectingAll(compiled: CompiledPolicies, view: PeerView): CompiledPolicy[] {
  if (view.kind !== 'pod') return [];
  const list = compiled.byNamespace.get(view.namespace) ?? [];
  return list.filter((p) => p.podSelector.matches(view.labels));
}

/** Computes the units each peer selects, caching selector results per distinct selector. */
class PeerMatcher {
  private readonly podBits = new Map<string, Bitset>();
  private readonly namespaceBits = new Map<string, Bitset>();
  private readonly ownBits = new Map<string, Bitset>();
  private readonly addressBits = new Map<string, Bitset>();
  private readonly peerBits = new Map<string, Bitset>();
  private readonly unitsByNamespace = new Map<string, number[]>();
  private readonly atoms: number[] = [];

  constructor(
    private readonly compiled: CompiledPolicies,
    private readonly units: readonly Unit[],
  ) {
    for (const [index, unit] of units.entries()) {
      if (unit.view.kind !== 'pod') {
        this.atoms.push(index);
        continue;
      }
      const list = this.unitsByNamespace.get(unit.view.namespace);
      if (list) list.push(index);
      else this.unitsByNamespace.set(unit.view.namespace, [index]);
    }
  }

  private pods(selector: CompiledSelector): Bitset {
    let bits = this.podBits.get(selector.key);
    if (!bits) {
      bits = bitsetOf(this.units.length);
      for (const [index, unit] of this.units.entries()) {
        if (unit.view.kind === 'pod' && selector.matches(unit.view.labels)) setBit(bits, index);
      }
      this.podBits.set(selector.key, bits);
    }
    return bits;
  }

  private namespaces(selector: CompiledSelector): Bitset {
    let bits = this.namespaceBits.get(selector.key);
    if (!bits) {
      bits = bitsetOf(this.units.length);
      for (const members of this.unitsByNamespace.values()) {
        const first = this.units[members[0] ?? -1]?.view;
        if (first?.kind !== 'pod' || !selector.matches(first.namespaceLabels)) continue;
        for (const index of members) setBit(bits, index);
      }
      this.namespaceBits.set(selector.key, bits);
    }
    return bits;
  }

  private own(namespace: string): Bitset {
    let bits = this.ownBits.get(namespace);
    if (!bits) {
      bits = bitsetOf(this.units.length);
      for (const index of this.unitsByNamespace.get(namespace) ?? []) setBit(bits, index);
      this.ownBits.set(namespace, bits);
    }
    return bits;
  }

  private addresses(peer: CompiledPeer & { kind: 'ipBlock' }): Bitset {
    let bits = this.addressBits.get(peer.text);
    if (!bits) {
      bits = bitsetOf(this.units.length);
      const candidates = this.compiled.ipBlockSelectsPods ? this.units.keys() : this.atoms;
      for (const index of candidates) {
        const view = this.units[index]?.view;
        if (!view) continue;
        const selected =
          view.kind === 'external'
            ? rangesCover(familyRanges(peer.set, view.family), view.range)
            : view.ip !== undefined && ipSetContains(peer.set, view.ip);
        if (selected) setBit(bits, index);
      }
      this.addressBits.set(peer.text, bits);
    }
    return bits;
  }

  private podPeer(peer: CompiledPeer & { kind: 'pods' }, policy: CompiledPolicy): Bitset {
    const namespaces =
      peer.namespaces === 'own' ? `own:${policy.ref.namespace}` : peer.namespaces.key;
    const key = `${namespaces}\u0000${peer.pods.key}`;
    let bits = this.peerBits.get(key);
    if (!bits) {
      bits = Uint32Array.from(
        peer.namespaces === 'own'
          ? this.own(policy.ref.namespace)
          : this.namespaces(peer.namespaces),
      );
      andInto(bits, this.pods(peer.pods));
      this.peerBits.set(key, bits);
    }
    return bits;
  }

  /** The units a rule's `from`/`to` peers select. */
  ruleBits(peers: readonly CompiledPeer[], policy: CompiledPolicy): Bitset {
    const bits = bitsetOf(this.units.length);
    for (const peer of peers)
      orInto(bits, peer.kind === 'ipBlock' ? this.addresses(peer) : this.podPeer(peer, policy));
    return bits;
  }
}
