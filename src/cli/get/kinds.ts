/**
 * The kinds `kwire get` shows: their names and aliases, table columns (normal and wide) and how
 * each item renders as a Kubernetes object.
 */
import { endpointSliceObject, ingressAddresses, ingressObject, nodeObject, podObject, serviceObject, type Json } from '../../model/objects.js';
import type { NetworkState } from '../../model/types.js';
import { poolUsage } from '../../controllers/metallb/index.js';
import { certificateRowCells, labAcmeNote, renderCertificateRow, toSecretObject } from '../../controllers/certmanager/index.js';

/** One item of a kind, ready to print. */
export interface Row {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly cells: readonly string[];
  readonly wide: readonly string[];
  readonly object: () => Json;
}

/** How `get` shows one kind. */
export interface KindView {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly namespaced: boolean;
  readonly headers: readonly string[];
  readonly wideHeaders: readonly string[];
  readonly rows: (state: NetworkState) => Row[];
}

function servicePorts(ports: NetworkState['services'][number]['ports']): string {
  if (ports.length === 0) return '<none>';
  return ports.map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p.port}/${p.protocol}`)).join(',');
}

function externalIP(s: NetworkState['services'][number]): string {
  if (s.type === 'ExternalName') return s.externalName ?? '<none>';
  const ips = [...s.loadBalancerIngress.map((i) => i.ip), ...s.externalIPs];
  if (ips.length) return ips.join(',');
  return s.type === 'LoadBalancer' ? '<pending>' : '<none>';
}

function selectorText(sel: Readonly<Record<string, string>> | undefined): string {
  if (!sel || Object.keys(sel).length === 0) return '<none>';
  return Object.entries(sel)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

const views: KindView[] = [
  {
    name: 'pods',
    aliases: ['pod', 'po'],
    namespaced: true,
    headers: ['NAME', 'READY', 'STATUS', 'IP', 'NODE'],
    wideHeaders: ['WORKLOAD', 'PORTS'],
    rows: (state) =>
      state.pods.map((p) => ({
        namespace: p.namespace,
        name: p.name,
        labels: p.labels,
        cells: [p.name, `${p.ready ? p.containers.length : 0}/${p.containers.length}`, p.terminating ? 'Terminating' : p.phase, p.ip || '<none>', p.node || '<none>'],
        wide: [`${p.workload.kind}/${p.workload.name}`, p.ports.map((x) => `${x.name ? `${x.name}:` : ''}${x.containerPort}/${x.protocol}`).join(',') || '<none>'],
        object: () => podObject(p, state),
      })),
  },
  {
    name: 'services',
    aliases: ['service', 'svc'],
    namespaced: true,
    headers: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)'],
    wideHeaders: ['SELECTOR'],
    rows: (state) =>
      state.services.map((s) => ({
        namespace: s.namespace,
        name: s.name,
        labels: s.labels,
        cells: [s.name, s.type, s.type === 'ExternalName' ? '<none>' : s.clusterIP, externalIP(s), servicePorts(s.ports)],
        wide: [selectorText(s.selector)],
        object: () => serviceObject(s),
      })),
  },
  {
    name: 'endpointslices',
    aliases: ['endpointslice'],
    namespaced: true,
    headers: ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS'],
    wideHeaders: ['SERVICE'],
    rows: (state) =>
      state.endpointSlices.map((e) => {
        const addrs = e.endpoints.flatMap((x) => x.addresses);
        const shown = addrs.slice(0, 3).join(',') + (addrs.length > 3 ? ` + ${addrs.length - 3} more...` : '');
        return {
          namespace: e.namespace,
          name: e.name,
          labels: { 'kubernetes.io/service-name': e.service },
          cells: [e.name, e.addressType, e.ports.map((p) => String(p.port)).join(',') || '<unset>', shown || '<unset>'],
          wide: [e.service],
          object: () => endpointSliceObject(e),
        };
      }),
  },
  {
    name: 'nodes',
    aliases: ['node', 'no'],
    namespaced: false,
    headers: ['NAME', 'STATUS', 'ROLES', 'INTERNAL-IP', 'POD-CIDR'],
    wideHeaders: ['ZONE'],
    rows: (state) =>
      state.nodes.map((n) => ({
        namespace: '',
        name: n.name,
        labels: n.labels,
        cells: [n.name, n.ready ? 'Ready' : 'NotReady', n.controlPlane ? 'control-plane' : '<none>', n.ip, n.podCIDR],
        wide: [n.labels['topology.kubernetes.io/zone'] ?? '<none>'],
        object: () => nodeObject(n),
      })),
  },
  {
    name: 'namespaces',
    aliases: ['namespace', 'ns'],
    namespaced: false,
    headers: ['NAME', 'STATUS'],
    wideHeaders: ['LABELS'],
    rows: (state) =>
      state.namespaces.map((n) => ({
        namespace: '',
        name: n.name,
        labels: n.labels,
        cells: [n.name, 'Active'],
        wide: [selectorText(n.labels)],
        object: () => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n.name, labels: { ...n.labels } }, status: { phase: 'Active' } }),
      })),
  },
  {
    name: 'ingresses',
    aliases: ['ingress', 'ing'],
    namespaced: true,
    headers: ['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS'],
    wideHeaders: ['CONTROLLER'],
    rows: (state) =>
      state.ingresses.map((i) => {
        const hosts = (i.spec.rules ?? []).map((r) => r.host ?? '*');
        return {
          namespace: i.namespace,
          name: i.name,
          labels: {},
          cells: [i.name, i.className ?? '<none>', hosts.join(',') || '*', ingressAddresses(i, state).join(','), i.spec.tls?.length ? '80, 443' : '80'],
          wide: [i.controller ?? '<none>'],
          object: () => ingressObject(i, state),
        };
      }),
  },
  {
    name: 'ingressclasses',
    aliases: ['ingressclass'],
    namespaced: false,
    headers: ['NAME', 'CONTROLLER', 'DEFAULT'],
    wideHeaders: [],
    rows: (state) =>
      state.ingressClasses.map((c) => ({
        namespace: '',
        name: c.name,
        labels: {},
        cells: [c.name, c.controller, c.isDefault ? 'true' : 'false'],
        wide: [],
        object: () => ({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: c.name, ...(c.isDefault ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}) }, spec: { controller: c.controller } }),
      })),
  },
  {
    name: 'networkpolicies',
    aliases: ['networkpolicy', 'netpol'],
    namespaced: true,
    headers: ['NAME', 'POD-SELECTOR'],
    wideHeaders: ['POLICY-TYPES'],
    rows: (state) =>
      state.networkPolicies.map((p) => ({
        namespace: p.namespace,
        name: p.name,
        labels: {},
        cells: [p.name, selectorText(p.spec.podSelector.matchLabels) === '<none>' && !p.spec.podSelector.matchExpressions?.length ? '<none>' : selectorText(p.spec.podSelector.matchLabels)],
        wide: [(p.spec.policyTypes ?? (p.spec.egress ? ['Ingress', 'Egress'] : ['Ingress'])).join(',')],
        object: () => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: p.name, namespace: p.namespace }, spec: p.spec }),
      })),
  },
  {
    name: 'ipaddresspools',
    aliases: ['ipaddresspool'],
    namespaced: false,
    headers: ['NAME', 'AUTO ASSIGN', 'AVOID BUGGY IPS', 'ADDRESSES', 'USED', 'AVAILABLE'],
    wideHeaders: [],
    rows: (state) => {
      const m = state.metallb;
      if (!m) return [];
      return poolUsage(m.config, m.allocations).map((u) => ({
        namespace: m.config.namespace,
        name: u.name,
        labels: {},
        cells: [u.name, String(u.autoAssign), String(u.avoidBuggyIPs), u.addresses.join(','), String(u.used), String(u.available)],
        wide: [],
        object: () => ({ apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: u.name, namespace: m.config.namespace }, spec: { addresses: [...u.addresses], autoAssign: u.autoAssign, avoidBuggyIPs: u.avoidBuggyIPs }, status: { assignedIPv4: u.used, availableIPv4: u.available } }),
      }));
    },
  },
  {
    name: 'certificates',
    aliases: ['certificate', 'cert', 'certs'],
    namespaced: true,
    headers: ['NAME', 'READY', 'SECRET', 'ISSUER', 'NOT AFTER', 'EXPIRES IN'],
    wideHeaders: ['RENEWAL', 'STATUS'],
    rows: (state) => {
      const cm = state.certManager;
      if (!cm) return [];
      return cm.certificates.map((c) => {
        const cells = certificateRowCells(renderCertificateRow(c, cm.now), true);
        return {
          namespace: c.namespace,
          name: c.name,
          labels: {},
          cells: [cells[1] ?? '', cells[2] ?? '', cells[3] ?? '', `${cells[4] ?? ''}${labAcmeNote(cm, c.issuerRef, c.namespace)}`, cells[5] ?? '', cells[6] ?? ''],
          wide: [cells[8] ?? '', cells[9] ?? ''],
          object: () => ({
            apiVersion: 'cert-manager.io/v1',
            kind: 'Certificate',
            metadata: { name: c.name, namespace: c.namespace },
            spec: { secretName: c.secretName, dnsNames: [...c.dnsNames], issuerRef: { ...c.issuerRef } },
            status: { ...c.status, conditions: c.conditions.map((x) => ({ ...x })) },
          }),
        };
      });
    },
  },
  {
    name: 'secrets',
    aliases: ['secret'],
    namespaced: true,
    headers: ['NAME', 'TYPE', 'DATA'],
    wideHeaders: [],
    rows: (state) =>
      (state.certManager?.secrets ?? []).map((sec) => ({
        namespace: sec.namespace,
        name: sec.name,
        labels: {},
        cells: [sec.name, sec.type, String(Object.keys(sec.data).length)],
        wide: [],
        object: () => toSecretObject(sec),
      })),
  },
];

/** Kind views by every name and alias. */
export const KIND_VIEWS: ReadonlyMap<string, KindView> = new Map(views.flatMap((v) => [v.name, ...v.aliases].map((n) => [n, v] as const)));

/** What `get all` shows. */
export const ALL_KINDS = ['pods', 'services', 'ingresses'];
