/**
 * Workloads → pods: Deployment (through its ReplicaSet), ReplicaSet, StatefulSet, DaemonSet, Job,
 * CronJob, ReplicationController and bare Pods; then scheduling onto nodes and per-node IPAM.
 * Deterministic: names come from hashes of the objects, placement from input order.
 */
import type { Problem } from '../../api/problems.js';
import type { ContainerPort, KubeObject, PodSpec, PodTemplate, Protocol, SourcePos, StringMap } from '../../api/types.js';
import { cidrContains, fnv32a, formatIp, parseCidr, parseIp } from '../../model/ip.js';
import type { NodeState, PodState, WorkloadRef } from '../../model/types.js';
import { ADDON_ANNOTATION } from '../cluster/index.js';
import { compileNodeSelectorTerms, compileSelector } from '../../model/selectors.js';


/** Annotation a user can put on a pod or pod template to mark its pods not ready. */
export const READY_ANNOTATION = 'kwire.dev/ready';

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** Kubernetes' "safe" encoding of a hash (no vowels, no confusable digits). */
function safeEncode(n: number, length: number): string {
  let out = '';
  let v = n >>> 0;
  for (let i = 0; i < length; i++) {
    out += SAFE[v % SAFE.length] ?? 'b';
    v = Math.floor(v / SAFE.length) || fnv32a(out);
  }
  return out;
}

/** A pod before scheduling. */
interface PodDraft {
  readonly namespace: string;
  readonly name: string;
  readonly labels: StringMap;
  readonly annotations: StringMap;
  readonly spec: PodSpec;
  readonly workload: WorkloadRef;
  readonly owner?: WorkloadRef;
  readonly fixedNode?: string;
  readonly status?: Record<string, unknown>;
  readonly terminating: boolean;
  readonly addon: boolean;
  readonly source?: SourcePos;
}

function templateOf(o: KubeObject): PodTemplate | undefined {
  const spec = o.spec as Record<string, unknown> | undefined;
  if (o.kind === 'CronJob') {
    return ((spec?.jobTemplate as Record<string, unknown> | undefined)?.spec as { template?: PodTemplate } | undefined)?.template;
  }
  return spec?.template as PodTemplate | undefined;
}

function replicasOf(o: KubeObject): number {
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  if (o.kind === 'Job') return typeof spec.parallelism === 'number' ? spec.parallelism : 1;
  if (o.kind === 'CronJob') {
    const p = ((spec.jobTemplate as Record<string, unknown> | undefined)?.spec as Record<string, unknown> | undefined)?.parallelism;
    return typeof p === 'number' ? p : 1;
  }
  return typeof spec.replicas === 'number' ? spec.replicas : 1;
}

/** Drafts the pods one workload object makes (DaemonSets need the nodes). */
function draftPods(o: KubeObject, nodes: readonly NodeState[], source?: SourcePos): PodDraft[] {
  const addon = o.metadata.annotations[ADDON_ANNOTATION] === 'true';
  const ns = o.metadata.namespace;
  if (o.kind === 'Pod') {
    const status = (o.status ?? undefined) as Record<string, unknown> | undefined;
    return [
      {
        namespace: ns,
        name: o.metadata.name,
        labels: o.metadata.labels,
        annotations: o.metadata.annotations,
        spec: o.spec as PodSpec,
        workload: ownerOf(o) ?? { kind: 'Pod', name: o.metadata.name },
        owner: ownerOf(o),
        fixedNode: (o.spec as PodSpec).nodeName,
        status,
        terminating: typeof (o.metadata as unknown as Record<string, unknown>).deletionTimestamp === 'string',
        addon,
        source,
      },
    ];
  }
  const template = templateOf(o);
  if (!template) return [];
  const labels = template.metadata?.labels ?? {};
  const annotations = { ...(template.metadata?.annotations ?? {}), ...(addon ? { [ADDON_ANNOTATION]: 'true' } : {}) };
  const workload: WorkloadRef = { kind: o.kind, name: o.metadata.name };
  const hash = safeEncode(fnv32a(JSON.stringify(template)), 10);
  const base = { namespace: ns, annotations, spec: template.spec, workload, terminating: false, addon, source };
  const n = replicasOf(o);
  switch (o.kind) {
    case 'Deployment': {
      const rs = `${o.metadata.name}-${hash}`;
      return Array.from({ length: n }, (_, i) => ({
        ...base,
        name: `${rs}-${safeEncode(fnv32a(`${rs}/${i}`), 5)}`,
        labels: { ...labels, 'pod-template-hash': hash },
        owner: { kind: 'ReplicaSet', name: rs },
      }));
    }
    case 'StatefulSet':
      return Array.from({ length: n }, (_, i) => ({
        ...base,
        name: `${o.metadata.name}-${i}`,
        labels: { ...labels, 'apps.kubernetes.io/pod-index': String(i), 'statefulset.kubernetes.io/pod-name': `${o.metadata.name}-${i}` },
        owner: workload,
      }));
    case 'DaemonSet':
      return nodes
        .filter(daemonEligible(template.spec))
        .map((node) => ({
          ...base,
          name: `${o.metadata.name}-${safeEncode(fnv32a(`${o.metadata.name}/${node.name}`), 5)}`,
          labels,
          owner: workload,
          fixedNode: node.name,
        }));
    case 'CronJob': {
      const job = `${o.metadata.name}-${String(fnv32a(o.metadata.name) % 100000000).padStart(8, '0')}`;
      return Array.from({ length: n }, (_, i) => ({
        ...base,
        name: `${job}-${safeEncode(fnv32a(`${job}/${i}`), 5)}`,
        labels: { ...labels, 'batch.kubernetes.io/job-name': job },
        owner: { kind: 'Job', name: job },
      }));
    }
    default:
      return Array.from({ length: n }, (_, i) => ({
        ...base,
        name: `${o.metadata.name}-${safeEncode(fnv32a(`${o.metadata.name}/${i}`), 5)}`,
        labels: o.kind === 'Job' ? { ...labels, 'batch.kubernetes.io/job-name': o.metadata.name } : labels,
        owner: workload,
      }));
  }
}

function ownerOf(o: KubeObject): WorkloadRef | undefined {
  const ref = o.metadata.ownerReferences?.[0];
  return ref ? { kind: ref.kind, name: ref.name } : undefined;
}

function daemonEligible(spec: PodSpec): (node: NodeState) => boolean {
  const fits = nodeFits(spec);
  return (node) => fits(node) && !node.controlPlane;
}

/** Whether a node satisfies a pod's `nodeSelector` and required node affinity, compiled once per pod. */
function nodeFits(spec: PodSpec): (node: NodeState) => boolean {
  const selector = compileSelector({ matchLabels: spec.nodeSelector ?? {} });
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const affinity = terms && terms.length > 0 ? compileNodeSelectorTerms(terms) : undefined;
  return (node) => selector.matches(node.labels) && (affinity === undefined || affinity(node.labels));
}

function podReady(d: PodDraft): { ready: boolean; phase: PodState['phase'] } {
  if (d.annotations[READY_ANNOTATION] === 'false') return { ready: false, phase: 'Running' };
  const status = d.status;
  if (!status) return { ready: true, phase: 'Running' };
  const phase = (typeof status.phase === 'string' ? status.phase : 'Running') as PodState['phase'];
  const conditions = Array.isArray(status.conditions)
    ? (status.conditions as unknown[]).filter((c): c is { type?: string; status?: string } => typeof c === 'object' && c !== null)
    : [];
  const readyCond = conditions.find((c) => c.type === 'Ready');
  const ready = phase === 'Running' && (readyCond ? readyCond.status === 'True' : true);
  return { ready, phase };
}

function portsOf(spec: PodSpec): PodState['ports'] {
  const out: (ContainerPort & { protocol: Protocol; container: string })[] = [];
  for (const c of spec.containers) {
    for (const p of c.ports ?? []) out.push({ ...p, protocol: p.protocol ?? 'TCP', container: c.name });
  }
  return out;
}

/** Inputs of pod reconciliation. */
export interface WorkloadInput {
  readonly objects: readonly KubeObject[];
  readonly nodes: readonly NodeState[];
  readonly sourceOf: (o: KubeObject) => SourcePos | undefined;
}

const WORKLOAD_KINDS = new Set(['Pod', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicationController']);

/** Makes, schedules and addresses every pod. */
export function reconcilePods(input: WorkloadInput): { pods: PodState[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const drafts: PodDraft[] = [];
  for (const o of input.objects) {
    if (!WORKLOAD_KINDS.has(o.kind)) continue;
    drafts.push(...draftPods(o, input.nodes, input.sourceOf(o)));
  }
  const load = new Map(input.nodes.map((n) => [n.name, 0]));
  const used = new Map<string, Set<bigint>>();
  const placed: { draft: PodDraft; node?: NodeState; fixedIP?: string }[] = [];
  for (const d of drafts) {
    let node: NodeState | undefined;
    if (d.fixedNode) {
      node = input.nodes.find((n) => n.name === d.fixedNode);
      if (!node) {
        problems.push({
          code: 'KW-SCHED001',
          severity: 'warning',
          message: `nodeName "${d.fixedNode}" is not a node of this cluster; the pod stays Pending`,
          object: { kind: 'Pod', namespace: d.namespace, name: d.name },
          source: d.source,
          hint: `nodes: ${input.nodes.map((n) => n.name).join(', ')}`,
        });
      }
    } else {
      const fits = input.nodes.filter(nodeFits(d.spec));
      const workers = fits.filter((n) => !n.controlPlane);
      const candidates = workers.length > 0 ? workers : d.addon ? fits : fits.filter((n) => !n.controlPlane);
      node = candidates.reduce<NodeState | undefined>((best, n) => (best === undefined || (load.get(n.name) ?? 0) < (load.get(best.name) ?? 0) ? n : best), undefined);
      if (!node) {
        problems.push({
          code: 'KW-SCHED002',
          severity: 'warning',
          message: '0 nodes are available: no node matches the nodeSelector/affinity; the pod stays Pending',
          object: { kind: 'Pod', namespace: d.namespace, name: d.name },
          source: d.source,
          hint: 'check spec.nodeSelector and node labels (kwire get nodes --show-labels)',
        });
      }
    }
    if (node) load.set(node.name, (load.get(node.name) ?? 0) + 1);
    const podIP = typeof d.status?.podIP === 'string' ? d.status.podIP : undefined;
    if (podIP && node) {
      const v = parseIp(podIP);
      if (v) {
        const set = used.get(node.name) ?? new Set<bigint>();
        set.add(v.value);
        used.set(node.name, set);
      }
    }
    placed.push({ draft: d, node, fixedIP: podIP });
  }
  const next = new Map<string, bigint>();
  const pods: PodState[] = [];
  for (const { draft: d, node, fixedIP } of placed) {
    let ip = '';
    if (node && d.spec.hostNetwork) ip = node.ip;
    else if (fixedIP) ip = fixedIP;
    else if (node) {
      const range = parseCidr(node.podCIDR);
      const set = used.get(node.name) ?? new Set<bigint>();
      used.set(node.name, set);
      if (range) {
        const [first, last] = range.range;
        let candidate = next.get(node.name) ?? first + 2n;
        while (set.has(candidate) && candidate < last) candidate++;
        if (candidate < last) {
          set.add(candidate);
          next.set(node.name, candidate + 1n);
          ip = formatIp(range.family, candidate);
        } else {
          problems.push({
            code: 'KW-IPAM001',
            severity: 'warning',
            message: `node ${node.name} has no free address left in its pod CIDR ${node.podCIDR}`,
            object: { kind: 'Pod', namespace: d.namespace, name: d.name },
            source: d.source,
            hint: 'the pod stays Pending (the CNI cannot give it an address); add nodes to the Cluster object',
          });
        }
      }
    }
    if (fixedIP && node && !d.spec.hostNetwork && !input.nodes.some((n) => { const r = parseCidr(n.podCIDR); const a = parseIp(fixedIP); return r !== undefined && a !== undefined && cidrContains(r, a); })) {
      problems.push({
        code: 'KW-IPAM002',
        severity: 'warning',
        message: `status.podIP ${fixedIP} is outside every node's pod CIDR`,
        object: { kind: 'Pod', namespace: d.namespace, name: d.name },
        source: d.source,
      });
    }
    const { ready, phase } = podReady(d);
    pods.push({
      namespace: d.namespace,
      name: d.name,
      labels: d.labels,
      annotations: d.annotations,
      ip,
      node: node?.name ?? '',
      hostNetwork: d.spec.hostNetwork === true,
      ready: ready && node !== undefined && node.ready && ip !== '' && !d.terminating,
      terminating: d.terminating,
      phase: node && ip !== '' ? phase : 'Pending',
      containers: d.spec.containers.map((c) => c.name),
      ports: portsOf(d.spec),
      workload: d.workload,
      owner: d.owner,
      addon: d.addon,
      source: d.source,
    });
  }
  return { pods, problems };
}
