/** Evaluating compiled policies: peer matching, one direction at one pod, one connection. */
import type { Protocol, StringMap } from '../../api/types.js';
import type { PodState } from '../types.js';
import {
  namespaceLabelsOf,
  portsConns,
  type CompiledPeer,
  type CompiledPolicies,
  type CompiledPolicy,
  type CompiledRule,
  type Direction,
  type PolicyRef,
  type RuleRef,
} from './types.js';
import {
  ALL_CONNS,
  connsAllow,
  connsOf,
  formatConns,
  isNoConns,
  NO_CONNS,
  unionConns,
  type ConnSet,
} from './conns.js';
import {
  familyRanges,
  formatIp,
  ipSetContains,
  parseIp,
  rangesCover,
  type IpAddress,
  type IpFamily,
  type IpRange,
} from '../ip.js';

/** A container port as policies see it. */
export interface PodPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol: Protocol;
}

/** What policies see of one side of a connection: a pod (or class of alike pods) or external addresses. */
export type PeerView =
  | {
      readonly kind: 'pod';
      readonly namespace: string;
      readonly namespaceLabels: StringMap;
      readonly labels: StringMap;
      readonly ports: readonly PodPort[];
      readonly ip?: IpAddress;
      /** `ns/name` of the pod, or of one pod of the class. */
      readonly display: string;
    }
  | {
      readonly kind: 'external';
      readonly family: IpFamily;
      readonly range: IpRange;
      readonly display: string;
    };

/** The view of a pod. */
export function podView(compiled: CompiledPolicies, pod: PodState): PeerView {
  const ip = parseIp(pod.ip);
  return {
    kind: 'pod',
    namespace: pod.namespace,
    namespaceLabels: namespaceLabelsOf(compiled, pod.namespace),
    labels: pod.labels,
    ports: pod.ports,
    ...(ip ? { ip } : {}),
    display: `${pod.namespace}/${pod.name}`,
  };
}

/** The view of an external address or address range. */
export function externalView(family: IpFamily, range: IpRange): PeerView {
  const display =
    range[0] === range[1]
      ? formatIp(family, range[0])
      : `${formatIp(family, range[0])}-${formatIp(family, range[1])}`;
  return { kind: 'external', family, range, display };
}

/** Whether a compiled peer selects a view (ipBlocks only select external addresses by default). */
export function peerSelects(
  compiled: CompiledPolicies,
  peer: CompiledPeer,
  policyNamespace: string,
  view: PeerView,
): boolean {
  if (peer.kind === 'pods') {
    if (view.kind !== 'pod') return false;
    const inNamespace =
      peer.namespaces === 'own'
        ? view.namespace === policyNamespace
        : peer.namespaces.matches(view.namespaceLabels);
    return inNamespace && peer.pods.matches(view.labels);
  }
  if (view.kind === 'external') return rangesCover(familyRanges(peer.set, view.family), view.range);
  return compiled.ipBlockSelectsPods && view.ip !== undefined && ipSetContains(peer.set, view.ip);
}

/** Whether a rule's `from`/`to` selects a view. */
export function ruleSelects(
  compiled: CompiledPolicies,
  rule: CompiledRule,
  view: PeerView,
): boolean {
  return (
    rule.peers === 'any' ||
    rule.peers.some((p) => peerSelects(compiled, p, rule.ref.namespace, view))
  );
}

/** Ports a rule allows towards a destination (named ports resolved on it; none for external ones). */
export function ruleConns(rule: CompiledRule, destination: PeerView): ConnSet {
  return (
    rule.staticConns ??
    portsConns(rule.ports, destination.kind === 'pod' ? destination.ports : undefined)
  );
}

/** Policies of a direction that select a pod (they isolate it for that direction). */
export function selectingPolicies(
  compiled: CompiledPolicies,
  pod: PeerView,
  direction: Direction,
): CompiledPolicy[] {
  if (pod.kind !== 'pod') return [];
  const list = compiled.byNamespace.get(pod.namespace) ?? [];
  return list.filter((p) => p.isolates[direction] && p.podSelector.matches(pod.labels));
}

/** One rule's contribution to a direction. */
export interface RuleAllowance {
  readonly rule: RuleRef;
  readonly conns: ConnSet;
}

/** What one direction allows at one pod towards/from one peer. */
export interface DirectionResult {
  readonly isolated: boolean;
  readonly conns: ConnSet;
  readonly isolatedBy: readonly PolicyRef[];
  readonly allowedBy: readonly RuleAllowance[];
}

const OPEN: DirectionResult = { isolated: false, conns: ALL_CONNS, isolatedBy: [], allowedBy: [] };

/**
 * Judges one direction: egress at `subject` towards `peer`, or ingress at `subject` from `peer`.
 * External subjects are never isolated.
 */
export function judgeDirection(
  compiled: CompiledPolicies,
  direction: Direction,
  subject: PeerView,
  peer: PeerView,
): DirectionResult {
  if (!compiled.enforced) return OPEN;
  const policies = selectingPolicies(compiled, subject, direction);
  if (policies.length === 0) return OPEN;
  const destination = direction === 'ingress' ? subject : peer;
  const allowedBy: RuleAllowance[] = [];
  for (const policy of policies) {
    for (const rule of policy[direction]) {
      if (!ruleSelects(compiled, rule, peer)) continue;
      const conns = ruleConns(rule, destination);
      if (!isNoConns(conns)) allowedBy.push({ rule: rule.ref, conns });
    }
  }
  return {
    isolated: true,
    conns: unionConns(NO_CONNS, ...allowedBy.map((a) => a.conns)),
    isolatedBy: policies.map((p) => p.ref),
    allowedBy,
  };
}

/** One side of a connection: a pod, or an IP address outside the cluster's pods. */
export type Endpoint = PodState | string;

/** A rule that comes close to allowing a denied connection, and what it lacks. */
export interface NearMiss {
  readonly rule: RuleRef;
  /** `port`: it selects the peer but not this port; `peer`: it allows the port but not this peer. */
  readonly lacks: 'port' | 'peer';
  readonly detail: string;
}

/** The verdict of one direction of one connection. */
export interface DirectionVerdict {
  readonly direction: Direction;
  /** The pod judged (`ns/name`), absent when this side is outside the cluster. */
  readonly pod?: string;
  readonly isolated: boolean;
  readonly allowed: boolean;
  readonly isolatedBy: readonly PolicyRef[];
  /** Rules allowing this connection (field paths like `spec.ingress[0]`). */
  readonly allowedBy: readonly RuleRef[];
  readonly nearMisses: readonly NearMiss[];
  readonly detail: string;
  /** For a denial: what would allow it. */
  readonly hint?: string;
}

/** The verdict on one connection: egress at the source and ingress at the destination. */
export interface ConnectionVerdict {
  readonly enforced: boolean;
  readonly allowed: boolean;
  readonly protocol: Protocol;
  readonly port: number;
  readonly egress: DirectionVerdict;
  readonly ingress: DirectionVerdict;
  readonly detail: string;
}

/** Error thrown for an endpoint that is neither a pod nor an IP address. */
export class EndpointError extends Error {
  readonly code = 'EENDPOINT';
  constructor(readonly value: string) {
    super(`"${value}" is not an IP address`);
    this.name = 'EndpointError';
  }
}

function endpointView(compiled: CompiledPolicies, endpoint: Endpoint): PeerView {
  if (typeof endpoint !== 'string') return podView(compiled, endpoint);
  const ip = parseIp(endpoint);
  if (!ip) throw new EndpointError(endpoint);
  return externalView(ip.family, [ip.value, ip.value]);
}

/** `ns/name` of a policy or `ns/name spec.ingress[0]` of a rule. */
export function formatRef(ref: PolicyRef | RuleRef): string {
  return 'field' in ref
    ? `${ref.namespace}/${ref.name} ${ref.field}`
    : `${ref.namespace}/${ref.name}`;
}

function peerPhrase(view: PeerView): string {
  if (view.kind === 'external') return view.display;
  const labels = Object.entries(view.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `pods {${labels}} in namespace ${view.namespace}`;
}

function nearMisses(
  compiled: CompiledPolicies,
  direction: Direction,
  subject: PeerView,
  peer: PeerView,
  protocol: Protocol,
  port: number,
): NearMiss[] {
  const destination = direction === 'ingress' ? subject : peer;
  const out: NearMiss[] = [];
  for (const policy of selectingPolicies(compiled, subject, direction)) {
    for (const rule of policy[direction]) {
      const selects = ruleSelects(compiled, rule, peer);
      const conns = ruleConns(rule, destination);
      const portOk = connsAllow(conns, protocol, port);
      if (selects && !portOk) {
        out.push({
          rule: rule.ref,
          lacks: 'port',
          detail: `${formatRef(rule.ref)} selects ${peer.display} but allows only ${formatConns(conns)}`,
        });
      } else if (!selects && portOk) {
        const peers = rule.peers === 'any' ? 'any peer' : rule.peers.map((p) => p.text).join('; ');
        out.push({
          rule: rule.ref,
          lacks: 'peer',
          detail: `${formatRef(rule.ref)} allows ${protocol}/${port} but only from/to ${peers}`,
        });
      }
    }
  }
  return out;
}

function directionVerdict(
  compiled: CompiledPolicies,
  direction: Direction,
  subject: PeerView,
  peer: PeerView,
  protocol: Protocol,
  port: number,
): DirectionVerdict {
  const pod = subject.kind === 'pod' ? { pod: subject.display } : {};
  const where = direction === 'ingress' ? 'from' : 'to';
  const open = (detail: string): DirectionVerdict => ({ direction, ...pod, isolated: false, allowed: true, isolatedBy: [], allowedBy: [], nearMisses: [], detail });
  if (!compiled.enforced) return open(`not enforced: the CNI (${compiled.cniName}) ignores NetworkPolicies`);
  if (subject.kind !== 'pod') return open(`no ${direction} policy applies outside the cluster (${subject.display})`);
  const result = judgeDirection(compiled, direction, subject, peer);
  if (!result.isolated) {
    return open(`${subject.display} is not isolated for ${direction} (no NetworkPolicy with policyType ${direction === 'ingress' ? 'Ingress' : 'Egress'} selects it)`);
  }
  const allowing = result.allowedBy
    .filter((a) => connsAllow(a.conns, protocol, port))
    .map((a) => a.rule);
  const isolatedBy = result.isolatedBy;
  const isolatedText = isolatedBy.map(formatRef).join(', ');
  if (allowing.length > 0) {
    const detail = `allowed by ${allowing.map(formatRef).join(', ')}`;
    return {
      direction,
      ...pod,
      isolated: true,
      allowed: true,
      isolatedBy,
      allowedBy: allowing,
      nearMisses: [],
      detail,
    };
  }
  const misses = nearMisses(compiled, direction, subject, peer, protocol, port);
  const detail = `denied by default-deny (isolated by ${isolatedText}, no rule allows ${protocol}/${port} ${where} ${peer.display})`;
  const suggestion =
    misses[0]?.lacks === 'port'
      ? `add ${protocol}/${port} to the ports of ${formatRef(misses[0].rule)}`
      : `add to a policy selecting ${subject.display} an ${direction} rule allowing ${protocol}/${port} ${where} ${peerPhrase(peer)}`;
  return {
    direction,
    ...pod,
    isolated: true,
    allowed: false,
    isolatedBy,
    allowedBy: [],
    nearMisses: misses,
    detail,
    hint: suggestion,
  };
}

/** Evaluates one connection from `src` to `dst` on protocol/port (as the CNI sees it, after kube-proxy). */
export function evaluateConnection(
  compiled: CompiledPolicies,
  src: Endpoint,
  dst: Endpoint,
  protocol: Protocol,
  port: number,
): ConnectionVerdict {
  const srcView = endpointView(compiled, src);
  const dstView = endpointView(compiled, dst);
  const egress = directionVerdict(compiled, 'egress', srcView, dstView, protocol, port);
  const ingress = directionVerdict(compiled, 'ingress', dstView, srcView, protocol, port);
  const allowed = egress.allowed && ingress.allowed;
  const detail = !compiled.enforced
    ? `allowed: the CNI (${compiled.cniName}) does not enforce NetworkPolicies`
    : allowed
      ? `allowed: egress ${egress.detail}; ingress ${ingress.detail}`
      : `denied: ${[egress, ingress]
          .filter((v) => !v.allowed)
          .map((v) => `${v.direction} ${v.detail}`)
          .join('; ')}`;
  return { enforced: compiled.enforced, allowed, protocol, port, egress, ingress, detail };
}

/** Pods alike for every policy: same namespace, labels and container ports (and IP when ipBlocks select pods). */
export interface PodClass {
  readonly index: number;
  readonly view: PeerView & { readonly kind: 'pod' };
  readonly pods: readonly PodState[];
}

function labelsKey(labels: StringMap): string {
  const keys = Object.keys(labels);
  if (keys.length > 1) keys.sort();
  let key = '';
  for (const k of keys) {
    const v = labels[k] ?? '';
    key += `${String(k.length)}:${k}${String(v.length)}:${v}`;
  }
  return key;
}

function portsKey(ports: readonly PodPort[]): string {
  if (ports.length === 0) return '';
  const parts = ports.map((p) => `${p.name ?? ''}:${String(p.containerPort)}/${p.protocol}`);
  if (parts.length > 1) parts.sort();
  return parts.join(',');
}

function sameLabels(a: StringMap, b: StringMap): boolean {
  if (a === b) return true;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

function samePorts(a: readonly PodPort[], b: readonly PodPort[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  return a.every((p, i) => {
    const q = b[i];
    return (
      q !== undefined &&
      p.name === q.name &&
      p.containerPort === q.containerPort &&
      p.protocol === q.protocol
    );
  });
}

/** Groups pods into equivalence classes so that analyses never loop over pod pairs. */
export function classifyPods(compiled: CompiledPolicies, pods: readonly PodState[]): PodClass[] {
  type Entry = { view: PeerView & { kind: 'pod' }; pods: PodState[] };
  const byKey = new Map<string, Entry>();
  let previous: { pod: PodState; entry: Entry } | undefined;
  for (const pod of pods) {
    const ipPart = compiled.ipBlockSelectsPods ? pod.ip : '';
    if (
      previous &&
      previous.pod.namespace === pod.namespace &&
      (!compiled.ipBlockSelectsPods || previous.pod.ip === pod.ip) &&
      sameLabels(previous.pod.labels, pod.labels) &&
      samePorts(previous.pod.ports, pod.ports)
    ) {
      previous.entry.pods.push(pod);
      continue;
    }
    const key = `${pod.namespace}\u0000${labelsKey(pod.labels)}\u0000${portsKey(pod.ports)}\u0000${ipPart}`;
    let entry = byKey.get(key);
    if (entry) entry.pods.push(pod);
    else {
      entry = { view: podView(compiled, pod) as PeerView & { kind: 'pod' }, pods: [pod] };
      byKey.set(key, entry);
    }
    previous = { pod, entry };
  }
  return [...byKey.values()].map((e, index) => ({ index, view: e.view, pods: e.pods }));
}

/** A set allowing exactly one protocol/port. */
export function singleConn(protocol: Protocol, port: number): ConnSet {
  return connsOf(protocol, [[port, port]]);
}
