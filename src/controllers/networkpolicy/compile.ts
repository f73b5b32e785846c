/** Compiles NetworkPolicies once into matchers: selectors, ipBlocks as address sets, ports. */
import type {
  NetworkPolicyPeer,
  NetworkPolicyPort,
  StringMap,
} from '../../api/types.js';
import { quote, type Problem } from '../../api/problems.js';
import type { NetworkPolicyState, ReconciledState } from '../../model/types.js';
import {
  NAMESPACE_NAME_LABEL,
  portsConns,
  type CompileOptions,
  type CompiledPeer,
  type CompiledPolicies,
  type CompiledPolicy,
  type CompiledPort,
  type CompiledRule,
  type Direction,
  type RuleRef,
} from '../../model/policy/types.js';
import { ipSetOf, ipSetSubtract, parseCidr, type Cidr } from '../../model/ip.js';
import { compileSelector } from '../../model/selectors.js';

function parseCidrList(text: string): Cidr[] {
  return text
    .split(',')
    .map((part) => parseCidr(part.trim()))
    .filter((c): c is Cidr => c !== undefined);
}

interface Context {
  readonly policy: NetworkPolicyState;
  readonly problems: Problem[];
}

function problemAt(ctx: Context, path: string, message: string, hint?: string): Problem {
  const { policy } = ctx;
  return {
    code: 'KW-NP010',
    severity: 'error',
    message,
    object: { kind: 'NetworkPolicy', namespace: policy.namespace, name: policy.name },
    path,
    ...(policy.source ? { source: policy.source } : {}),
    ...(hint ? { hint } : {}),
  };
}

function compileCidr(ctx: Context, text: string, path: string): Cidr | undefined {
  const cidr = parseCidr(text);
  if (!cidr) {
    const hint = text.includes('/') ? undefined : `did you mean ${quote(`${text}/32`)}?`;
    ctx.problems.push(
      problemAt(ctx, path, `invalid CIDR ${quote(text)}: the ipBlock matches nothing`, hint),
    );
  }
  return cidr;
}

function compilePeer(
  ctx: Context,
  peer: NetworkPolicyPeer,
  index: number,
  path: string,
): CompiledPeer {
  if (peer.ipBlock) {
    const block = peer.ipBlock;
    const cidr = compileCidr(ctx, block.cidr, `${path}.ipBlock.cidr`);
    const except = (block.except ?? [])
      .map((e, i) => compileCidr(ctx, e, `${path}.ipBlock.except[${i}]`))
      .filter((c): c is Cidr => c !== undefined);
    const set = cidr ? ipSetSubtract(ipSetOf([cidr]), ipSetOf(except)) : ipSetOf([]);
    const exceptList = block.except ?? [];
    const text =
      exceptList.length > 0 ? `${block.cidr} except ${exceptList.join(',')}` : block.cidr;
    return { kind: 'ipBlock', index, cidr: block.cidr, except: exceptList, set, text };
  }
  const pods = compileSelector(peer.podSelector);
  const namespaces = peer.namespaceSelector ? compileSelector(peer.namespaceSelector) : 'own';
  const nsText =
    namespaces === 'own'
      ? `namespace ${ctx.policy.namespace}`
      : namespaces.empty
        ? 'all namespaces'
        : `namespaces {${namespaces.text}}`;
  const podText = pods.empty ? 'all pods' : `pods {${pods.text}}`;
  return { kind: 'pods', index, namespaces, pods, text: `${podText} in ${nsText}` };
}

function compilePort(port: NetworkPolicyPort, index: number): CompiledPort {
  const protocol = port.protocol ?? 'TCP';
  if (port.port === undefined)
    return { index, protocol, kind: 'any', text: `${protocol} (all ports)` };
  if (typeof port.port === 'string') {
    return { index, protocol, kind: 'named', name: port.port, text: `${protocol} ${port.port}` };
  }
  const last = port.endPort ?? port.port;
  const range: [number, number] = [port.port, Math.max(port.port, last)];
  const text =
    range[0] === range[1] ? `${protocol} ${range[0]}` : `${protocol} ${range[0]}-${range[1]}`;
  return { index, protocol, kind: 'range', range, text };
}

function compileRules(
  ctx: Context,
  direction: Direction,
  rules: readonly {
    readonly from?: readonly NetworkPolicyPeer[];
    readonly to?: readonly NetworkPolicyPeer[];
    readonly ports?: readonly NetworkPolicyPort[];
  }[],
): CompiledRule[] {
  const { policy } = ctx;
  const peerField = direction === 'ingress' ? 'from' : 'to';
  return rules.map((rule, index) => {
    const field = `spec.${direction}[${index}]`;
    const peerList = direction === 'ingress' ? rule.from : rule.to;
    const peers =
      peerList && peerList.length > 0
        ? peerList.map((p, i) => compilePeer(ctx, p, i, `${field}.${peerField}[${i}]`))
        : ('any' as const);
    const ports =
      rule.ports && rule.ports.length > 0 ? rule.ports.map(compilePort) : ('any' as const);
    const named = ports !== 'any' && ports.some((p) => p.kind === 'named');
    const ref: RuleRef = {
      namespace: policy.namespace,
      name: policy.name,
      direction,
      index,
      field,
    };
    return { ref, peers, ports, ...(named ? {} : { staticConns: portsConns(ports, undefined) }) };
  });
}

function compilePolicy(policy: NetworkPolicyState, problems: Problem[]): CompiledPolicy {
  const ctx: Context = { policy, problems };
  const { spec } = policy;
  const types = spec.policyTypes;
  const isolates =
    types && types.length > 0
      ? { ingress: types.includes('Ingress'), egress: types.includes('Egress') }
      : { ingress: true, egress: (spec.egress ?? []).length > 0 };
  return {
    ref: { namespace: policy.namespace, name: policy.name },
    state: policy,
    ...(policy.source ? { source: policy.source } : {}),
    podSelector: compileSelector(spec.podSelector),
    isolates,
    ingress: isolates.ingress ? compileRules(ctx, 'ingress', spec.ingress ?? []) : [],
    egress: isolates.egress ? compileRules(ctx, 'egress', spec.egress ?? []) : [],
  };
}

/** Compiles every NetworkPolicy of a state into matchers (once per reconcile). */
export function compilePolicies(
  state: ReconciledState,
  options: CompileOptions = {},
): CompiledPolicies {
  const problems: Problem[] = [];
  const policies = [...state.networkPolicies]
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name))
    .map((p) => compilePolicy(p, problems));
  const byNamespace = new Map<string, CompiledPolicy[]>();
  for (const p of policies) {
    const list = byNamespace.get(p.ref.namespace) ?? [];
    list.push(p);
    byNamespace.set(p.ref.namespace, list);
  }
  const namespaceLabels = new Map<string, StringMap>();
  for (const ns of state.namespaces) {
    namespaceLabels.set(ns.name, { ...ns.labels, [NAMESPACE_NAME_LABEL]: ns.name });
  }
  const { cluster } = state;
  return {
    enforced: cluster.cni.networkPolicy === 'enforced',
    cniName: cluster.cni.name,
    policies,
    byNamespace,
    namespaceLabels,
    podCIDRs: ipSetOf(parseCidrList(cluster.podCIDR)),
    serviceCIDRs: ipSetOf(parseCidrList(cluster.serviceCIDR)),
    ipBlockSelectsPods: options.ipBlockSelectsPods ?? false,
    problems,
  };
}
