/**
 * NetworkPolicy lint checks. Findings are Problems with stable codes:
 * KW-NP001 selects no pod · KW-NP002 peer selects nothing · KW-NP003 egress isolation without DNS ·
 * KW-NP004 named port no pod defines · KW-NP005 ipBlock inside the pod CIDR · KW-NP006 ipBlock inside
 * the Service CIDR · KW-NP007 ipBlock spanning cluster ranges · KW-NP008 exact duplicate ·
 * KW-NP009 fully shadowed · KW-NP010 unparsable CIDR (from compiling).
 */
import type { Severity, Problem } from '../../api/problems.js';
import { classifyPods, connsAllow, externalView, intersectConns, isNoConns, namespaceLabelsOf, peerSelects, ruleConns, ruleSelects, sameConns, selectingPolicies, judgeDirection, unionConns, NO_CONNS, type CompiledPeer, type CompiledPolicies, type CompiledPolicy, type CompiledRule, type ConnSet, type Direction, type PeerView, type PodClass } from '../../model/policy/index.js';
import { ipSetIntersect, ipSetIsEmpty, parseCidr, type IpSet } from '../../model/ip.js';
import type { NetworkState } from '../../model/types.js';
import { externalAtoms } from '../../sim/reach/index.js';

interface LintContext {
  readonly state: NetworkState;
  readonly compiled: CompiledPolicies;
  readonly classes: readonly PodClass[];
  readonly classesByNamespace: ReadonlyMap<string, readonly PodClass[]>;
  /** Every namespace named by a Namespace or a pod. */
  readonly namespaceNames: readonly string[];
  readonly units: readonly PeerView[];
  readonly problems: Problem[];
  readonly selected: Map<CompiledPolicy, PodClass[]>;
  readonly peerMatches: Map<string, boolean>;
  /** Per rule and unit: 0 unknown, 1 not selected, 2 selected. */
  readonly ruleSelections: Map<CompiledRule, Uint8Array>;
  dns?: PeerView[];
}

function report(
  ctx: LintContext,
  policy: CompiledPolicy,
  code: string,
  severity: Severity,
  path: string,
  message: string,
  hint: string,
): void {
  ctx.problems.push({
    code,
    severity,
    message,
    object: { kind: 'NetworkPolicy', namespace: policy.ref.namespace, name: policy.ref.name },
    path,
    ...(policy.source ? { source: policy.source } : {}),
    hint,
  });
}

function selectedClasses(ctx: LintContext, policy: CompiledPolicy): PodClass[] {
  let selected = ctx.selected.get(policy);
  if (!selected) {
    selected = (ctx.classesByNamespace.get(policy.ref.namespace) ?? []).filter((c) =>
      policy.podSelector.matches(c.view.labels),
    );
    ctx.selected.set(policy, selected);
  }
  return selected;
}

function peerMatchesSomePod(
  ctx: LintContext,
  peer: CompiledPeer & { kind: 'pods' },
  namespace: string,
): boolean {
  const scope = peer.namespaces === 'own' ? `own:${namespace}` : peer.namespaces.key;
  const key = `${scope}\u0000${peer.pods.key}`;
  let matches = ctx.peerMatches.get(key);
  if (matches === undefined) {
    const candidates =
      peer.namespaces === 'own' ? (ctx.classesByNamespace.get(namespace) ?? []) : ctx.classes;
    matches = candidates.some((c) => peerSelects(ctx.compiled, peer, namespace, c.view));
    ctx.peerMatches.set(key, matches);
  }
  return matches;
}

function podList(classes: readonly PodClass[]): string {
  const names = classes.flatMap((c) => c.pods.map((p) => `${p.namespace}/${p.name}`));
  return names.length > 3
    ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`
    : names.join(', ');
}

function checkSelectsNoPod(ctx: LintContext, policy: CompiledPolicy): boolean {
  if (selectedClasses(ctx, policy).length > 0) return true;
  report(
    ctx,
    policy,
    'KW-NP001',
    'warning',
    'spec.podSelector',
    `podSelector {${policy.podSelector.text}} selects no pod in namespace ${policy.ref.namespace}`,
    'check the labels against the pods of this namespace (a policy only selects pods of its own namespace)',
  );
  return false;
}

function allRules(policy: CompiledPolicy): CompiledRule[] {
  return [...policy.ingress, ...policy.egress];
}

function checkPeers(ctx: LintContext, policy: CompiledPolicy): void {
  for (const rule of allRules(policy)) {
    if (rule.peers === 'any') continue;
    const field = rule.ref.direction === 'ingress' ? 'from' : 'to';
    for (const peer of rule.peers) {
      if (peer.kind !== 'pods') continue;
      const path = `${rule.ref.field}.${field}[${peer.index}]`;
      if (peer.namespaces !== 'own') {
        const selector = peer.namespaces;
        if (!ctx.namespaceNames.some((n) => selector.matches(namespaceLabelsOf(ctx.compiled, n)))) {
          report(
            ctx,
            policy,
            'KW-NP002',
            'warning',
            `${path}.namespaceSelector`,
            `namespaceSelector {${selector.text}} matches no namespace`,
            'namespaces always carry kubernetes.io/metadata.name=<name>; select on it or label the namespace',
          );
          continue;
        }
      }
      if (!peerMatchesSomePod(ctx, peer, policy.ref.namespace)) {
        report(
          ctx,
          policy,
          'KW-NP002',
          'warning',
          path,
          `peer (${peer.text}) matches no pod`,
          'check the podSelector labels and the namespace it applies to',
        );
      }
    }
  }
}

function kubeDnsViews(ctx: LintContext): PeerView[] {
  ctx.dns ??= findKubeDns(ctx);
  return ctx.dns;
}

function findKubeDns(ctx: LintContext): PeerView[] {
  const pods = ctx.state.pods.filter(
    (p) => p.namespace === 'kube-system' && p.labels['k8s-app'] === 'kube-dns',
  );
  if (pods.length > 0) return classifyPods(ctx.compiled, pods).map((c) => c.view);
  return [
    {
      kind: 'pod',
      namespace: 'kube-system',
      namespaceLabels: namespaceLabelsOf(ctx.compiled, 'kube-system'),
      labels: { 'k8s-app': 'kube-dns' },
      ports: [
        { name: 'dns', containerPort: 53, protocol: 'UDP' },
        { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
      ],
      display: 'kube-system/kube-dns',
    },
  ];
}

function checkDns(ctx: LintContext, policy: CompiledPolicy): void {
  if (!policy.isolates.egress) return;
  const dns = kubeDnsViews(ctx);
  const missingUdp: PodClass[] = [];
  const missingTcp: PodClass[] = [];
  for (const c of selectedClasses(ctx, policy)) {
    const allowed = unionConns(
      NO_CONNS,
      ...dns.map((d) => judgeDirection(ctx.compiled, 'egress', c.view, d).conns),
    );
    if (!connsAllow(allowed, 'UDP', 53)) missingUdp.push(c);
    else if (!connsAllow(allowed, 'TCP', 53)) missingTcp.push(c);
  }
  const hint =
    'add an egress rule to pods {k8s-app=kube-dns} in namespace kube-system on UDP 53 and TCP 53';
  const path = policy.state.spec.egress === undefined ? 'spec.policyTypes' : 'spec.egress';
  if (missingUdp.length > 0) {
    report(
      ctx,
      policy,
      'KW-NP003',
      'warning',
      path,
      `isolates ${podList(missingUdp)} for egress without allowing DNS (UDP/53 to kube-dns): name lookups will fail`,
      hint,
    );
  }
  if (missingTcp.length > 0) {
    report(
      ctx,
      policy,
      'KW-NP003',
      'info',
      path,
      `isolates ${podList(missingTcp)} for egress allowing DNS over UDP/53 but not TCP/53 (large answers fall back to TCP)`,
      hint,
    );
  }
}

function checkNamedPorts(ctx: LintContext, policy: CompiledPolicy): void {
  const selected = selectedClasses(ctx, policy);
  for (const rule of allRules(policy)) {
    if (rule.ports === 'any') continue;
    for (const port of rule.ports) {
      if (port.kind !== 'named') continue;
      const path = `${rule.ref.field}.ports[${port.index}].port`;
      let destinations: PodClass[];
      if (rule.ref.direction === 'ingress') destinations = selected;
      else if (rule.peers === 'any') destinations = [...ctx.classes];
      else destinations = ctx.classes.filter((c) => ruleSelects(ctx.compiled, rule, c.view));
      if (destinations.length === 0 && rule.ref.direction === 'ingress') continue;
      if (
        destinations.some((c) =>
          c.view.ports.some((p) => p.name === port.name && p.protocol === port.protocol),
        )
      )
        continue;
      const where =
        rule.ref.direction === 'ingress' ? 'selected pod' : 'destination pod of this rule';
      report(
        ctx,
        policy,
        'KW-NP004',
        'warning',
        path,
        `named port "${port.name ?? ''}" (${port.protocol}) is defined by no ${where}: the rule allows nothing on it`,
        'name a containerPort so, or use the port number',
      );
    }
  }
}

function overlaps(a: IpSet, b: IpSet): boolean {
  return !ipSetIsEmpty(ipSetIntersect(a, b));
}

function checkIpBlocks(ctx: LintContext, policy: CompiledPolicy): void {
  const ranges = [
    {
      set: ctx.compiled.podCIDRs,
      name: 'pod CIDR',
      inside: 'KW-NP005',
      why: 'ipBlocks never select pods: use podSelector/namespaceSelector',
    },
    {
      set: ctx.compiled.serviceCIDRs,
      name: 'Service CIDR',
      inside: 'KW-NP006',
      why: 'Service VIPs are translated to pod IPs before policies apply: select the backend pods instead',
    },
  ];
  for (const rule of allRules(policy)) {
    if (rule.peers === 'any') continue;
    const field = rule.ref.direction === 'ingress' ? 'from' : 'to';
    for (const peer of rule.peers) {
      if (peer.kind !== 'ipBlock') continue;
      const path = `${rule.ref.field}.${field}[${peer.index}].ipBlock`;
      const cidr = parseCidr(peer.cidr);
      if (!cidr) continue;
      for (const r of ranges) {
        if (!overlaps(peer.set, r.set)) continue;
        const inside = (cidr.family === 4 ? r.set.v4 : r.set.v6).some(
          ([lo, hi]) => lo <= cidr.range[0] && cidr.range[1] <= hi,
        );
        if (inside) {
          report(
            ctx,
            policy,
            r.inside,
            'warning',
            `${path}.cidr`,
            `ipBlock ${peer.cidr} lies inside the ${r.name}: it matches no traffic`,
            r.why,
          );
        } else {
          report(
            ctx,
            policy,
            'KW-NP007',
            'info',
            `${path}.cidr`,
            `ipBlock ${peer.text} spans the ${r.name}; traffic of pods there is not matched by it`,
            `${r.why}; or list the ${r.name} under except to make that explicit`,
          );
        }
      }
    }
  }
}

function specKey(policy: CompiledPolicy): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value)
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([k, v]) => [k, canonical(v)]),
      );
    }
    return value;
  };
  return JSON.stringify(canonical({ ...policy.state.spec, isolates: policy.isolates }));
}

/** Whether a rule selects unit `index`, memoized per rule and unit. */
function selectsUnit(ctx: LintContext, rule: CompiledRule, index: number): boolean {
  let row = ctx.ruleSelections.get(rule);
  if (!row) {
    row = new Uint8Array(ctx.units.length);
    ctx.ruleSelections.set(rule, row);
  }
  let known = row[index] ?? 0;
  if (known === 0) {
    const unit = ctx.units[index];
    known = unit && ruleSelects(ctx.compiled, rule, unit) ? 2 : 1;
    row[index] = known;
  }
  return known === 2;
}

function directionAllowances(
  ctx: LintContext,
  rules: readonly CompiledRule[],
  subject: PeerView,
  index: number,
  direction: Direction,
): ConnSet {
  const unit = ctx.units[index];
  if (!unit) return NO_CONNS;
  const destination = direction === 'ingress' ? subject : unit;
  let conns = NO_CONNS;
  for (const rule of rules) {
    if (selectsUnit(ctx, rule, index)) conns = unionConns(conns, ruleConns(rule, destination));
  }
  return conns;
}

function shadowedBy(
  ctx: LintContext,
  policy: CompiledPolicy,
  twins: ReadonlySet<CompiledPolicy>,
): string[] | undefined {
  // A default-deny (isolation without rules) guards pods that do not exist yet: never "shadowed".
  if (policy.ingress.length === 0 && policy.egress.length === 0) return undefined;
  const selected = selectedClasses(ctx, policy);
  if (selected.length === 0) return undefined;
  const others = new Set<string>();
  for (const direction of ['ingress', 'egress'] as const) {
    if (!policy.isolates[direction]) continue;
    const judged = new Set<string>();
    for (const c of selected) {
      const rivals = selectingPolicies(ctx.compiled, c.view, direction).filter(
        (p) => p !== policy && !twins.has(p),
      );
      if (rivals.length === 0) return undefined;
      const names = rivals.map((r) => `${r.ref.namespace}/${r.ref.name}`);
      for (const name of names) others.add(name);
      const ports = direction === 'ingress' ? JSON.stringify(c.view.ports) : '';
      const alike = `${names.join('\u0000')}\u0001${ports}`;
      if (judged.has(alike)) continue;
      judged.add(alike);
      const rivalRules = rivals.flatMap((p) => p[direction]);
      for (let index = 0; index < ctx.units.length; index++) {
        const mine = directionAllowances(ctx, policy[direction], c.view, index, direction);
        if (isNoConns(mine)) continue;
        const theirs = directionAllowances(ctx, rivalRules, c.view, index, direction);
        if (!sameConns(intersectConns(mine, theirs), mine)) return undefined;
      }
    }
  }
  return [...others].sort();
}

/** Runs every NetworkPolicy lint check over a state and its compiled policies. */
export function lintNetworkPolicies(state: NetworkState, compiled: CompiledPolicies): Problem[] {
  const classes = classifyPods(compiled, state.pods);
  const units: PeerView[] = [
    ...classes.map((c) => c.view),
    ...externalAtoms(state, compiled).map((a) => externalView(a.family, a.range)),
  ];
  const classesByNamespace = new Map<string, PodClass[]>();
  for (const c of classes) {
    const list = classesByNamespace.get(c.view.namespace);
    if (list) list.push(c);
    else classesByNamespace.set(c.view.namespace, [c]);
  }
  const namespaceNames = [
    ...new Set([...state.namespaces.map((n) => n.name), ...state.pods.map((p) => p.namespace)]),
  ];
  const ctx: LintContext = {
    state,
    compiled,
    classes,
    classesByNamespace,
    namespaceNames,
    units,
    problems: [...compiled.problems],
    selected: new Map(),
    peerMatches: new Map(),
    ruleSelections: new Map(),
  };
  const keys = new Map(compiled.policies.map((p) => [p, `${p.ref.namespace}\u0000${specKey(p)}`]));
  const byKey = new Map<string, CompiledPolicy[]>();
  for (const [policy, key] of keys) {
    const list = byKey.get(key);
    if (list) list.push(policy);
    else byKey.set(key, [policy]);
  }
  const seen = new Map<string, CompiledPolicy>();
  for (const policy of compiled.policies) {
    const selects = checkSelectsNoPod(ctx, policy);
    checkPeers(ctx, policy);
    checkDns(ctx, policy);
    checkNamedPorts(ctx, policy);
    checkIpBlocks(ctx, policy);
    const key = keys.get(policy) ?? '';
    const twin = seen.get(key);
    if (twin) {
      report(
        ctx,
        policy,
        'KW-NP008',
        'warning',
        'spec',
        `exact duplicate of NetworkPolicy ${twin.ref.namespace}/${twin.ref.name}`,
        'delete one of them',
      );
      continue;
    }
    seen.set(key, policy);
    const twins = new Set(byKey.get(key));
    const by = selects ? shadowedBy(ctx, policy, twins) : undefined;
    if (by) {
      report(
        ctx,
        policy,
        'KW-NP009',
        'info',
        'spec',
        `fully shadowed by ${by.join(', ')}: every pod it isolates is isolated by them and everything it allows they allow`,
        'delete it, or narrow the others if it was meant to be the only allowance',
      );
    }
  }
  return ctx.problems;
}

/** Every lint code this module emits, with a one-line title. */
export const netpolLintCodes = {
  'KW-NP001': 'policy selects no pod',
  'KW-NP002': 'peer selector matches nothing',
  'KW-NP003': 'egress isolation without a DNS allowance',
  'KW-NP004': 'named port that no pod defines',
  'KW-NP005': 'ipBlock inside the pod CIDR',
  'KW-NP006': 'ipBlock inside the Service CIDR',
  'KW-NP007': 'ipBlock spanning the pod or Service CIDR',
  'KW-NP008': 'exact duplicate policy',
  'KW-NP009': 'fully shadowed policy',
  'KW-NP010': 'unparsable CIDR in an ipBlock',
} as const;
