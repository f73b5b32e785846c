/**
 * `computeReach`: connectivity between every pair of peers, per protocol and port. Pods are grouped
 * into equivalence classes first; every class pair is judged once and memoized.
 */
import type { PodState } from '../../model/types.js';
import type { NetworkState } from '../../model/types.js';
import {
  ALL_CONNS,
  NO_CONNS,
  PROTOCOLS,
  classifyPods,
  connsOf,
  connsToJson,
  externalView,
  formatRef,
  intersectConns,
  isNoConns,
  parseCidr,
  parseIp,
  ruleConns,
  ruleSelects,
  sameConns,
  selectingPolicies,
  unionConns,
  type CompiledPolicies,
  type CompiledRule,
  type ConnSet,
  type ConnsJson,
  type Direction,
  type PeerView,
  type PolicyRef,
  type RuleAllowance,
} from '../../controllers/networkpolicy/index.js';
import { externalAtoms, type ExternalAtom } from './externals.js';
import type {
  DirectionExplain,
  PairExplain,
  ReachConnection,
  ReachDenied,
  Reachability,
  ReachOptions,
  ReachPeer,
} from './types.js';

interface Unit {
  readonly view: PeerView;
  readonly atom?: ExternalAtom;
}

interface PeerEntry {
  readonly peer: ReachPeer;
  readonly units: readonly number[];
  readonly pod?: PodState;
  readonly atom?: ExternalAtom;
}

interface Side {
  readonly conns: ConnSet;
  readonly isolatedBy: readonly PolicyRef[];
  readonly allowedBy: readonly RuleAllowance[];
  readonly isolated: boolean;
}

interface DirectionTable {
  /** Per peer unit; a unit absent here gets `none`. */
  readonly sides: ReadonlyMap<number, Side>;
  readonly none: Side;
}

interface PairResult {
  readonly conns: ConnSet;
  readonly egress: Side;
  readonly ingress: Side;
}

const OPEN_SIDE: Side = { conns: ALL_CONNS, isolatedBy: [], allowedBy: [], isolated: false };

/** Judges unit pairs from per-unit direction tables, each built once from the rules that select it. */
class ReachEngine {
  private readonly ruleMatches = new Map<CompiledRule, number[]>();
  /** Per direction and unit: the table, `null` when not isolated, `undefined` until built. */
  private readonly tables: Record<Direction, (DirectionTable | null | undefined)[]> = {
    ingress: [],
    egress: [],
  };

  constructor(
    private readonly compiled: CompiledPolicies,
    private readonly units: readonly Unit[],
  ) {}

  private matched(rule: CompiledRule): number[] {
    let list = this.ruleMatches.get(rule);
    if (!list) {
      list = [];
      for (let i = 0; i < this.units.length; i++) {
        const unit = this.units[i];
        if (unit && ruleSelects(this.compiled, rule, unit.view)) list.push(i);
      }
      this.ruleMatches.set(rule, list);
    }
    return list;
  }

  private build(unitIndex: number, direction: Direction): DirectionTable | null {
    const unit = this.units[unitIndex];
    const policies =
      unit && this.compiled.enforced ? selectingPolicies(this.compiled, unit.view, direction) : [];
    if (!unit || policies.length === 0) return null;
    const allowances = new Map<number, RuleAllowance[]>();
    for (const policy of policies) {
      for (const rule of policy[direction]) {
        const ingressConns = direction === 'ingress' ? ruleConns(rule, unit.view) : undefined;
        for (const peerIndex of this.matched(rule)) {
          const peer = this.units[peerIndex];
          if (!peer) continue;
          const conns = ingressConns ?? ruleConns(rule, peer.view);
          if (isNoConns(conns)) continue;
          const list = allowances.get(peerIndex);
          if (list) list.push({ rule: rule.ref, conns });
          else allowances.set(peerIndex, [{ rule: rule.ref, conns }]);
        }
      }
    }
    const isolatedBy = policies.map((p) => p.ref);
    const sides = new Map<number, Side>();
    for (const [peerIndex, allowedBy] of allowances) {
      const conns =
        allowedBy.length === 1 && allowedBy[0]
          ? allowedBy[0].conns
          : unionConns(...allowedBy.map((a) => a.conns));
      sides.set(peerIndex, { conns, isolatedBy, allowedBy, isolated: true });
    }
    return { sides, none: { conns: NO_CONNS, isolatedBy, allowedBy: [], isolated: true } };
  }

  private side(unitIndex: number, direction: Direction, peerIndex: number): Side {
    const tables = this.tables[direction];
    let table = tables[unitIndex];
    if (table === undefined) {
      table = this.build(unitIndex, direction);
      tables[unitIndex] = table;
    }
    if (table === null) return OPEN_SIDE;
    return table.sides.get(peerIndex) ?? table.none;
  }

  /** What is allowed from unit `src` to unit `dst`. */
  conns(src: number, dst: number): ConnSet {
    const egress = this.side(src, 'egress', dst).conns;
    if (isNoConns(egress)) return NO_CONNS;
    return intersectConns(egress, this.side(dst, 'ingress', src).conns);
  }

  /** `conns` with the sides that decided it. */
  pair(src: number, dst: number): PairResult {
    const egress = this.side(src, 'egress', dst);
    const ingress = this.side(dst, 'ingress', src);
    return { conns: intersectConns(egress.conns, ingress.conns), egress, ingress };
  }
}

function filterMatches(spec: string | undefined, entry: PeerEntry): boolean {
  if (spec === undefined || spec === '') return true;
  const { peer, atom } = entry;
  if (spec === peer.id) return true;
  if (atom) {
    const cidr = parseCidr(
      spec.includes('/') ? spec : `${spec}/${parseIp(spec)?.family === 6 ? 128 : 32}`,
    );
    return (
      cidr !== undefined &&
      cidr.family === atom.family &&
      cidr.range[0] <= atom.range[1] &&
      atom.range[0] <= cidr.range[1]
    );
  }
  if (peer.namespace === undefined || peer.name === undefined) return false;
  return (
    spec === `${peer.namespace}/${peer.name}` ||
    spec === `${peer.namespace}/*` ||
    spec === peer.name
  );
}

function portFilter(option: ReachOptions['port']): ConnSet | undefined {
  if (option === undefined) return undefined;
  const { protocol, port } =
    typeof option === 'number' ? { protocol: undefined, port: option } : option;
  const protocols = protocol ? [protocol] : PROTOCOLS;
  return unionConns(NO_CONNS, ...protocols.map((p) => connsOf(p, [[port, port]])));
}

function explainSide(side: Side): DirectionExplain {
  const seen = new Set<string>();
  const allowedBy = side.allowedBy.filter((a) => {
    const key = formatRef(a.rule);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return {
    isolated: side.isolated,
    isolatedBy: [...new Set(side.isolatedBy.map((r) => formatRef(r)))],
    allowedBy: allowedBy.map((a) => ({
      policy: `${a.rule.namespace}/${a.rule.name}`,
      field: a.rule.field,
      conns: connsToJson(a.conns),
    })),
  };
}

function mergeSides(sides: readonly Side[]): Side {
  if (sides.length === 1 && sides[0]) return sides[0];
  return {
    conns: unionConns(NO_CONNS, ...sides.map((s) => s.conns)),
    isolated: sides.some((s) => s.isolated),
    isolatedBy: sides.flatMap((s) => s.isolatedBy),
    allowedBy: sides.flatMap((s) => s.allowedBy),
  };
}

function comparePeers(a: PeerEntry, b: PeerEntry): number {
  if (a.atom && b.atom) {
    if (a.atom.family !== b.atom.family) return a.atom.family - b.atom.family;
    return a.atom.range[0] < b.atom.range[0] ? -1 : a.atom.range[0] > b.atom.range[0] ? 1 : 0;
  }
  if (a.atom) return 1;
  if (b.atom) return -1;
  return a.peer.id < b.peer.id ? -1 : a.peer.id > b.peer.id ? 1 : 0;
}

function buildPeers(
  state: NetworkState,
  compiled: CompiledPolicies,
  opts: ReachOptions,
): { units: Unit[]; peers: PeerEntry[] } {
  const pods = state.pods.filter((p) => opts.addons === true || !p.addon);
  const classes = classifyPods(compiled, pods);
  const units: Unit[] = classes.map((c) => ({ view: c.view }));
  const classOf = new Map<PodState, number>();
  for (const c of classes) for (const pod of c.pods) classOf.set(pod, c.index);
  const peers: PeerEntry[] = [];
  if (opts.granularity === 'pod') {
    for (const pod of pods) {
      const unit = classOf.get(pod) ?? 0;
      const id = `${pod.namespace}/${pod.name}[Pod]`;
      peers.push({
        peer: { id, kind: 'Pod', namespace: pod.namespace, name: pod.name },
        units: [unit],
        pod,
      });
    }
  } else {
    const workloads = new Map<string, { peer: ReachPeer; units: Set<number> }>();
    for (const pod of pods) {
      const { kind, name } = pod.workload;
      const id = `${pod.namespace}/${name}[${kind}]`;
      let entry = workloads.get(id);
      if (!entry) {
        entry = { peer: { id, kind, namespace: pod.namespace, name }, units: new Set() };
        workloads.set(id, entry);
      }
      entry.units.add(classOf.get(pod) ?? 0);
    }
    for (const w of workloads.values())
      peers.push({ peer: w.peer, units: [...w.units].sort((a, b) => a - b) });
  }
  for (const atom of externalAtoms(state, compiled)) {
    const unit = units.length;
    units.push({ view: externalView(atom.family, atom.range), atom });
    peers.push({ peer: { id: atom.id, kind: 'External', cidrs: atom.cidrs }, units: [unit], atom });
  }
  peers.sort(comparePeers);
  return { units, peers };
}

/**
 * Computes who can reach whom (DESIGN.md's Reachability). At workload granularity a pair's conns
 * are what holds for EVERY pod pair of the two workloads (intersection: a guarantee, not a
 * possibility); with `explain`, a pair whose pods differ also carries the union (`explain.union`).
 */
export function computeReach(
  state: NetworkState,
  compiled: CompiledPolicies,
  opts: ReachOptions,
): Reachability {
  const { units, peers } = buildPeers(state, compiled, opts);
  const engine = new ReachEngine(compiled, units);
  const only = portFilter(opts.port);
  const inNamespace = (e: PeerEntry): boolean =>
    opts.namespace === undefined || e.peer.namespace === opts.namespace;
  const sources = peers.filter((e) => filterMatches(opts.from, e));
  const destinations = peers.filter((e) => filterMatches(opts.to, e));
  const connections: ReachConnection[] = [];
  const denied: ReachDenied[] = [];
  const used = new Set<PeerEntry>();
  const jsonCache = new Map<ConnSet, ConnsJson>();
  const jsonOf = (set: ConnSet): ConnsJson => {
    let json = jsonCache.get(set);
    if (!json) {
      json = connsToJson(set);
      jsonCache.set(set, json);
    }
    return json;
  };
  for (const src of sources) {
    for (const dst of destinations) {
      if (src === dst || (src.atom && dst.atom)) continue;
      if (!inNamespace(src) && !inNamespace(dst)) continue;
      const [s0, s1] = src.units;
      const [d0, d1] = dst.units;
      const single = s0 !== undefined && d0 !== undefined && s1 === undefined && d1 === undefined;
      let conns: ConnSet;
      let explain: PairExplain | undefined;
      if (single && opts.explain !== true) {
        conns = engine.conns(s0, d0);
        if (only) conns = intersectConns(conns, only);
      } else {
        const results = src.units.flatMap((s) => dst.units.map((d) => engine.pair(s, d)));
        conns = results.reduce<ConnSet>((acc, r) => intersectConns(acc, r.conns), ALL_CONNS);
        let union = unionConns(...results.map((r) => r.conns));
        if (only) {
          conns = intersectConns(conns, only);
          union = intersectConns(union, only);
        }
        if (opts.explain === true) {
          explain = {
            egress: explainSide(mergeSides(results.map((r) => r.egress))),
            ingress: explainSide(mergeSides(results.map((r) => r.ingress))),
            ...(sameConns(conns, union) ? {} : { union: connsToJson(union) }),
          };
        }
      }
      if (isNoConns(conns)) {
        if (explain) denied.push({ src: src.peer.id, dst: dst.peer.id, explain });
        continue;
      }
      used.add(src).add(dst);
      connections.push({
        src: src.peer.id,
        dst: dst.peer.id,
        conns: jsonOf(conns),
        ...(explain ? { explain } : {}),
      });
    }
  }
  const filtered = opts.from !== undefined || opts.to !== undefined || opts.namespace !== undefined;
  const listed = peers.filter(
    (e) =>
      used.has(e) ||
      !filtered ||
      ((filterMatches(opts.from, e) || filterMatches(opts.to, e)) &&
        (opts.namespace === undefined || e.peer.namespace === opts.namespace)),
  );
  return {
    apiVersion: 'kwire.dev/v1alpha1',
    kind: 'Reachability',
    granularity: opts.granularity,
    peers: listed.map((e) => e.peer),
    connections,
    ...(opts.explain === true ? { denied } : {}),
  };
}
