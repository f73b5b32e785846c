/**
 * Builds a NetworkState directly (no loader) for NetworkPolicy tests: namespaces, pods with labels,
 * ports and IPs, and policies. Also the upstream e2e model (namespaces x, y, z; pods `pod=<name>`
 * serving 80/81 on TCP, UDP and SCTP as `serve-<port>-<proto>`).
 */
import { compileNetwork } from '../../src/controllers/index.js';
import type { NetworkPolicySpec, Protocol, StringMap } from '../../src/api/types.js';
import type {
  ClusterConfig,
  NetworkPolicyState,
  NetworkState,
  PodState,
  WorkloadRef,
} from '../../src/model/types.js';

/** A pod as tests describe it. */
export interface TestPod {
  readonly namespace: string;
  readonly name: string;
  readonly labels?: StringMap;
  readonly ports?: readonly {
    readonly name?: string;
    readonly containerPort: number;
    readonly protocol?: Protocol;
  }[];
  readonly ip?: string;
  /** @default the pod itself (`Pod`) */
  readonly workload?: WorkloadRef;
  readonly addon?: boolean;
}

/** What `netpolState` builds from. */
export interface TestNetwork {
  /** Namespace labels by name (namespaces of pods and policies are added implicitly). */
  readonly namespaces?: Readonly<Record<string, StringMap>>;
  readonly pods: readonly TestPod[];
  readonly policies?: readonly NetworkPolicyState[];
  /** @default 'enforced' */
  readonly networkPolicy?: 'enforced' | 'ignored';
  /** @default '10.244.0.0/16' */
  readonly podCIDR?: string;
  /** @default '10.96.0.0/12' */
  readonly serviceCIDR?: string;
}

/** A NetworkPolicy in a namespace. */
export function policy(
  namespace: string,
  name: string,
  spec: NetworkPolicySpec,
  line = 1,
): NetworkPolicyState {
  return { namespace, name, spec, source: { file: `${namespace}-${name}.yaml`, line, column: 1 } };
}

/** A test cluster config (kwire profile, 3 nodes). */
export function testCluster(overrides: Partial<ClusterConfig> = {}): ClusterConfig {
  return {
    name: 'test',
    profile: 'kwire',
    nodes: [{ name: 'worker-1', labels: {}, controlPlane: false }],
    podCIDR: '10.244.0.0/16',
    nodeCIDRMaskSize: 24,
    serviceCIDR: '10.96.0.0/12',
    nodePortRange: [30000, 32767],
    nodeCIDR: '172.18.0.0/16',
    cni: { mode: 'routed', networkPolicy: 'enforced', name: 'kwire' },
    ingressControllers: [],
    loadBalancer: { mode: 'none' },
    clusterDomain: 'cluster.local',
    ...overrides,
  };
}

/** Builds a NetworkState from pods, namespaces and policies. */
export function netpolState(input: TestNetwork): NetworkState {
  const nsNames = new Set<string>([
    ...Object.keys(input.namespaces ?? {}),
    ...input.pods.map((p) => p.namespace),
    ...(input.policies ?? []).map((p) => p.namespace),
  ]);
  const namespaces = [...nsNames].sort().map((name) => ({
    name,
    labels: { ...(input.namespaces?.[name] ?? {}), 'kubernetes.io/metadata.name': name },
    implicit: input.namespaces?.[name] === undefined,
  }));
  let auto = 0;
  const pods: PodState[] = input.pods.map((p) => ({
    namespace: p.namespace,
    name: p.name,
    labels: p.labels ?? {},
    annotations: {},
    containers: ['main'],
    ip: p.ip ?? `10.244.200.${++auto}`,
    node: 'worker-1',
    hostNetwork: false,
    ready: true,
    terminating: false,
    phase: 'Running',
    ports: (p.ports ?? []).map((port) => ({
      ...port,
      protocol: port.protocol ?? 'TCP',
      container: 'main',
    })),
    workload: p.workload ?? { kind: 'Pod', name: p.name },
    addon: p.addon ?? false,
  }));
  const cluster = testCluster({
    podCIDR: input.podCIDR ?? '10.244.0.0/16',
    serviceCIDR: input.serviceCIDR ?? '10.96.0.0/12',
    cni: {
      mode: 'routed',
      networkPolicy: input.networkPolicy ?? 'enforced',
      name: input.networkPolicy === 'ignored' ? 'flannel' : 'kwire',
    },
  });
  return compileNetwork({
    cluster,
    nodes: [
      {
        name: 'worker-1',
        labels: {},
        ip: '172.18.0.2',
        podCIDR: '10.244.0.0/24',
        controlPlane: false,
        ready: true,
      },
    ],
    namespaces,
    pods,
    services: [],
    endpointSlices: [],
    ingressClasses: [],
    ingresses: [],
    networkPolicies: input.policies ?? [],
    objects: [],
    problems: [],
  });
}

const E2E_NAMESPACES = ['x', 'y', 'z'];
const E2E_PODS = ['a', 'b', 'c'];

/** IP of an e2e pod `ns/name`: 10.244.<1+ns index>.<10+pod index>. */
export function e2ePodIp(id: string): string {
  const [ns = '', name = ''] = id.split('/');
  return `10.244.${E2E_NAMESPACES.indexOf(ns) + 1}.${E2E_PODS.indexOf(name) + 10}`;
}

/** The e2e pod's container ports: 80 and 81 on TCP, UDP and SCTP, named `serve-<port>-<proto>`. */
export function e2ePorts(): TestPod['ports'] {
  const protocols: Protocol[] = ['TCP', 'UDP', 'SCTP'];
  return [80, 81].flatMap((port) =>
    protocols.map((protocol) => ({
      name: `serve-${port}-${protocol.toLowerCase()}`,
      containerPort: port,
      protocol,
    })),
  );
}

/** The upstream e2e model: given pods (`x/a`), extra namespace and pod labels, and policies. */
export function e2eState(
  podIds: readonly string[],
  policies: readonly NetworkPolicyState[],
  extraNamespaceLabels: Readonly<Record<string, StringMap>> = {},
  extraPodLabels: Readonly<Record<string, StringMap>> = {},
): NetworkState {
  const namespaces = Object.fromEntries(
    E2E_NAMESPACES.map((ns) => [ns, { ns, ...(extraNamespaceLabels[ns] ?? {}) }]),
  );
  const pods = podIds.map((id): TestPod => {
    const [namespace = '', name = ''] = id.split('/');
    return {
      namespace,
      name,
      labels: { pod: name, ...(extraPodLabels[id] ?? {}) },
      ports: e2ePorts(),
      ip: e2ePodIp(id),
    };
  });
  return netpolState({ namespaces, pods, policies });
}
