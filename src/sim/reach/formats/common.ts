/** Helpers shared by the reach output formats. */
import { connsFromJson, formatConns, type ConnsJson } from '../../../model/policy/index.js';
import type { DirectionExplain, PairExplain, Reachability, ReachPeer } from '../types.js';

/** Renders a `Reachability` document for people or tools. */
export type ReachFormatter = (reach: Reachability) => string;

/** `TCP 80,8080-8090`, `All Connections`. */
export function connsText(conns: ConnsJson): string {
  return formatConns(connsFromJson(conns));
}

/** Peers grouped by namespace (externals under `undefined`), in document order. */
export function peersByNamespace(reach: Reachability): Map<string | undefined, ReachPeer[]> {
  const groups = new Map<string | undefined, ReachPeer[]>();
  for (const peer of reach.peers) {
    const list = groups.get(peer.namespace) ?? [];
    list.push(peer);
    groups.set(peer.namespace, list);
  }
  return groups;
}

function directionLines(label: string, d: DirectionExplain): string {
  if (!d.isolated) return `    ${label}: not isolated`;
  const allowed =
    d.allowedBy.length === 0
      ? 'no rule allows it'
      : `allowed by ${d.allowedBy.map((a) => `${a.policy} ${a.field} (${connsText(a.conns)})`).join(', ')}`;
  return `    ${label}: isolated by ${d.isolatedBy.join(', ')}; ${allowed}`;
}

/** Indented explanation lines of one pair. */
export function explainLines(explain: PairExplain): string[] {
  const lines = [
    directionLines('egress at src', explain.egress),
    directionLines('ingress at dst', explain.ingress),
  ];
  if (explain.union !== undefined)
    lines.push(`    pods differ: some pod pairs allow ${connsText(explain.union)}`);
  return lines;
}
