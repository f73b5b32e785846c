/**
 * Reconcile: runs every controller over the store's objects, in dependency order, into one
 * NetworkState. Pure and deterministic: same objects and options, same state.
 */
import type { Problem } from '../api/problems.js';
import type { FieldPath, KubeObject, NetworkPolicySpec, SourcePos } from '../api/types.js';
import { addonObjects, resolveCluster } from './cluster/index.js';
import { assignLoadBalancers } from './loadbalancer/index.js';
import { reconcileEndpointSlices, reconcileServices } from './services/index.js';
import { reconcilePods } from './workloads/index.js';
import { reconcileCertificates } from './certmanager/index.js';
import { resolveIngressClasses } from './ingressclass/index.js';
import { compileRoutes } from './ingress/index.js';
import { compilePolicies } from './networkpolicy/index.js';
import { formatIp, parseCidr, subnet } from '../model/ip.js';
import { plainState } from '../model/state.js';
import type { IngressFlavour, NamespaceState, NetworkState, NodeState, ProfileName, ReconciledState } from '../model/types.js';

/** Options of one reconcile, read once at the CLI edge. */
export interface BuildOptions {
  readonly profile?: ProfileName;
  readonly ingressFlavour?: IngressFlavour;
  /** Fixed "now" (ISO) for certificates; defaults to the real time at the CLI edge. */
  readonly now?: string;
  /** Seed for certificate keys and serials: same inputs and seed, byte-identical Secrets. */
  readonly seed?: string;
  /** Let ipBlocks select in-cluster pods (upstream e2e reading). @default false (DESIGN.md) */
  readonly ipBlockSelectsPods?: boolean;
  /** Nodes stopped at runtime (`kwire node stop`): not ready, whatever the inputs say. */
  readonly stoppedNodes?: readonly string[];
}

/** How the compiled parts of a state are made. */
export interface CompileNetworkOptions {
  /** @default false */
  readonly ipBlockSelectsPods?: boolean;
}

/**
 * Compiles a reconciled state's Ingress routes and NetworkPolicies: the NetworkState every plane
 * reads. Also used where a state crosses a process boundary (compiled matchers are closures).
 */
export function compileNetwork(state: ReconciledState, opts: CompileNetworkOptions = {}): NetworkState {
  const plain = plainState(state);
  return { ...plain, routing: compileRoutes(plain), policies: compilePolicies(plain, { ipBlockSelectsPods: opts.ipBlockSelectsPods ?? false }) };
}



/** What the store gives the builder. */
export interface BuildInput {
  readonly objects: readonly KubeObject[];
  readonly sourceOf: (o: KubeObject) => SourcePos | undefined;
  /** Position of a field of an object, for problems that name a field. @default the object's position */
  readonly locate?: (o: KubeObject, path: FieldPath) => SourcePos | undefined;
}

/** A Node object's Ready condition (absent: ready). */
function nodeObjectReady(o: KubeObject): boolean {
  const conditions = (o.status as { conditions?: unknown } | undefined)?.conditions;
  if (!Array.isArray(conditions)) return true;
  const ready = (conditions as unknown[]).find((c): c is { type: string; status?: unknown } => typeof c === 'object' && c !== null && (c as { type?: unknown }).type === 'Ready');
  return ready === undefined || ready.status === 'True';
}

function nodesOf(config: ReconciledState['cluster'], objects: readonly KubeObject[], sourceOf: BuildInput['sourceOf'], stopped: ReadonlySet<string>): NodeState[] {
  const nodeRange = parseCidr(config.nodeCIDR);
  const given = objects.filter((o) => o.kind === 'Node');
  const configs = given.length
    ? given.map((o) => ({
        name: o.metadata.name,
        labels: { 'kubernetes.io/hostname': o.metadata.name, ...o.metadata.labels },
        controlPlane: 'node-role.kubernetes.io/control-plane' in o.metadata.labels,
        podCIDR: (o.spec as { podCIDR?: string } | undefined)?.podCIDR,
        ip: undefined as string | undefined,
        ready: nodeObjectReady(o),
        source: sourceOf(o),
      }))
    : config.nodes.map((n) => ({ ...n, source: undefined }));
  return configs.map((n, i) => ({
    name: n.name,
    labels: n.labels,
    controlPlane: n.controlPlane,
    ip: n.ip ?? (nodeRange ? formatIp(nodeRange.family, nodeRange.range[0] + 2n + BigInt(i)) : ''),
    podCIDR: n.podCIDR ?? subnet(config.podCIDR, config.nodeCIDRMaskSize, i) ?? '',
    ready: n.ready !== false && !stopped.has(n.name),
    source: n.source,
  }));
}

function namespacesOf(objects: readonly KubeObject[], sourceOf: BuildInput['sourceOf']): NamespaceState[] {
  const out = new Map<string, NamespaceState>();
  for (const o of objects) {
    if (o.kind !== 'Namespace') continue;
    out.set(o.metadata.name, {
      name: o.metadata.name,
      labels: { ...o.metadata.labels, 'kubernetes.io/metadata.name': o.metadata.name },
      implicit: false,
      source: sourceOf(o),
    });
  }
  for (const name of ['default', ...objects.map((o) => o.metadata.namespace)]) {
    if (name && !out.has(name)) out.set(name, { name, labels: { 'kubernetes.io/metadata.name': name }, implicit: true });
  }
  return [...out.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Builds the NetworkState of the inputs: reconciled, then its routes and policies compiled once. */
export function buildNetworkState(input: BuildInput, opts: BuildOptions = {}): NetworkState {
  return compileNetwork(reconcile(input, opts), opts);
}

/** Runs the controllers in dependency order: the reconciled objects, not yet compiled. */
function reconcile(input: BuildInput, opts: BuildOptions): ReconciledState {
  const problems: Problem[] = [];
  const cluster = resolveCluster({ objects: input.objects, profile: opts.profile, ingressFlavour: opts.ingressFlavour, now: opts.now, sourceOf: input.sourceOf });
  problems.push(...cluster.problems);
  const config = cluster.config;
  const nodes = nodesOf(config, input.objects, input.sourceOf, new Set(opts.stoppedNodes ?? []));
  const objects = addonObjects(config, input.objects, nodes);
  const namespaces = namespacesOf(objects, input.sourceOf);
  const podResult = reconcilePods({ objects, nodes, sourceOf: input.sourceOf });
  problems.push(...podResult.problems);
  const svcResult = reconcileServices({ objects, pods: podResult.pods, cluster: config, sourceOf: input.sourceOf, locate: input.locate });
  problems.push(...svcResult.problems);
  const endpointSlices = reconcileEndpointSlices({ services: svcResult.services, pods: podResult.pods, objects });
  const lb = assignLoadBalancers({ cluster: config, services: svcResult.services, nodes, namespaces, endpointSlices, objects, sourceOf: input.sourceOf });
  problems.push(...lb.problems);
  const classes = resolveIngressClasses({ objects, cluster: config, sourceOf: input.sourceOf });
  problems.push(...classes.problems);
  const certManager = reconcileCertificates({
    objects,
    ingresses: classes.ingresses,
    now: new Date(opts.now ?? Date.now()),
    seed: opts.seed,
    sourceOf: input.sourceOf,
  });
  problems.push(...certManager.problems);
  const networkPolicies = objects
    .filter((o) => o.kind === 'NetworkPolicy')
    .map((o) => ({ namespace: o.metadata.namespace, name: o.metadata.name, spec: o.spec as NetworkPolicySpec, source: input.sourceOf(o) }));
  return {
    cluster: config,
    nodes,
    namespaces,
    pods: podResult.pods,
    services: lb.services,
    endpointSlices,
    ingressClasses: classes.ingressClasses,
    ingresses: classes.ingresses,
    networkPolicies,
    metallb: lb.metallb,
    certManager,
    objects,
    problems,
  };
}
