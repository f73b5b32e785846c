/**
 * NetworkState items rendered back as Kubernetes objects, with `spec` and `status` filled in as
 * the apiserver and controllers would (`kwire get -o json|yaml`).
 */
import type { EndpointSliceState, IngressState, NetworkState, NodeState, PodState, ServiceState } from './types.js';

/** A plain JSON object. */
export type Json = Record<string, unknown>;

function meta(name: string, namespace: string | undefined, labels: Readonly<Record<string, string>>, annotations?: Readonly<Record<string, string>>): Json {
  const m: Json = { name };
  if (namespace) m.namespace = namespace;
  if (Object.keys(labels).length) m.labels = { ...labels };
  if (annotations && Object.keys(annotations).length) m.annotations = { ...annotations };
  return m;
}

/** A Pod as the apiserver would show it after scheduling. */
export function podObject(p: PodState, state: NetworkState): Json {
  const node = state.nodes.find((n) => n.name === p.node);
  const byContainer = new Map<string, Json[]>();
  for (const port of p.ports) {
    const list = byContainer.get(port.container) ?? [];
    const entry: Json = { containerPort: port.containerPort, protocol: port.protocol };
    if (port.name) entry.name = port.name;
    if (port.hostPort) entry.hostPort = port.hostPort;
    list.push(entry);
    byContainer.set(port.container, list);
  }
  const m = meta(p.name, p.namespace, p.labels, p.annotations);
  if (p.owner) m.ownerReferences = [{ apiVersion: p.owner.kind === 'ReplicaSet' || p.owner.kind === 'StatefulSet' || p.owner.kind === 'DaemonSet' ? 'apps/v1' : p.owner.kind === 'Job' ? 'batch/v1' : 'v1', kind: p.owner.kind, name: p.owner.name, controller: true }];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: m,
    spec: {
      nodeName: p.node || undefined,
      hostNetwork: p.hostNetwork || undefined,
      containers: [...new Set(p.ports.map((x) => x.container))].map((name) => ({ name, ports: byContainer.get(name) })),
    },
    status: {
      phase: p.phase,
      hostIP: node?.ip,
      podIP: p.ip || undefined,
      podIPs: p.ip ? [{ ip: p.ip }] : undefined,
      conditions: [{ type: 'Ready', status: p.ready ? 'True' : 'False' }],
    },
  };
}

/** A Service with its allocated ClusterIP, NodePorts and LoadBalancer status. */
export function serviceObject(s: ServiceState): Json {
  const spec: Json = { type: s.type };
  if (s.selector) spec.selector = { ...s.selector };
  if (s.type === 'ExternalName') spec.externalName = s.externalName;
  else {
    spec.clusterIP = s.clusterIP;
    spec.clusterIPs = [s.clusterIP];
    spec.ipFamilies = [s.clusterIP.includes(':') ? 'IPv6' : 'IPv4'];
    spec.ipFamilyPolicy = 'SingleStack';
    spec.sessionAffinity = s.sessionAffinity;
    if (s.sessionAffinity === 'ClientIP') spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: s.sessionAffinityTimeoutSeconds } };
    spec.internalTrafficPolicy = s.internalTrafficPolicy;
  }
  spec.ports = s.ports.map((p) => {
    const o: Json = {};
    if (p.name) o.name = p.name;
    o.protocol = p.protocol;
    o.port = p.port;
    o.targetPort = p.targetPort;
    if (p.nodePort) o.nodePort = p.nodePort;
    if (p.appProtocol) o.appProtocol = p.appProtocol;
    return o;
  });
  if (s.type === 'NodePort' || s.type === 'LoadBalancer') spec.externalTrafficPolicy = s.externalTrafficPolicy;
  if (s.healthCheckNodePort) spec.healthCheckNodePort = s.healthCheckNodePort;
  if (s.externalIPs.length) spec.externalIPs = [...s.externalIPs];
  if (s.loadBalancerClass) spec.loadBalancerClass = s.loadBalancerClass;
  if (s.loadBalancerSourceRanges.length) spec.loadBalancerSourceRanges = [...s.loadBalancerSourceRanges];
  if (s.publishNotReadyAddresses) spec.publishNotReadyAddresses = true;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(s.name, s.namespace, s.labels, s.annotations),
    spec,
    status: { loadBalancer: s.loadBalancerIngress.length ? { ingress: s.loadBalancerIngress.map((i) => ({ ...i })) } : {} },
  };
}

/** An EndpointSlice as the EndpointSlice controller writes it. */
export function endpointSliceObject(e: EndpointSliceState): Json {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: meta(e.name, e.namespace, { 'kubernetes.io/service-name': e.service, 'endpointslice.kubernetes.io/managed-by': e.managedBy }),
    addressType: e.addressType,
    ports: e.ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, protocol: p.protocol })),
    endpoints: e.endpoints.map((ep) => ({
      addresses: [...ep.addresses],
      conditions: { ...ep.conditions },
      ...(ep.nodeName ? { nodeName: ep.nodeName } : {}),
      ...(ep.targetRef ? { targetRef: { ...ep.targetRef } } : {}),
    })),
  };
}

/** A Node with its address and pod CIDR. */
export function nodeObject(n: NodeState): Json {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: meta(n.name, undefined, n.labels),
    spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR], ...(n.controlPlane ? { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] } : {}) },
    status: { addresses: [{ type: 'InternalIP', address: n.ip }, { type: 'Hostname', address: n.name }], conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

/** The addresses an Ingress's controller is reachable at (its LB IPs, else its nodes' IPs). */
export function ingressAddresses(ing: IngressState, state: NetworkState): string[] {
  if (!ing.controller) return [];
  const ctrl = state.cluster.ingressControllers.find((c) => c.name === ing.controller);
  if (!ctrl) return [];
  const svc = state.services.find((s) => s.addon && s.type !== 'ClusterIP' && s.labels['app.kubernetes.io/instance'] === ctrl.name);
  if (!svc) return [];
  if (svc.loadBalancerIngress.length) return svc.loadBalancerIngress.map((i) => i.ip);
  if (svc.type === 'LoadBalancer') return [];
  return state.pods.filter((p) => p.addon && p.labels['app.kubernetes.io/instance'] === ctrl.name).map((p) => state.nodes.find((n) => n.name === p.node)?.ip ?? '').filter(Boolean);
}

/** An Ingress with `status.loadBalancer.ingress` as its controller would fill it. */
export function ingressObject(i: IngressState, state: NetworkState): Json {
  const addrs = ingressAddresses(i, state);
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: meta(i.name, i.namespace, {}, i.annotations),
    spec: { ...(i.className && i.classFrom === 'default' ? { ingressClassName: i.className } : {}), ...i.spec },
    status: { loadBalancer: addrs.length ? { ingress: addrs.map((ip) => ({ ip })) } : {} },
  };
}
