/**
 * `kwire diff`: what a change does to reachability. Pairs and ports gained and lost, with the
 * policies responsible (read from both documents' explain data). External peers are first cut at
 * the boundaries of both documents, so different ipBlock cuts compare address by address.
 */
import { connsFromJson, connsToJson, formatConns, isNoConns, sameConns, subtractConns, type ConnsJson } from '../../model/policy/index.js';
import { normalizeRanges, parseCidr, type IpFamily, type IpRange } from '../../model/ip.js';
import {
  externalId,
  type PairExplain,
  type Reachability,
  type ReachPeer,
} from '../../sim/reach/index.js';

/** How a pair changed. */
export type ChangeKind = 'added' | 'removed' | 'changed';

/** One pair whose allowed connections changed. */
export interface ReachChange {
  readonly src: string;
  readonly dst: string;
  readonly change: ChangeKind;
  /** Allowed before (`null`: no connection). */
  readonly old: ConnsJson | null;
  /** Allowed after (`null`: no connection). */
  readonly new: ConnsJson | null;
  /** Ports allowed after but not before. */
  readonly gained?: ConnsJson;
  /** Ports allowed before but not after. */
  readonly lost?: ConnsJson;
  /** `ns/name` of policies whose part in this pair differs (empty without explain data). */
  readonly responsible: readonly string[];
}

/** `kind: ReachabilityDiff`. */
export interface ReachDiff {
  readonly apiVersion: 'kwire.dev/v1alpha1';
  readonly kind: 'ReachabilityDiff';
  readonly same: boolean;
  /** False when either document lacks explain data (responsible lists are then empty). */
  readonly explained: boolean;
  readonly peersAdded: readonly string[];
  readonly peersRemoved: readonly string[];
  readonly changes: readonly ReachChange[];
}

interface Pair {
  readonly conns: ConnsJson | null;
  readonly explain?: PairExplain;
}

function peerRanges(peer: ReachPeer): { family: IpFamily; ranges: IpRange[] } | undefined {
  if (peer.kind !== 'External' || !peer.cidrs) return undefined;
  const cidrs = peer.cidrs.map((c) => parseCidr(c)).filter((c) => c !== undefined);
  const family = cidrs[0]?.family;
  if (family === undefined) return undefined;
  return { family, ranges: normalizeRanges(cidrs.map((c) => c.range)) };
}

/** Splits every external peer of both documents at the boundaries of both: old id → refined ids. */
function refineExternals(docs: readonly Reachability[]): Map<string, string[]> {
  const cuts: Record<IpFamily, Set<bigint>> = { 4: new Set(), 6: new Set() };
  const externals = new Map<string, { family: IpFamily; ranges: IpRange[] }>();
  for (const doc of docs) {
    for (const peer of doc.peers) {
      const r = peerRanges(peer);
      if (!r) continue;
      externals.set(peer.id, r);
      for (const [lo, hi] of r.ranges) cuts[r.family].add(lo).add(hi + 1n);
    }
  }
  const refined = new Map<string, string[]>();
  for (const [id, { family, ranges }] of externals) {
    const sorted = [...cuts[family]].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const ids: string[] = [];
    for (const [lo, hi] of ranges) {
      let start = lo;
      for (const cut of sorted) {
        if (cut <= start || cut > hi) continue;
        ids.push(externalId(family, [start, cut - 1n]));
        start = cut;
      }
      ids.push(externalId(family, [start, hi]));
    }
    refined.set(id, ids);
  }
  return refined;
}

function pairsOf(
  doc: Reachability,
  refined: ReadonlyMap<string, string[]>,
): Map<string, Pair & { src: string; dst: string }> {
  const pairs = new Map<string, Pair & { src: string; dst: string }>();
  const add = (src: string, dst: string, pair: Pair): void => {
    for (const s of refined.get(src) ?? [src]) {
      for (const d of refined.get(dst) ?? [dst])
        pairs.set(`${s}\u0000${d}`, { src: s, dst: d, ...pair });
    }
  };
  for (const c of doc.connections)
    add(c.src, c.dst, { conns: c.conns, ...(c.explain ? { explain: c.explain } : {}) });
  for (const d of doc.denied ?? []) add(d.src, d.dst, { conns: null, explain: d.explain });
  return pairs;
}

function policySignatures(explain: PairExplain | undefined): Map<string, string> {
  const sig = new Map<string, string[]>();
  const note = (policy: string, text: string): void => {
    const list = sig.get(policy) ?? [];
    list.push(text);
    sig.set(policy, list);
  };
  if (explain) {
    for (const dir of ['egress', 'ingress'] as const) {
      for (const p of explain[dir].isolatedBy) note(p, `${dir}:isolates`);
      for (const a of explain[dir].allowedBy)
        note(a.policy, `${dir}:${a.field}:${JSON.stringify(a.conns)}`);
    }
  }
  return new Map([...sig].map(([k, v]) => [k, v.sort().join('|')]));
}

function responsibleFor(before: Pair | undefined, after: Pair | undefined): string[] {
  const a = policySignatures(before?.explain);
  const b = policySignatures(after?.explain);
  const names = new Set([...a.keys(), ...b.keys()]);
  return [...names].filter((n) => a.get(n) !== b.get(n)).sort();
}

/** Compares two Reachability documents (same granularity) pair by pair. */
export function diffReach(before: Reachability, after: Reachability): ReachDiff {
  const refined = refineExternals([before, after]);
  const peerIds = (doc: Reachability): Set<string> =>
    new Set(doc.peers.flatMap((p) => refined.get(p.id) ?? [p.id]));
  const oldPeers = peerIds(before);
  const newPeers = peerIds(after);
  const oldPairs = pairsOf(before, refined);
  const newPairs = pairsOf(after, refined);
  const explained = before.denied !== undefined && after.denied !== undefined;
  const changes: ReachChange[] = [];
  const keys = [...new Set([...oldPairs.keys(), ...newPairs.keys()])].sort();
  for (const key of keys) {
    const o = oldPairs.get(key);
    const n = newPairs.get(key);
    const oldConns = o?.conns ? connsFromJson(o.conns) : undefined;
    const newConns = n?.conns ? connsFromJson(n.conns) : undefined;
    if (!oldConns && !newConns) continue;
    if (oldConns && newConns && sameConns(oldConns, newConns)) continue;
    const pair = o ?? n;
    if (!pair) continue;
    const change: ChangeKind = !oldConns ? 'added' : !newConns ? 'removed' : 'changed';
    const gained = newConns ? (oldConns ? subtractConns(newConns, oldConns) : newConns) : undefined;
    const lost = oldConns ? (newConns ? subtractConns(oldConns, newConns) : oldConns) : undefined;
    changes.push({
      src: pair.src,
      dst: pair.dst,
      change,
      old: o?.conns ?? null,
      new: n?.conns ?? null,
      ...(gained && !isNoConns(gained) ? { gained: connsToJson(gained) } : {}),
      ...(lost && !isNoConns(lost) ? { lost: connsToJson(lost) } : {}),
      responsible: explained ? responsibleFor(o, n) : [],
    });
  }
  const peersAdded = [...newPeers].filter((p) => !oldPeers.has(p)).sort();
  const peersRemoved = [...oldPeers].filter((p) => !newPeers.has(p)).sort();
  return {
    apiVersion: 'kwire.dev/v1alpha1',
    kind: 'ReachabilityDiff',
    same: changes.length === 0 && peersAdded.length === 0 && peersRemoved.length === 0,
    explained,
    peersAdded,
    peersRemoved,
    changes,
  };
}

function text(conns: ConnsJson | null | undefined): string {
  return conns ? formatConns(connsFromJson(conns)) : 'No Connections';
}

/** Renders a diff as lines: `+ src => dst : TCP 80 (responsible: ns/policy)`. */
export function formatDiffText(diff: ReachDiff): string {
  if (diff.same) return 'No differences\n';
  const lines: string[] = [];
  for (const p of diff.peersAdded) lines.push(`+ peer ${p}`);
  for (const p of diff.peersRemoved) lines.push(`- peer ${p}`);
  for (const c of diff.changes) {
    const mark = c.change === 'added' ? '+' : c.change === 'removed' ? '-' : '~';
    const what =
      c.change === 'changed'
        ? `${text(c.old)} -> ${text(c.new)}${c.gained ? `; gained ${text(c.gained)}` : ''}${c.lost ? `; lost ${text(c.lost)}` : ''}`
        : c.change === 'added'
          ? text(c.new)
          : text(c.old);
    const by = c.responsible.length > 0 ? ` (responsible: ${c.responsible.join(', ')})` : '';
    lines.push(`${mark} ${c.src} => ${c.dst} : ${what}${by}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Renders a diff as JSON. */
export function formatDiffJson(diff: ReachDiff): string {
  return `${JSON.stringify(diff, null, 2)}\n`;
}

/** Diff renderers keyed by `-o` name. */
export const diffFormats = { txt: formatDiffText, json: formatDiffJson } satisfies Record<
  string,
  (d: ReachDiff) => string
>;

/** A diff format name. */
export type DiffFormat = keyof typeof diffFormats;
