/**
 * Kubernetes object shapes as kwire reads them. Objects are validated before they are cast to
 * these types, so a value typed here has the shape it claims (optional fields may be absent).
 */

/** Where an object (or one of its fields) was written. Lines and columns are 1-based. */
export interface SourcePos {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** A path into an object, as keys and array indexes: `['spec', 'ports', 0, 'port']`. */
export type FieldPath = readonly (string | number)[];

/** Renders a field path the way the apiserver does: `spec.ports[0].port`. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

/** Labels, annotations, selectors' matchLabels. */
export type StringMap = Readonly<Record<string, string>>;

/** `metadata` after normalization: name and namespace are always strings (namespace '' for cluster-scoped). */
export interface ObjectMeta {
  readonly name: string;
  readonly namespace: string;
  readonly labels: StringMap;
  readonly annotations: StringMap;
  readonly uid?: string;
  readonly creationTimestamp?: string;
  readonly generateName?: string;
  readonly ownerReferences?: readonly { kind: string; name: string; apiVersion?: string }[];
}

/** Any Kubernetes object after loading: the raw body plus a normalized `metadata`. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta;
  readonly [field: string]: unknown;
}

/** A label selector (`matchLabels` and `matchExpressions`). */
export interface LabelSelector {
  readonly matchLabels?: StringMap;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

/** One `matchExpressions` entry. */
export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
}

/** A port number or a port name (IntOrString). */
export type IntOrString = number | string;

/** Transport protocols Kubernetes knows. */
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** A container port of a pod template. */
export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol?: Protocol;
  readonly hostPort?: number;
}

/** A container (only what networking needs). */
export interface Container {
  readonly name: string;
  readonly image?: string;
  readonly ports?: readonly ContainerPort[];
  readonly readinessProbe?: unknown;
}

/** core/v1 PodSpec (networking subset). */
export interface PodSpec {
  readonly containers: readonly Container[];
  readonly initContainers?: readonly Container[];
  readonly nodeName?: string;
  readonly nodeSelector?: StringMap;
  readonly hostNetwork?: boolean;
  readonly hostname?: string;
  readonly subdomain?: string;
  readonly affinity?: {
    readonly nodeAffinity?: {
      readonly requiredDuringSchedulingIgnoredDuringExecution?: {
        readonly nodeSelectorTerms: readonly {
          readonly matchExpressions?: readonly LabelSelectorRequirement[];
        }[];
      };
    };
  };
}

/** A pod template in a workload. */
export interface PodTemplate {
  readonly metadata?: { readonly labels?: StringMap; readonly annotations?: StringMap };
  readonly spec: PodSpec;
}

/** core/v1 ServicePort. */
export interface ServicePortSpec {
  readonly name?: string;
  readonly protocol?: Protocol;
  readonly port: number;
  readonly targetPort?: IntOrString;
  readonly nodePort?: number;
  readonly appProtocol?: string;
}

/** core/v1 ServiceSpec. */
export interface ServiceSpec {
  readonly type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  readonly selector?: StringMap;
  readonly ports?: readonly ServicePortSpec[];
  readonly clusterIP?: string;
  readonly clusterIPs?: readonly string[];
  readonly externalName?: string;
  readonly externalIPs?: readonly string[];
  readonly loadBalancerIP?: string;
  readonly loadBalancerClass?: string;
  readonly loadBalancerSourceRanges?: readonly string[];
  readonly allocateLoadBalancerNodePorts?: boolean;
  readonly externalTrafficPolicy?: 'Cluster' | 'Local';
  readonly internalTrafficPolicy?: 'Cluster' | 'Local';
  readonly sessionAffinity?: 'None' | 'ClientIP';
  readonly sessionAffinityConfig?: { readonly clientIP?: { readonly timeoutSeconds?: number } };
  readonly publishNotReadyAddresses?: boolean;
  readonly healthCheckNodePort?: number;
  readonly ipFamilies?: readonly string[];
  readonly ipFamilyPolicy?: string;
}

/** networking.k8s.io/v1 NetworkPolicyPort. */
export interface NetworkPolicyPort {
  readonly protocol?: Protocol;
  readonly port?: IntOrString;
  readonly endPort?: number;
}

/** networking.k8s.io/v1 IPBlock. */
export interface IPBlock {
  readonly cidr: string;
  readonly except?: readonly string[];
}

/** networking.k8s.io/v1 NetworkPolicyPeer. */
export interface NetworkPolicyPeer {
  readonly podSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
  readonly ipBlock?: IPBlock;
}

/** networking.k8s.io/v1 NetworkPolicySpec. */
export interface NetworkPolicySpec {
  readonly podSelector: LabelSelector;
  readonly policyTypes?: readonly ('Ingress' | 'Egress')[];
  readonly ingress?: readonly {
    readonly from?: readonly NetworkPolicyPeer[];
    readonly ports?: readonly NetworkPolicyPort[];
  }[];
  readonly egress?: readonly {
    readonly to?: readonly NetworkPolicyPeer[];
    readonly ports?: readonly NetworkPolicyPort[];
  }[];
}

/** networking.k8s.io/v1 IngressServiceBackend / IngressBackend. */
export interface IngressBackend {
  readonly service?: {
    readonly name: string;
    readonly port?: { readonly number?: number; readonly name?: string };
  };
  readonly resource?: { readonly apiGroup?: string; readonly kind: string; readonly name: string };
}

/** networking.k8s.io/v1 HTTPIngressPath. */
export interface HTTPIngressPath {
  readonly path?: string;
  readonly pathType: 'Exact' | 'Prefix' | 'ImplementationSpecific';
  readonly backend: IngressBackend;
}

/** networking.k8s.io/v1 IngressSpec. */
export interface IngressSpec {
  readonly ingressClassName?: string;
  readonly defaultBackend?: IngressBackend;
  readonly tls?: readonly { readonly hosts?: readonly string[]; readonly secretName?: string }[];
  readonly rules?: readonly {
    readonly host?: string;
    readonly http?: { readonly paths: readonly HTTPIngressPath[] };
  }[];
}

/** networking.k8s.io/v1 IngressClassSpec. */
export interface IngressClassSpec {
  readonly controller?: string;
  readonly parameters?: unknown;
}
