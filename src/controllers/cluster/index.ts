/**
 * The cluster itself: the `Cluster` object and `--profile` (DESIGN.md's table) resolved into one
 * ClusterConfig, and the add-on objects (ingress controllers, kube-dns, the default MetalLB pool)
 * that the profile installs, written as ordinary manifests so every controller treats them alike.
 */
import { PROFILE_NAMES } from '../../api/cluster.js';
import type { Problem } from '../../api/problems.js';
import type { KubeObject, SourcePos, StringMap } from '../../api/types.js';
import type {
  ClusterConfig,
  CniMode,
  IngressControllerConfig,
  IngressFlavour,
  LoadBalancerMode,
  NodeConfig,
  NodeState,
  ProfileName,
} from '../../model/types.js';

/** Profiles kwire knows. */

/** Annotation kwire puts on objects it adds itself. */
export const ADDON_ANNOTATION = 'kwire.dev/addon';

const NGINX: IngressControllerConfig = {
  name: 'ingress-nginx',
  flavour: 'nginx',
  className: 'nginx',
  controller: 'k8s.io/ingress-nginx',
  defaultClass: true,
  serviceType: 'LoadBalancer',
  hostPort: false,
};

const TRAEFIK: IngressControllerConfig = {
  name: 'traefik',
  flavour: 'traefik',
  className: 'traefik',
  controller: 'traefik.io/ingress-controller',
  defaultClass: true,
  serviceType: 'LoadBalancer',
  hostPort: false,
};

/** Flavour implied by an IngressClass's `spec.controller`. */
export function flavourOf(controller: string): IngressFlavour | undefined {
  if (controller === 'k8s.io/ingress-nginx') return 'nginx';
  if (controller === 'traefik.io/ingress-controller') return 'traefik';
  return undefined;
}

function node(name: string, controlPlane: boolean, zone?: string): NodeConfig {
  const labels: Record<string, string> = { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' };
  if (controlPlane) labels['node-role.kubernetes.io/control-plane'] = '';
  if (zone) labels['topology.kubernetes.io/zone'] = zone;
  return { name, labels, zone, controlPlane };
}

/** The ClusterConfig of a profile before the Cluster object's overrides. */
export function profileConfig(profile: ProfileName): ClusterConfig {
  const base = {
    name: 'kwire',
    profile,
    podCIDR: '10.244.0.0/16',
    nodeCIDRMaskSize: 24,
    serviceCIDR: '10.96.0.0/12',
    nodePortRange: [30000, 32767] as const,
    nodeCIDR: '172.18.0.0/16',
    clusterDomain: 'cluster.local',
  };
  switch (profile) {
    case 'kwire':
      return {
        ...base,
        nodes: [node('control-plane', true, 'zone-a'), node('worker-1', false, 'zone-a'), node('worker-2', false, 'zone-b')],
        cni: { mode: 'routed', networkPolicy: 'enforced', name: 'kwire-routed' },
        ingressControllers: [NGINX],
        loadBalancer: { mode: 'metallb', pool: '198.51.100.0/24' },
      };
    case 'minikube':
      return {
        ...base,
        name: 'minikube',
        nodes: [node('minikube', false)],
        cni: { mode: 'bridge', networkPolicy: 'ignored', name: 'bridge' },
        ingressControllers: [{ ...NGINX, serviceType: 'NodePort', hostPort: true }],
        loadBalancer: { mode: 'none' },
      };
    case 'k3s':
      return {
        ...base,
        name: 'k3s',
        podCIDR: '10.42.0.0/16',
        serviceCIDR: '10.43.0.0/16',
        nodes: [node('k3s-server', false)],
        cni: { mode: 'vxlan', networkPolicy: 'enforced', name: 'flannel' },
        ingressControllers: [TRAEFIK],
        loadBalancer: { mode: 'servicelb' },
      };
    case 'cloud':
      return {
        ...base,
        name: 'cloud',
        nodes: [node('node-a', false, 'zone-a'), node('node-b', false, 'zone-b'), node('node-c', false, 'zone-c')],
        cni: { mode: 'routed', networkPolicy: 'enforced', name: 'kwire-routed' },
        ingressControllers: [],
        loadBalancer: { mode: 'cloud', pool: '203.0.113.0/24' },
      };
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function labelsOf(v: unknown): StringMap {
  if (typeof v !== 'object' || v === null) return {};
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) if (typeof val === 'string') out[k] = val;
  return out;
}

/** Inputs of cluster resolution. */
export interface ClusterInput {
  readonly objects: readonly KubeObject[];
  /** `--profile`, which wins over the Cluster object's `spec.profile`. */
  readonly profile?: ProfileName;
  /** `--ingress-flavour`: the default controller's flavour for one command. */
  readonly ingressFlavour?: IngressFlavour;
  readonly now?: string;
  readonly sourceOf: (o: KubeObject) => SourcePos | undefined;
}

/** Resolves the cluster from the profile, the Cluster object and the add-on objects present. */
export function resolveCluster(input: ClusterInput): { config: ClusterConfig; problems: Problem[] } {
  const problems: Problem[] = [];
  const clusters = input.objects.filter((o) => o.kind === 'Cluster');
  const clusterObj = clusters[0];
  for (const extra of clusters.slice(1)) {
    problems.push({
      code: 'KW-CLU001',
      severity: 'error',
      message: 'more than one Cluster object; kwire models one cluster per run',
      object: { kind: 'Cluster', name: extra.metadata.name },
      source: input.sourceOf(extra),
      hint: 'keep one Cluster object in the inputs',
    });
  }
  const spec = (clusterObj?.spec ?? {}) as Record<string, unknown>;
  const fromObj = str(spec.profile);
  let profile: ProfileName = input.profile ?? 'kwire';
  if (!input.profile && fromObj) {
    if ((PROFILE_NAMES as readonly string[]).includes(fromObj)) profile = fromObj as ProfileName;
    else {
      problems.push({
        code: 'KW-CLU002',
        severity: 'error',
        message: `Unsupported value: "${fromObj}"`,
        path: 'spec.profile',
        object: clusterObj ? { kind: 'Cluster', name: clusterObj.metadata.name } : undefined,
        source: clusterObj ? input.sourceOf(clusterObj) : undefined,
        hint: `supported values: ${PROFILE_NAMES.join(', ')}`,
      });
    }
  }
  let config = profileConfig(profile);
  if (clusterObj) {
    const nodes = Array.isArray(spec.nodes)
      ? (spec.nodes as unknown[]).flatMap((n): NodeConfig[] => {
          if (typeof n !== 'object' || n === null) return [];
          const r = n as Record<string, unknown>;
          const name = str(r.name);
          if (!name) return [];
          const base = node(name, r.controlPlane === true || r.role === 'control-plane', str(r.zone));
          return [{ ...base, labels: { ...base.labels, ...labelsOf(r.labels) }, ip: str(r.ip), podCIDR: str(r.podCIDR), ...(r.ready === false ? { ready: false } : {}) }];
        })
      : typeof spec.nodes === 'number'
        ? Array.from({ length: spec.nodes }, (_, i) => node(`node-${i + 1}`, false))
        : config.nodes;
    const cni = (spec.cni ?? {}) as Record<string, unknown>;
    const range = str(spec.nodePortRange)?.split('-').map(Number);
    const lb = (spec.loadBalancer ?? {}) as Record<string, unknown>;
    config = {
      ...config,
      name: clusterObj.metadata.name || config.name,
      nodes: nodes.length ? nodes : config.nodes,
      podCIDR: str(spec.podCIDR) ?? config.podCIDR,
      serviceCIDR: str(spec.serviceCIDR) ?? config.serviceCIDR,
      nodePortRange: range && range.length === 2 && range.every(Number.isInteger) ? [range[0] ?? 30000, range[1] ?? 32767] : config.nodePortRange,
      cni: {
        mode: (str(cni.mode) as CniMode | undefined) ?? config.cni.mode,
        networkPolicy: cni.networkPolicy === 'ignored' ? 'ignored' : cni.networkPolicy === 'enforced' ? 'enforced' : config.cni.networkPolicy,
        name: str(cni.name) ?? (str(cni.mode) === 'vxlan' ? 'flannel' : config.cni.name),
      },
      loadBalancer: { mode: (str(lb.mode) as LoadBalancerMode | undefined) ?? config.loadBalancer.mode, pool: str(lb.pool) ?? config.loadBalancer.pool },
      ingressControllers: Array.isArray(spec.ingressControllers)
        ? (spec.ingressControllers as Record<string, unknown>[]).map((c) => {
            const flavour = (str(c.flavour) as IngressFlavour | undefined) ?? 'nginx';
            const proto = flavour === 'traefik' ? TRAEFIK : NGINX;
            return {
              ...proto,
              name: str(c.name) ?? proto.name,
              flavour,
              className: str(c.className) ?? proto.className,
              controller: str(c.controller) ?? proto.controller,
              defaultClass: c.default === true,
              serviceType: c.serviceType === 'NodePort' ? 'NodePort' : proto.serviceType,
            };
          })
        : config.ingressControllers,
    };
  }
  const controllers = [...config.ingressControllers];
  for (const ic of input.objects.filter((o) => o.kind === 'IngressClass')) {
    const ctrl = str((ic.spec as Record<string, unknown> | undefined)?.controller) ?? '';
    if (controllers.some((c) => c.controller === ctrl && c.className === ic.metadata.name)) continue;
    const owner = controllers.find((c) => c.controller === ctrl);
    const flavour = flavourOf(ctrl);
    if (owner && owner.className !== ic.metadata.name) continue;
    if (!owner && flavour) {
      const proto = flavour === 'traefik' ? TRAEFIK : NGINX;
      controllers.push({ ...proto, name: `${proto.name}-${ic.metadata.name}`.replace(/-(nginx|traefik)$/, ''), className: ic.metadata.name, defaultClass: false, serviceType: config.loadBalancer.mode === 'none' ? 'NodePort' : 'LoadBalancer' });
    }
  }
  if (input.ingressFlavour && controllers[0]) controllers[0] = { ...controllers[0], flavour: input.ingressFlavour };
  const hasMetalLB = input.objects.some((o) => o.apiVersion.startsWith('metallb.io/'));
  const lbMode: LoadBalancerMode = hasMetalLB ? 'metallb' : config.loadBalancer.mode;
  config = { ...config, ingressControllers: controllers, loadBalancer: { ...config.loadBalancer, mode: lbMode }, now: input.now };
  return { config, problems };
}

function addonMeta(name: string, namespace: string, labels: StringMap): KubeObject['metadata'] {
  return { name, namespace, labels, annotations: { [ADDON_ANNOTATION]: 'true' } };
}

/** The port the API server listens on, on every control-plane node. */
export const APISERVER_PORT = 6443;

/**
 * The `default/kubernetes` Service every cluster has (the first address of the service CIDR,
 * https 443 → the API server on each control-plane node, or the first node when none is marked)
 * and its EndpointSlice, unless the inputs already have them.
 */
function apiserverObjects(config: ClusterConfig, existing: readonly KubeObject[], nodes: readonly NodeState[]): KubeObject[] {
  if (existing.some((o) => o.kind === 'Service' && (o.metadata.namespace || 'default') === 'default' && o.metadata.name === 'kubernetes')) return [];
  const servers = nodes.some((n) => n.controlPlane) ? nodes.filter((n) => n.controlPlane) : nodes.slice(0, 1);
  const labels = { component: 'apiserver', provider: 'kubernetes' };
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: addonMeta('kubernetes', 'default', labels),
    spec: { clusterIP: firstServiceIP(config.serviceCIDR), ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: APISERVER_PORT }] },
  };
  const slice: KubeObject = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: addonMeta('kubernetes', 'default', { 'kubernetes.io/service-name': 'kubernetes', 'endpointslice.kubernetes.io/managed-by': 'kube-apiserver' }),
    addressType: 'IPv4',
    ports: [{ name: 'https', port: APISERVER_PORT, protocol: 'TCP' }],
    endpoints: servers.map((n) => ({ addresses: [n.ip], conditions: { ready: n.ready }, nodeName: n.name })),
  };
  return [service, slice];
}

/**
 * The inputs with the cluster's add-ons: the API server's Service first (its address is reserved
 * before any other), then the inputs, then namespaces, Deployments, Services and IngressClasses of
 * DNS, the ingress controllers and MetalLB's default pool.
 */
export function addonObjects(config: ClusterConfig, existing: readonly KubeObject[], nodes: readonly NodeState[]): KubeObject[] {
  return [...apiserverObjects(config, existing, nodes), ...existing, ...profileAddons(config, existing)];
}

function profileAddons(config: ClusterConfig, existing: readonly KubeObject[]): KubeObject[] {
  const out: KubeObject[] = [];
  const has = (kind: string, ns: string, name: string): boolean =>
    existing.some((o) => o.kind === kind && o.metadata.namespace === ns && o.metadata.name === name);
  const ns = (name: string): void => {
    if (!has('Namespace', '', name) && !out.some((o) => o.kind === 'Namespace' && o.metadata.name === name)) {
      out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: addonMeta(name, '', {}) });
    }
  };
  const dnsLabels = { 'k8s-app': 'kube-dns' };
  ns('kube-system');
  out.push(
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: addonMeta('coredns', 'kube-system', dnsLabels),
      spec: {
        replicas: 2,
        selector: { matchLabels: dnsLabels },
        template: {
          metadata: { labels: dnsLabels },
          spec: {
            containers: [
              {
                name: 'coredns',
                image: 'kwire/dns',
                ports: [
                  { name: 'dns', containerPort: 53, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                  { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
                ],
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: addonMeta('kube-dns', 'kube-system', { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS' }),
      spec: {
        selector: dnsLabels,
        clusterIP: dnsClusterIP(config.serviceCIDR),
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
        ],
      },
    },
  );
  for (const c of config.ingressControllers) {
    const namespace = c.flavour === 'traefik' && config.profile === 'k3s' ? 'kube-system' : c.name;
    ns(namespace);
    const appName = c.flavour === 'traefik' ? 'traefik' : 'ingress-nginx';
    const labels = { 'app.kubernetes.io/name': appName, 'app.kubernetes.io/instance': c.name, 'app.kubernetes.io/component': 'controller' };
    const deployName = c.flavour === 'traefik' ? c.name : `${c.name}-controller`;
    out.push(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: addonMeta(deployName, namespace, labels),
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [
                {
                  name: 'controller',
                  image: c.flavour === 'traefik' ? 'traefik:v3' : 'registry.k8s.io/ingress-nginx/controller:v1.12',
                  ports: [
                    { name: 'http', containerPort: 80, ...(c.hostPort ? { hostPort: 80 } : {}) },
                    { name: 'https', containerPort: 443, ...(c.hostPort ? { hostPort: 443 } : {}) },
                  ],
                },
              ],
            },
          },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: addonMeta(deployName, namespace, labels),
        spec: {
          type: c.serviceType,
          selector: labels,
          ports: [
            { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
            { name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' },
          ],
        },
      },
    );
    if (!existing.some((o) => o.kind === 'IngressClass' && o.metadata.name === c.className)) {
      const annotations: Record<string, string> = { [ADDON_ANNOTATION]: 'true' };
      if (c.defaultClass) annotations['ingressclass.kubernetes.io/is-default-class'] = 'true';
      out.push({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'IngressClass',
        metadata: { name: c.className, namespace: '', labels: {}, annotations },
        spec: { controller: c.controller },
      });
    }
  }
  if (config.loadBalancer.mode === 'metallb' && config.loadBalancer.pool && !existing.some((o) => o.kind === 'IPAddressPool')) {
    ns('metallb-system');
    out.push(
      {
        apiVersion: 'metallb.io/v1beta1',
        kind: 'IPAddressPool',
        metadata: addonMeta('kwire-default', 'metallb-system', {}),
        spec: { addresses: [config.loadBalancer.pool] },
      },
      {
        apiVersion: 'metallb.io/v1beta1',
        kind: 'L2Advertisement',
        metadata: addonMeta('kwire-default', 'metallb-system', {}),
        spec: { ipAddressPools: ['kwire-default'] },
      },
    );
  }
  return out;
}

/** The API server's Service address: the first of the service CIDR (10.96.0.1). */
export function firstServiceIP(serviceCIDR: string): string {
  const [net] = serviceCIDR.split('/');
  const parts = (net ?? '10.96.0.0').split('.').map(Number);
  return `${parts[0] ?? 10}.${parts[1] ?? 96}.${parts[2] ?? 0}.${(parts[3] ?? 0) + 1}`;
}

/** The conventional kube-dns address: the tenth of the service CIDR (10.96.0.10). */
export function dnsClusterIP(serviceCIDR: string): string {
  const [net] = serviceCIDR.split('/');
  const parts = (net ?? '10.96.0.0').split('.').map(Number);
  return `${parts[0] ?? 10}.${parts[1] ?? 96}.${parts[2] ?? 0}.${(parts[3] ?? 0) + 10}`;
}
