/**
 * `computeReach`: connectivity between every pair of peers, per protocol and port. Pods are grouped
 * into equivalence classes first; each class or atom pair is judged by the ReachEngine (engine.ts).
 */
import type { NetworkState, PodState } from '../../model/types.js';
import { ALL_CONNS, NO_CONNS, PROTOCOLS, classifyPods, connsOf, connsToJson, externalView, formatRef, intersectConns, isNoConns, sameConns, unionConns, type CompiledPolicies, type ConnSet, type ConnsJson } from '../../model/policy/index.js';
import { parseCidr, parseIp } from '../../model/ip.js';
import { ALL_ID, NO_ID, ReachEngine, type Side, type Unit } from './engine.js';
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

interface PeerEntry {
  readonly peer: ReachPeer;
  readonly units: readonly number[];
  readonly pod?: PodState;
  readonly atom?: ExternalAtom;
}

type PeerFilter = (entry: PeerEntry) => boolean;

/** Compiles a `from`/`to` option once: a peer id, `ns/name`, `ns/*`, a name, or an IP/CIDR for atoms. */
function compileFilter(spec: string | undefined): PeerFilter {
  if (spec === undefined || spec === '') return () => true;
  const cidr = parseCidr(
    spec.includes('/') ? spec : `${spec}/${parseIp(spec)?.family === 6 ? 128 : 32}`,
  );
  return ({ peer, atom }) => {
    if (spec === peer.id) return true;
    if (atom) {
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
  };
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
    type Workload = { peer: ReachPeer; units: Set<number> };
    const workloads = new Map<string, Workload>();
    let previous: { pod: PodState; entry: Workload } | undefined;
    for (const pod of pods) {
      const { kind, name } = pod.workload;
      let entry: Workload | undefined;
      if (
        previous?.pod.namespace === pod.namespace &&
        previous.pod.workload.kind === kind &&
        previous.pod.workload.name === name
      ) {
        entry = previous.entry;
      } else {
        const id = `${pod.namespace}/${name}[${kind}]`;
        entry = workloads.get(id);
        if (!entry) {
          entry = { peer: { id, kind, namespace: pod.namespace, name }, units: new Set() };
          workloads.set(id, entry);
        }
        previous = { pod, entry };
      }
      entry.units.add(classOf.get(pod) ?? 0);
    }
    for (const w of workloads.values())
      peers.push({ peer: w.peer, units: [...w.units].sort((a, b) => a - b) });
  }
  for (const atom of externalAtoms(state, compiled)) {
    const unit = units.length;
    units.push({ view: externalView(atom.family, atom.range) });
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
  const { pool } = engine;
  const only = portFilter(opts.port);
  const onlyId = only ? pool.idOf(only) : ALL_ID;
  const explaining = opts.explain === true;
  const fromFilter = compileFilter(opts.from);
  const toFilter = compileFilter(opts.to);
  const inNamespace = peers.map(
    (e) => opts.namespace === undefined || e.peer.namespace === opts.namespace,
  );
  const sources = peers.flatMap((e, i) => (fromFilter(e) ? [i] : []));
  const destinations = peers.flatMap((e, i) => (toFilter(e) ? [i] : []));
  const connections: ReachConnection[] = [];
  const denied: ReachDenied[] = [];
  const used = new Uint8Array(peers.length);
  const jsonById: ConnsJson[] = [];
  const jsonOf = (id: number): ConnsJson => {
    let json = jsonById[id];
    if (!json) {
      json = connsToJson(pool.setOf(id));
      jsonById[id] = json;
    }
    return json;
  };
  const unitConns = (src: PeerEntry, dst: PeerEntry): number => {
    const [s0, s1] = src.units;
    const [d0, d1] = dst.units;
    if (s0 !== undefined && d0 !== undefined && s1 === undefined && d1 === undefined)
      return pool.intersect(engine.connsId(s0, d0), onlyId);
    let conns = ALL_ID;
    for (const s of src.units)
      for (const d of dst.units) conns = pool.intersect(conns, engine.connsId(s, d));
    return pool.intersect(conns, onlyId);
  };
  const destinationsInNamespace = destinations.filter((di) => inNamespace[di] === true);
  for (const si of sources) {
    const src = peers[si];
    if (!src) continue;
    for (const di of inNamespace[si] === true ? destinations : destinationsInNamespace) {
      const dst = peers[di];
      if (!dst || si === di || (src.atom && dst.atom)) continue;
      if (!explaining) {
        const conns = unitConns(src, dst);
        if (conns === NO_ID) continue;
        used[si] = 1;
        used[di] = 1;
        connections.push({ src: src.peer.id, dst: dst.peer.id, conns: jsonOf(conns) });
        continue;
      }
      const results = src.units.flatMap((s) => dst.units.map((d) => engine.pair(s, d)));
      let conns = results.reduce<ConnSet>((acc, r) => intersectConns(acc, r.conns), ALL_CONNS);
      let union = unionConns(...results.map((r) => r.conns));
      if (only) {
        conns = intersectConns(conns, only);
        union = intersectConns(union, only);
      }
      const explain: PairExplain = {
        egress: explainSide(mergeSides(results.map((r) => r.egress))),
        ingress: explainSide(mergeSides(results.map((r) => r.ingress))),
        ...(sameConns(conns, union) ? {} : { union: connsToJson(union) }),
      };
      if (isNoConns(conns)) {
        denied.push({ src: src.peer.id, dst: dst.peer.id, explain });
        continue;
      }
      used[si] = 1;
      used[di] = 1;
      connections.push({
        src: src.peer.id,
        dst: dst.peer.id,
        conns: jsonOf(pool.idOf(conns)),
        explain,
      });
    }
  }
  const filtered = opts.from !== undefined || opts.to !== undefined || opts.namespace !== undefined;
  const listed = peers.filter(
    (e, i) =>
      used[i] === 1 ||
      !filtered ||
      ((fromFilter(e) || toFilter(e)) &&
        (opts.namespace === undefined || e.peer.namespace === opts.namespace)),
  );
  return {
    apiVersion: 'kwire.dev/v1alpha1',
    kind: 'Reachability',
    granularity: opts.granularity,
    peers: listed.map((e) => e.peer),
    connections,
    ...(explaining ? { denied } : {}),
  };
}
