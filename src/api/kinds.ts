/**
 * The kinds kwire understands: their group/version, scope, and the structural schema of their
 * body (the networking-relevant subset of the upstream OpenAPI, trimmed by hand; see docs/adr/0002).
 */
import { CNI_MODES, CONTROLLER_SERVICE_TYPES, INGRESS_FLAVOURS, LOAD_BALANCER_MODES, POLICY_ENFORCEMENT, PROFILE_NAMES } from './cluster.js';
import { s, type Schema } from './schema.js';

/** What kwire knows about one kind. */
export interface KindInfo {
  readonly kind: string;
  readonly groups: readonly string[];
  readonly namespaced: boolean;
  readonly schema: Schema;
}

const protocol = s.str(['TCP', 'UDP', 'SCTP']);
const port = s.int(1, 65535);
const labelSelector = s.obj({
  matchLabels: s.map(),
  matchExpressions: s.arr(
    s.obj({ key: s.str(), operator: s.str(['In', 'NotIn', 'Exists', 'DoesNotExist']), values: s.arr(s.str()) }, ['key', 'operator']),
  ),
});
const containerPort = s.obj(
  { name: s.str(), containerPort: port, protocol, hostPort: port, hostIP: s.str() },
  ['containerPort'],
);
const container = s.open({ name: s.str(), image: s.str(), ports: s.arr(containerPort) }, ['name']);
const nodeSelectorTerm = s.open({
  matchExpressions: s.arr(s.obj({ key: s.str(), operator: s.str(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']), values: s.arr(s.str()) }, ['key', 'operator'])),
});
const podSpec = s.open(
  {
    containers: s.arr(container),
    initContainers: s.arr(container),
    nodeName: s.str(),
    nodeSelector: s.map(),
    hostNetwork: s.bool(),
    hostname: s.str(),
    subdomain: s.str(),
    affinity: s.open({
      nodeAffinity: s.open({
        requiredDuringSchedulingIgnoredDuringExecution: s.open({ nodeSelectorTerms: s.arr(nodeSelectorTerm) }, ['nodeSelectorTerms']),
      }),
    }),
  },
  ['containers'],
);
const podTemplate = s.open({ metadata: s.open({ labels: s.map(), annotations: s.map() }), spec: podSpec }, ['spec']);
const replicas = s.int(0);
const workloadSpec = (extra: Record<string, Schema> = {}, required: string[] = ['selector', 'template']): Schema =>
  s.open({ replicas, selector: labelSelector, template: podTemplate, ...extra }, required);

const servicePort = s.obj(
  { name: s.str(), protocol, port, targetPort: s.intOrStr(1, 65535), nodePort: s.int(0, 65535), appProtocol: s.str() },
  ['port'],
);
const serviceSpec = s.obj({
  type: s.str(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']),
  selector: s.map(),
  ports: s.arr(servicePort),
  clusterIP: s.str(),
  clusterIPs: s.arr(s.str()),
  externalName: s.str(),
  externalIPs: s.arr(s.str()),
  loadBalancerIP: s.str(),
  loadBalancerClass: s.str(),
  loadBalancerSourceRanges: s.arr(s.str()),
  allocateLoadBalancerNodePorts: s.bool(),
  externalTrafficPolicy: s.str(['Cluster', 'Local']),
  internalTrafficPolicy: s.str(['Cluster', 'Local']),
  sessionAffinity: s.str(['None', 'ClientIP']),
  sessionAffinityConfig: s.obj({ clientIP: s.obj({ timeoutSeconds: s.int(1, 86400) }) }),
  publishNotReadyAddresses: s.bool(),
  healthCheckNodePort: s.int(0, 65535),
  ipFamilies: s.arr(s.str(['IPv4', 'IPv6'])),
  ipFamilyPolicy: s.str(['SingleStack', 'PreferDualStack', 'RequireDualStack']),
  trafficDistribution: s.str(),
});

const npPort = s.obj({ protocol, port: s.intOrStr(1, 65535), endPort: port });
const npPeer = s.obj({
  podSelector: labelSelector,
  namespaceSelector: labelSelector,
  ipBlock: s.obj({ cidr: s.str(), except: s.arr(s.str()) }, ['cidr']),
});
const networkPolicySpec = s.obj(
  {
    podSelector: labelSelector,
    policyTypes: s.arr(s.str(['Ingress', 'Egress'])),
    ingress: s.arr(s.obj({ from: s.arr(npPeer), ports: s.arr(npPort) })),
    egress: s.arr(s.obj({ to: s.arr(npPeer), ports: s.arr(npPort) })),
  },
  ['podSelector'],
);

const ingressBackend = s.obj({
  service: s.obj({ name: s.str(), port: s.obj({ number: port, name: s.str() }) }, ['name']),
  resource: s.obj({ apiGroup: s.str(), kind: s.str(), name: s.str() }, ['kind', 'name']),
});
const ingressSpec = s.obj({
  ingressClassName: s.str(),
  defaultBackend: ingressBackend,
  tls: s.arr(s.obj({ hosts: s.arr(s.str()), secretName: s.str() })),
  rules: s.arr(
    s.obj({
      host: s.str(),
      http: s.obj(
        {
          paths: s.arr(
            s.obj(
              { path: s.str(), pathType: s.str(['Exact', 'Prefix', 'ImplementationSpecific']), backend: ingressBackend },
              ['pathType', 'backend'],
            ),
          ),
        },
        ['paths'],
      ),
    }),
  ),
});

const endpointPort = s.obj({ name: s.str(), port, protocol, appProtocol: s.str() });
const core = ['v1'];
const apps = ['apps/v1'];
const batch = ['batch/v1'];
const net = ['networking.k8s.io/v1'];
const metallb = ['metallb.io/v1beta1', 'metallb.io/v1beta2'];
const cm = ['cert-manager.io/v1'];
const any = s.any();

const table: KindInfo[] = [
  { kind: 'Namespace', groups: core, namespaced: false, schema: any },
  { kind: 'Node', groups: core, namespaced: false, schema: s.open({ podCIDR: s.str(), podCIDRs: s.arr(s.str()) }) },
  { kind: 'Pod', groups: core, namespaced: true, schema: podSpec },
  { kind: 'Service', groups: core, namespaced: true, schema: serviceSpec },
  {
    kind: 'Endpoints',
    groups: core,
    namespaced: true,
    schema: any,
  },
  { kind: 'ServiceAccount', groups: core, namespaced: true, schema: any },
  { kind: 'Secret', groups: core, namespaced: true, schema: any },
  { kind: 'ConfigMap', groups: core, namespaced: true, schema: any },
  { kind: 'ReplicationController', groups: core, namespaced: true, schema: s.open({ replicas, selector: s.map(), template: podTemplate }, ['template']) },
  { kind: 'Deployment', groups: apps, namespaced: true, schema: workloadSpec({ strategy: any, minReadySeconds: s.int(0), revisionHistoryLimit: s.int(0) }) },
  { kind: 'ReplicaSet', groups: apps, namespaced: true, schema: workloadSpec() },
  { kind: 'StatefulSet', groups: apps, namespaced: true, schema: workloadSpec({ serviceName: s.str() }) },
  { kind: 'DaemonSet', groups: apps, namespaced: true, schema: workloadSpec({}, ['selector', 'template']) },
  { kind: 'Job', groups: batch, namespaced: true, schema: s.open({ parallelism: s.int(0), completions: s.int(0), selector: labelSelector, template: podTemplate }, ['template']) },
  { kind: 'CronJob', groups: batch, namespaced: true, schema: s.open({ schedule: s.str(), jobTemplate: s.open({ spec: s.open({ parallelism: s.int(0), template: podTemplate }, ['template']) }, ['spec']) }, ['schedule', 'jobTemplate']) },
  { kind: 'Ingress', groups: net, namespaced: true, schema: ingressSpec },
  { kind: 'IngressClass', groups: net, namespaced: false, schema: s.obj({ controller: s.str(), parameters: any }) },
  { kind: 'NetworkPolicy', groups: net, namespaced: true, schema: networkPolicySpec },
  {
    kind: 'EndpointSlice',
    groups: ['discovery.k8s.io/v1'],
    namespaced: true,
    schema: any,
  },
  { kind: 'IPAddressPool', groups: metallb, namespaced: true, schema: s.open({ addresses: s.arr(s.str()), autoAssign: s.bool(), avoidBuggyIPs: s.bool(), serviceAllocation: any }, ['addresses']) },
  { kind: 'L2Advertisement', groups: metallb, namespaced: true, schema: s.open({ ipAddressPools: s.arr(s.str()), ipAddressPoolSelectors: s.arr(labelSelector), nodeSelectors: s.arr(labelSelector), interfaces: s.arr(s.str()) }) },
  { kind: 'BGPAdvertisement', groups: metallb, namespaced: true, schema: s.open({ aggregationLength: s.int(0, 32), aggregationLengthV6: s.int(0, 128), localPref: s.int(0), communities: s.arr(s.str()), ipAddressPools: s.arr(s.str()), nodeSelectors: s.arr(labelSelector), peers: s.arr(s.str()) }) },
  { kind: 'BGPPeer', groups: metallb, namespaced: true, schema: s.open({ myASN: s.int(0, 4294967295), peerASN: s.int(0, 4294967295), peerAddress: s.str(), peerPort: s.int(1, 65535), nodeSelectors: s.arr(labelSelector) }) },
  { kind: 'Community', groups: metallb, namespaced: true, schema: any },
  { kind: 'Issuer', groups: cm, namespaced: true, schema: any },
  { kind: 'ClusterIssuer', groups: cm, namespaced: false, schema: any },
  { kind: 'Certificate', groups: cm, namespaced: true, schema: s.open({ secretName: s.str(), dnsNames: s.arr(s.str()), ipAddresses: s.arr(s.str()), commonName: s.str(), duration: s.str(), renewBefore: s.str(), isCA: s.bool(), issuerRef: s.open({ name: s.str(), kind: s.str(), group: s.str() }, ['name']) }, ['secretName', 'issuerRef']) },
  {
    kind: 'Cluster',
    groups: ['kwire.dev/v1alpha1'],
    namespaced: false,
    schema: s.obj({
      profile: s.str(PROFILE_NAMES),
      nodes: any,
      podCIDR: s.str(),
      serviceCIDR: s.str(),
      nodePortRange: s.str(),
      cni: s.obj({ mode: s.str(CNI_MODES), networkPolicy: s.str(POLICY_ENFORCEMENT), name: s.str() }),
      ingressControllers: s.arr(s.obj({ name: s.str(), flavour: s.str(INGRESS_FLAVOURS), className: s.str(), controller: s.str(), default: s.bool(), serviceType: s.str(CONTROLLER_SERVICE_TYPES) })),
      loadBalancer: s.obj({ mode: s.str(LOAD_BALANCER_MODES), pool: s.str() }),
    }),
  },
];

/** Kinds by name. */
export const KINDS: ReadonlyMap<string, KindInfo> = new Map(table.map((k) => [k.kind, k]));

/** Field that holds the body of a kind (`spec` for most; `data` etc. are not checked). */
export function bodyField(kind: string): string | undefined {
  switch (kind) {
    case 'Namespace':
    case 'ServiceAccount':
    case 'Secret':
    case 'ConfigMap':
    case 'Endpoints':
    case 'EndpointSlice':
      return undefined;
    default:
      return 'spec';
  }
}

/** Structural schema of EndpointSlice and Endpoints bodies (top-level fields, not `spec`). */
export const topLevelSchemas: Readonly<Record<string, Schema>> = {
  EndpointSlice: s.open(
    {
      addressType: s.str(['IPv4', 'IPv6', 'FQDN']),
      endpoints: s.arr(
        s.open(
          {
            addresses: s.arr(s.str()),
            conditions: s.obj({ ready: s.bool(), serving: s.bool(), terminating: s.bool() }),
            nodeName: s.str(),
            targetRef: any,
          },
          ['addresses'],
        ),
      ),
      ports: s.arr(endpointPort),
    },
    ['addressType'],
  ),
  Endpoints: s.open({
    subsets: s.arr(
      s.open({
        addresses: s.arr(s.open({ ip: s.str(), nodeName: s.str(), targetRef: any }, ['ip'])),
        notReadyAddresses: s.arr(s.open({ ip: s.str(), nodeName: s.str(), targetRef: any }, ['ip'])),
        ports: s.arr(endpointPort),
      }),
    ),
  }),
};
