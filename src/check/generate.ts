/**
 * Random clusters for the differential suite, as the manifests a user would `kubectl apply`: a
 * kwire `Cluster` object (profile, 2–3 nodes, CNI mode, policy enforcement), labelled namespaces,
 * Deployments with TCP and UDP ports, Services of every type and traffic policy, MetalLB L2 and BGP
 * pools, Ingresses with TLS (cert-manager SelfSigned or a missing Secret) and NetworkPolicies with
 * ingress and egress rules. Same seed and index, same manifests.
 */
import type { CniMode, PolicyEnforcement, ProfileName } from '../api/cluster.js';
import { createRandom, mixSeed, type Random } from './random.js';

/** One Kubernetes (or kwire) object as written in a manifest. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Readonly<Record<string, string>>; readonly annotations?: Readonly<Record<string, string>> };
  readonly [field: string]: unknown;
}

/** A generated cluster: its manifests and a one-line summary. */
export interface GeneratedCluster {
  readonly seed: number;
  readonly index: number;
  readonly profile: ProfileName;
  readonly summary: string;
  readonly manifests: readonly Manifest[];
}

/** Options of the generator. */
export interface GenerateOptions {
  /** The Cluster object's name, which names the Linux plane's namespaces. @default 'diff' */
  readonly clusterName?: string;
}

/** A client outside the cluster other than the default one (203.0.113.100), for ipBlock rules. */
export const OTHER_EXTERNAL_CLIENT = '192.0.2.50';

/** The outside world's BGP router (MetalLB's BGPPeer address). */
export const ROUTER_ADDRESS = '172.18.255.254';

interface PortDecl {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol: 'TCP' | 'UDP';
}

interface Workload {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ports: readonly PortDecl[];
}

interface Svc {
  readonly name: string;
  readonly namespace: string;
  readonly ports: readonly { readonly name: string; readonly port: number; readonly protocol: 'TCP' | 'UDP' }[];
  readonly headless: boolean;
}

const NAMESPACE_NAMES = ['default', 'shop', 'data', 'ops', 'team-b'] as const;
const WORKLOAD_NAMES = ['web', 'api', 'db', 'cache', 'worker', 'front', 'auth'] as const;
const HOST_WORDS = ['shop', 'blog', 'api', 'app', 'docs', 'store', 'admin', 'status'] as const;
const TCP_PORTS = [8080, 80, 9000, 5000, 8443] as const;
const UDP_PORTS = [5353, 9999, 7000] as const;

function meta(name: string, namespace?: string, labels?: Record<string, string>, annotations?: Record<string, string>): Manifest['metadata'] {
  return { name, ...(namespace ? { namespace } : {}), ...(labels && Object.keys(labels).length > 0 ? { labels } : {}), ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}) };
}

function clusterObject(r: Random, name: string, profile: ProfileName): { manifest: Manifest; cni: CniMode; policy: PolicyEnforcement; nodeNames: string[] } {
  const count = r.int(2, 3);
  const cni = r.weighted<CniMode>([['routed', 4], ['vxlan', 3], ['bridge', 2]]);
  const policy: PolicyEnforcement = r.chance(0.8) ? 'enforced' : 'ignored';
  let nodes: number | Record<string, unknown>[];
  let nodeNames: string[];
  if (r.chance(0.5)) {
    nodes = count;
    nodeNames = Array.from({ length: count }, (_, i) => `node-${String(i + 1)}`);
  } else {
    nodeNames = ['control-plane', 'worker-1', 'worker-2'].slice(0, count);
    const controlPlane = r.chance(0.6);
    nodes = nodeNames.map((n, i) => ({ name: n, ...(i === 0 && controlPlane ? { controlPlane: true } : {}), zone: i % 2 === 0 ? 'zone-a' : 'zone-b' }));
  }
  const manifest: Manifest = { apiVersion: 'kwire.dev/v1alpha1', kind: 'Cluster', metadata: meta(name), spec: { profile, nodes, cni: { mode: cni, networkPolicy: policy } } };
  return { manifest, cni, policy, nodeNames };
}

function workloadsOf(r: Random, namespaces: readonly string[]): Workload[] {
  const total = r.int(2, 4);
  const names = r.sample(WORKLOAD_NAMES, total);
  return names.map((name, i) => {
    const namespace = i < namespaces.length ? (namespaces[i] ?? 'default') : r.pick(namespaces);
    const tcp = r.sample(TCP_PORTS, r.int(1, 2)).map((p, k): PortDecl => ({ ...(r.chance(0.5) ? { name: k === 0 ? 'http' : 'metrics' } : {}), containerPort: p, protocol: 'TCP' }));
    const udp = r.chance(0.35) ? [{ ...(r.chance(0.5) ? { name: 'udp' } : {}), containerPort: r.pick(UDP_PORTS), protocol: 'UDP' as const }] : [];
    return { name, namespace, labels: { app: name, tier: r.pick(['frontend', 'backend']) }, ports: [...tcp, ...udp] };
  });
}

function deployment(r: Random, w: Workload): Manifest {
  const replicas = r.weighted([[1, 4], [2, 4], [3, 1]]);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(w.name, w.namespace, { app: w.name }),
    spec: {
      replicas,
      selector: { matchLabels: { app: w.name } },
      template: { metadata: { labels: { ...w.labels } }, spec: { containers: [{ name: 'main', image: 'kwire/echo', ports: w.ports.map((p) => ({ ...p })) }] } },
    },
  };
}

/** The Services of one workload, and the manifests. */
function servicesOf(r: Random, w: Workload, lb: { readonly loadBalancer: boolean; readonly bgpPool?: string }): { svcs: Svc[]; manifests: Manifest[] } {
  const svcs: Svc[] = [];
  const manifests: Manifest[] = [];
  const count = r.int(1, 2);
  for (let i = 0; i < count; i++) {
    const kind = r.weighted<'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'headless'>([['ClusterIP', 4], ['NodePort', 3], ['LoadBalancer', lb.loadBalancer ? 4 : 1], ['headless', 1]]);
    const name = i === 0 ? w.name : `${w.name}-${kind === 'headless' ? 'hl' : kind.toLowerCase()}`;
    if (svcs.some((s) => s.name === name)) continue;
    const ports = w.ports
      .filter((p, k) => k === 0 || r.chance(0.6))
      .map((p, k) => {
        const port = p.protocol === 'UDP' ? p.containerPort : k === 0 ? r.pick([80, 8000, p.containerPort]) : p.containerPort;
        const targetPort = p.name && r.chance(0.5) ? p.name : p.containerPort;
        return { name: p.protocol === 'UDP' ? 'udp' : k === 0 ? 'http' : `tcp-${String(p.containerPort)}`, protocol: p.protocol, port, targetPort };
      });
    const unique = ports.filter((p, k) => ports.findIndex((q) => q.port === p.port && q.protocol === p.protocol) === k);
    const spec: Record<string, unknown> = { selector: kind !== 'LoadBalancer' && r.chance(0.1) ? { app: 'nobody' } : { app: w.name }, ports: unique };
    const annotations: Record<string, string> = {};
    if (kind === 'headless') spec.clusterIP = 'None';
    else if (kind !== 'ClusterIP') spec.type = kind;
    if (kind === 'NodePort' || kind === 'LoadBalancer') spec.externalTrafficPolicy = r.chance(0.4) ? 'Local' : 'Cluster';
    if (kind !== 'headless' && r.chance(0.2)) spec.sessionAffinity = 'ClientIP';
    if (kind !== 'headless' && r.chance(0.15)) spec.internalTrafficPolicy = 'Local';
    if (kind === 'LoadBalancer' && lb.bgpPool && r.chance(0.6)) annotations['metallb.io/address-pool'] = lb.bgpPool;
    manifests.push({ apiVersion: 'v1', kind: 'Service', metadata: meta(name, w.namespace, { app: w.name }, annotations), spec });
    svcs.push({ name, namespace: w.namespace, ports: unique.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })), headless: kind === 'headless' });
  }
  return { svcs, manifests };
}

function metallbObjects(r: Random, bgp: boolean): { manifests: Manifest[]; bgpPool?: string } {
  const ns = 'metallb-system';
  const out: Manifest[] = [
    { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: meta('l2-pool', ns), spec: { addresses: [r.pick(['198.51.100.10-198.51.100.40', '198.51.100.0/26'])] } },
    { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: meta('l2', ns), spec: { ipAddressPools: ['l2-pool'] } },
  ];
  if (!bgp) return { manifests: out };
  const advertisement: Record<string, unknown> = { ipAddressPools: ['bgp-pool'], communities: [r.pick(['64512:100', '64512:200', '65000:1'])] };
  if (r.chance(0.3)) advertisement.aggregationLength = 32;
  out.push(
    { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: meta('bgp-pool', ns), spec: { addresses: ['198.51.100.128/27'], autoAssign: false } },
    { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: meta('router', ns), spec: { myASN: 64513, peerASN: 64512, peerAddress: ROUTER_ADDRESS, holdTime: '9s' } },
    { apiVersion: 'metallb.io/v1beta1', kind: 'BGPAdvertisement', metadata: meta('bgp', ns), spec: advertisement },
  );
  return { manifests: out, bgpPool: 'bgp-pool' };
}

/** The ingress controller a profile has: its class, namespace and pod label. */
function controllerOf(profile: ProfileName, cloudNginx: boolean): { className: string; namespace: string; app: string } | undefined {
  if (profile === 'k3s') return { className: 'traefik', namespace: 'kube-system', app: 'traefik' };
  if (profile === 'cloud' && !cloudNginx) return undefined;
  return { className: 'nginx', namespace: 'ingress-nginx', app: 'ingress-nginx' };
}

function ingressesOf(r: Random, svcs: readonly Svc[], className: string): Manifest[] {
  const backends = svcs.filter((s) => s.ports.some((p) => p.protocol === 'TCP'));
  if (backends.length === 0) return [];
  const out: Manifest[] = [];
  const issuers = new Set<string>();
  const hosts = r.sample(HOST_WORDS, 3);
  const count = r.int(1, 2);
  for (let i = 0; i < count; i++) {
    const first = r.pick(backends);
    const namespace = first.namespace;
    const local = backends.filter((s) => s.namespace === namespace);
    const host = hosts[i] ?? 'site';
    const name = `${host}-ing`;
    const ruleHosts = r.chance(0.15) ? [`*.${host}.example.com`] : [`${host}.example.com`];
    const rules = ruleHosts.map((h) => ({
      host: h,
      http: {
        paths: r.sample(
          [
            { path: '/', pathType: 'Prefix' },
            { path: '/api', pathType: 'Prefix' },
            { path: '/exact', pathType: 'Exact' },
            { path: '/shop', pathType: 'Prefix' },
          ],
          r.int(1, 2),
        ).map((p) => {
          const svc = r.pick(local);
          const port = svc.ports.find((x) => x.protocol === 'TCP') ?? { name: 'http', port: 80 };
          return { ...p, backend: { service: { name: svc.name, port: r.chance(0.3) ? { name: port.name } : { number: port.port } } } };
        }),
      },
    }));
    const spec: Record<string, unknown> = { ...(r.chance(0.7) ? { ingressClassName: className } : {}), rules };
    const annotations: Record<string, string> = {};
    if (r.chance(0.5)) {
      spec.tls = [{ hosts: ruleHosts, secretName: `${host}-tls` }];
      if (r.chance(0.6)) {
        annotations['cert-manager.io/issuer'] = 'selfsigned';
        if (!issuers.has(namespace)) {
          issuers.add(namespace);
          out.push({ apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: meta('selfsigned', namespace), spec: { selfSigned: {} } });
        }
      }
    }
    out.push({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: meta(name, namespace, undefined, annotations), spec });
  }
  return out;
}

type Peer = Record<string, unknown>;

function policyPorts(r: Random, w: Workload): Record<string, unknown>[] | undefined {
  if (r.chance(0.4)) return undefined;
  return r.sample(w.ports, r.int(1, w.ports.length)).map((p) => ({ protocol: p.protocol, port: p.name && r.chance(0.4) ? p.name : p.containerPort }));
}

function peerOf(r: Random, workloads: readonly Workload[], namespaces: readonly { name: string; labels: Record<string, string> }[], controller: { namespace: string; app: string } | undefined): Peer {
  const kind = r.weighted<'pod' | 'namespace' | 'both' | 'ipBlock' | 'controller'>([['pod', 4], ['namespace', 2], ['both', 2], ['ipBlock', 3], ['controller', controller ? 2 : 0]]);
  const w = r.pick(workloads);
  const ns = r.pick(namespaces);
  switch (kind) {
    case 'pod':
      return { podSelector: { matchLabels: r.chance(0.7) ? { app: w.name } : { tier: w.labels.tier ?? 'frontend' } } };
    case 'namespace':
      return { namespaceSelector: r.chance(0.5) ? { matchLabels: { team: ns.labels.team ?? 'a' } } : { matchLabels: { 'kubernetes.io/metadata.name': ns.name } } };
    case 'both':
      return { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': w.namespace } }, podSelector: { matchLabels: { app: w.name } } };
    case 'ipBlock':
      return {
        ipBlock: r.pick([
          { cidr: '203.0.113.0/24' },
          { cidr: '0.0.0.0/0', except: ['203.0.113.100/32'] },
          { cidr: '192.0.2.0/24', except: [`${OTHER_EXTERNAL_CLIENT}/32`] },
          { cidr: '172.18.0.0/16' },
          { cidr: '10.244.0.0/16' },
          { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] },
        ]),
      };
    case 'controller':
      return { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': controller?.namespace ?? 'ingress-nginx' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': controller?.app ?? 'ingress-nginx' } } };
  }
}

function policiesOf(r: Random, workloads: readonly Workload[], namespaces: readonly { name: string; labels: Record<string, string> }[], controller: { namespace: string; app: string } | undefined): Manifest[] {
  const out: Manifest[] = [];
  const count = r.int(1, 4);
  for (let i = 0; i < count; i++) {
    const w = r.pick(workloads);
    const kind = r.weighted<'deny' | 'ingress' | 'egress' | 'both'>([['deny', 2], ['ingress', 4], ['egress', 3], ['both', 1]]);
    const name = `np-${String(i)}-${kind}`;
    const selectAll = r.chance(0.25);
    const podSelector = selectAll ? {} : { matchLabels: { app: w.name } };
    if (kind === 'deny') {
      const types = r.pick([['Ingress'], ['Egress'], ['Ingress', 'Egress']]);
      out.push({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta(name, w.namespace), spec: { podSelector, policyTypes: types } });
      continue;
    }
    const spec: Record<string, unknown> = { podSelector };
    const types: string[] = [];
    if (kind === 'ingress' || kind === 'both') {
      types.push('Ingress');
      spec.ingress = Array.from({ length: r.int(1, 2) }, () => {
        const ports = policyPorts(r, w);
        return { from: Array.from({ length: r.int(1, 2) }, () => peerOf(r, workloads, namespaces, controller)), ...(ports ? { ports } : {}) };
      });
    }
    if (kind === 'egress' || kind === 'both') {
      types.push('Egress');
      const target = r.pick(workloads);
      const rules: Record<string, unknown>[] = [];
      const ports = policyPorts(r, target);
      rules.push({ to: [r.chance(0.3) ? peerOf(r, workloads, namespaces, controller) : { podSelector: { matchLabels: { app: target.name } }, ...(target.namespace !== w.namespace ? { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': target.namespace } } } : {}) }], ...(ports ? { ports } : {}) });
      if (r.chance(0.3)) rules.push({ to: [{ ipBlock: r.pick([{ cidr: '172.18.0.0/16' }, { cidr: '198.51.100.0/24' }, { cidr: '0.0.0.0/0', except: ['10.96.0.0/12'] }]) }] });
      if (r.chance(0.65)) {
        rules.push({
          to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
        });
      }
      spec.egress = rules;
    }
    spec.policyTypes = types;
    out.push({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta(name, w.namespace), spec });
  }
  return out;
}

/** The manifests of cluster `index` of run `seed`. */
export function generateCluster(seed: number, index: number, opts: GenerateOptions = {}): GeneratedCluster {
  const r = createRandom(mixSeed('kwire-differential', seed, index));
  const profile = r.weighted<ProfileName>([['kwire', 4], ['cloud', 2], ['k3s', 2], ['minikube', 2]]);
  const cluster = clusterObject(r, opts.clusterName ?? 'diff', profile);
  const nsNames = r.chance(0.6) ? ['default', ...r.sample(NAMESPACE_NAMES.slice(1), r.int(0, 2))] : r.sample(NAMESPACE_NAMES.slice(1), r.int(1, 3));
  const namespaces = nsNames.map((name) => ({ name, labels: { team: r.pick(['a', 'b']), env: r.pick(['prod', 'dev']) } }));
  const manifests: Manifest[] = [cluster.manifest, ...namespaces.map((n) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: meta(n.name, undefined, n.labels) }))];
  const metallb = profile === 'kwire' ? r.chance(0.75) : profile === 'cloud' ? r.chance(0.3) : false;
  const bgp = metallb && r.chance(0.6);
  const lbObjects = metallb ? metallbObjects(r, bgp) : { manifests: [] };
  manifests.push(...lbObjects.manifests);
  const workloads = workloadsOf(r, nsNames);
  const svcs: Svc[] = [];
  for (const w of workloads) {
    manifests.push(deployment(r, w));
    const s = servicesOf(r, w, { loadBalancer: profile !== 'minikube', ...(lbObjects.bgpPool ? { bgpPool: lbObjects.bgpPool } : {}) });
    svcs.push(...s.svcs);
    manifests.push(...s.manifests);
  }
  const cloudNginx = profile === 'cloud' && r.chance(0.5);
  if (cloudNginx) manifests.push({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: meta('nginx'), spec: { controller: 'k8s.io/ingress-nginx' } });
  const controller = controllerOf(profile, cloudNginx);
  const ingresses = controller && r.chance(0.8) ? ingressesOf(r, svcs, controller.className) : [];
  manifests.push(...ingresses);
  const policies = r.chance(0.75) ? policiesOf(r, workloads, namespaces, controller) : [];
  manifests.push(...policies);
  const count = (kind: string): number => manifests.filter((m) => m.kind === kind).length;
  const summary = [
    `${profile} ${cluster.cni}/${cluster.policy} ${String(cluster.nodeNames.length)} nodes`,
    `${String(namespaces.length)} ns, ${String(count('Deployment'))} deploys, ${String(count('Service'))} svcs, ${String(count('Ingress'))} ing, ${String(count('NetworkPolicy'))} netpols`,
    ...(metallb ? [bgp ? 'MetalLB L2+BGP' : 'MetalLB L2'] : []),
  ].join(', ');
  return { seed, index, profile, summary, manifests };
}
