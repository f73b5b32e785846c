/**
 * NetworkState: the computed network of one cluster. Controllers build it from the store; every
 * plane (simulator, proxy, Linux) reads it and nothing else.
 */
import type {
  ContainerPort,
  IngressSpec,
  KubeObject,
  NetworkPolicySpec,
  Protocol,
  SourcePos,
  StringMap,
} from '../api/types.js';
import type { Problem } from '../api/problems.js';
import type { Allocation, Announcements, MetalLBConfig, Pending } from './metallb.js';
import type { CertManagerState } from './certmanager.js';
import type { IngressRouting } from './routing/types.js';
import type { CompiledPolicies } from './policy/types.js';

import type { CniMode, ControllerServiceType, IngressFlavour, LoadBalancerMode, PolicyEnforcement, ProfileName } from '../api/cluster.js';
export type { CniMode, ControllerServiceType, IngressFlavour, LoadBalancerMode, PolicyEnforcement, ProfileName } from '../api/cluster.js';

/** One ingress controller installed in the cluster. */
export interface IngressControllerConfig {
  /** Name of the controller (also its namespace and Deployment name), e.g. `ingress-nginx`. */
  readonly name: string;
  readonly flavour: IngressFlavour;
  /** The IngressClass name it serves. */
  readonly className: string;
  /** `spec.controller` value of its IngressClass (`k8s.io/ingress-nginx`, `traefik.io/ingress-controller`). */
  readonly controller: string;
  readonly defaultClass: boolean;
  /** How its own Service is exposed. */
  readonly serviceType: ControllerServiceType;
  /** Whether it also binds host ports 80/443 on its nodes (minikube addon style). */
  readonly hostPort: boolean;
}

/** The cluster as configured by the Cluster object and/or a profile. */
export interface ClusterConfig {
  readonly name: string;
  readonly profile: ProfileName;
  readonly nodes: readonly NodeConfig[];
  readonly podCIDR: string;
  /** Prefix length of each node's pod CIDR (24 by default). */
  readonly nodeCIDRMaskSize: number;
  readonly serviceCIDR: string;
  readonly nodePortRange: readonly [number, number];
  /** The nodes' own L2 segment (172.18.0.0/16). */
  readonly nodeCIDR: string;
  readonly cni: { readonly mode: CniMode; readonly networkPolicy: PolicyEnforcement; readonly name: string };
  readonly ingressControllers: readonly IngressControllerConfig[];
  readonly loadBalancer: {
    readonly mode: LoadBalancerMode;
    /** Address pool used by the profile itself (servicelb: none, cloud: 203.0.113.0/24). */
    readonly pool?: string;
  };
  readonly clusterDomain: string;
  /** Fixed "now" for deterministic certificate issuance (ISO time). */
  readonly now?: string;
}

/** A node as configured. */
export interface NodeConfig {
  readonly name: string;
  readonly labels: StringMap;
  readonly zone?: string;
  readonly controlPlane: boolean;
  readonly ip?: string;
  readonly podCIDR?: string;
  /** @default true */
  readonly ready?: boolean;
}

/** A node of the computed cluster. */
export interface NodeState {
  readonly name: string;
  readonly labels: StringMap;
  readonly ip: string;
  readonly podCIDR: string;
  readonly controlPlane: boolean;
  /**
   * The node's Ready condition. A node that is not ready (stopped with `kwire node stop`, or
   * `Ready=False` in its status) has its links down: its pods are not ready and do not answer,
   * and MetalLB's speaker on it announces nothing.
   */
  readonly ready: boolean;
  readonly source?: SourcePos;
}

/** A namespace (created implicitly when only referenced). */
export interface NamespaceState {
  readonly name: string;
  /** Labels, always including `kubernetes.io/metadata.name`. */
  readonly labels: StringMap;
  readonly implicit: boolean;
  readonly source?: SourcePos;
}

/** The top-level owner of a pod, as written in the manifests. */
export interface WorkloadRef {
  readonly kind: string;
  readonly name: string;
}

/** A pod of the computed cluster. */
export interface PodState {
  readonly namespace: string;
  readonly name: string;
  readonly labels: StringMap;
  readonly annotations: StringMap;
  readonly ip: string;
  readonly node: string;
  readonly hostNetwork: boolean;
  /** Ready condition (serving). */
  readonly ready: boolean;
  readonly terminating: boolean;
  readonly phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  /** Names of the pod's containers (sidecars included), in order: `kubectl get`'s READY counts them. */
  readonly containers: readonly string[];
  /** Every container port of every container, protocol defaulted to TCP. */
  readonly ports: readonly (ContainerPort & { readonly protocol: Protocol; readonly container: string })[];
  /** Top-level workload that made this pod (`Pod` itself for a bare pod). */
  readonly workload: WorkloadRef;
  /** The direct owner (ReplicaSet for a Deployment's pod). */
  readonly owner?: WorkloadRef;
  /** Pods kwire adds itself (ingress controllers, DNS): not user workloads. */
  readonly addon: boolean;
  readonly source?: SourcePos;
}

/** A resolved Service port. */
export interface ServicePortState {
  readonly name: string;
  readonly protocol: Protocol;
  readonly port: number;
  /** As written (number or name); defaults to `port`. */
  readonly targetPort: number | string;
  readonly nodePort?: number;
  readonly appProtocol?: string;
}

/** A Service of the computed cluster. */
export interface ServiceState {
  readonly namespace: string;
  readonly name: string;
  readonly type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  readonly labels: StringMap;
  readonly annotations: StringMap;
  /** `undefined` selector means selector-less (user-managed Endpoints). */
  readonly selector?: StringMap;
  /** The VIP, `None` for headless, '' for ExternalName. */
  readonly clusterIP: string;
  readonly headless: boolean;
  readonly externalName?: string;
  readonly externalIPs: readonly string[];
  readonly ports: readonly ServicePortState[];
  readonly externalTrafficPolicy: 'Cluster' | 'Local';
  readonly internalTrafficPolicy: 'Cluster' | 'Local';
  readonly sessionAffinity: 'None' | 'ClientIP';
  readonly sessionAffinityTimeoutSeconds: number;
  readonly publishNotReadyAddresses: boolean;
  readonly healthCheckNodePort?: number;
  readonly loadBalancerClass?: string;
  /** Deprecated `spec.loadBalancerIP`, as written. */
  readonly loadBalancerIP?: string;
  readonly ipFamilies?: readonly string[];
  readonly loadBalancerSourceRanges: readonly string[];
  /** LoadBalancer status: the addresses given, empty while `<pending>`. */
  readonly loadBalancerIngress: readonly { readonly ip: string; readonly ipMode?: 'VIP' | 'Proxy' }[];
  /** Who gave the address (`metallb`, `servicelb`, `cloud`), or why it is pending. */
  readonly loadBalancerBy?: string;
  readonly pendingReason?: string;
  /** An add-on Service kwire made (ingress controller, kube-dns). */
  readonly addon: boolean;
  readonly source?: SourcePos;
}

/** One endpoint of an EndpointSlice. */
export interface EndpointState {
  readonly addresses: readonly string[];
  readonly conditions: { readonly ready: boolean; readonly serving: boolean; readonly terminating: boolean };
  readonly nodeName?: string;
  readonly targetRef?: { readonly kind: 'Pod'; readonly namespace: string; readonly name: string };
}

/** A discovery.k8s.io/v1 EndpointSlice. */
export interface EndpointSliceState {
  readonly namespace: string;
  readonly name: string;
  readonly service: string;
  readonly addressType: 'IPv4' | 'IPv6' | 'FQDN';
  readonly ports: readonly { readonly name: string; readonly port: number; readonly protocol: Protocol }[];
  readonly endpoints: readonly EndpointState[];
  /** `endpointslice-controller.k8s.io`, or `user` for slices/Endpoints written in the inputs. */
  readonly managedBy: string;
}

/** An IngressClass (given, or made for an installed controller). */
export interface IngressClassState {
  readonly name: string;
  readonly controller: string;
  readonly isDefault: boolean;
  readonly implicit: boolean;
  readonly source?: SourcePos;
}

/** An Ingress with its resolved class. */
export interface IngressState {
  readonly namespace: string;
  readonly name: string;
  readonly annotations: StringMap;
  readonly spec: IngressSpec;
  /** The class it resolved to, and how (`spec.ingressClassName`, annotation, default), or none. */
  readonly className?: string;
  readonly classFrom?: 'ingressClassName' | 'annotation' | 'default';
  /** Name of the controller serving it, none when its class has no controller. */
  readonly controller?: string;
  readonly creationTimestamp?: string;
  /** Order of appearance in the inputs (oldest-first tiebreaker when timestamps are absent). */
  readonly order: number;
  readonly source?: SourcePos;
}

/** A NetworkPolicy as written (compiled by the networkpolicy controller). */
export interface NetworkPolicyState {
  readonly namespace: string;
  readonly name: string;
  readonly spec: NetworkPolicySpec;
  readonly source?: SourcePos;
}

/** MetalLB's view: its configuration, the addresses it gave and who announces them. */
export interface MetalLBState {
  readonly config: MetalLBConfig;
  readonly allocations: ReadonlyMap<string, Allocation | Pending>;
  readonly announcements: Announcements;
}

/** The whole computed network before its routes and policies are compiled. */
export interface ReconciledState {
  readonly cluster: ClusterConfig;
  readonly nodes: readonly NodeState[];
  readonly namespaces: readonly NamespaceState[];
  readonly pods: readonly PodState[];
  readonly services: readonly ServiceState[];
  readonly endpointSlices: readonly EndpointSliceState[];
  readonly ingressClasses: readonly IngressClassState[];
  readonly ingresses: readonly IngressState[];
  readonly networkPolicies: readonly NetworkPolicyState[];
  /** Present when MetalLB serves LoadBalancer Services. */
  readonly metallb?: MetalLBState;
  /** cert-manager's issuers, certificates and the Secrets it wrote. */
  readonly certManager?: CertManagerState;
  /** Every input object, for kinds a controller does not model here (MetalLB, cert-manager…). */
  readonly objects: readonly KubeObject[];
  /** Findings made while reconciling (conflicts, unresolved references). */
  readonly problems: readonly Problem[];
}

/**
 * The whole computed network: the reconciled objects plus their compiled Ingress routes and
 * NetworkPolicies, made once per reconcile. Every plane reads this and nothing else.
 */
export interface NetworkState extends ReconciledState {
  /** Every ingress controller's compiled routes. */
  readonly routing: IngressRouting;
  /** Every NetworkPolicy compiled into matchers. */
  readonly policies: CompiledPolicies;
}
