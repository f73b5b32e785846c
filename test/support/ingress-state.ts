/**
 * Builds a NetworkState holding only what ingress routing reads: Ingresses (from YAML), their
 * IngressClasses, installed controllers and the Services their backends name. Class resolution is
 * the real `resolveIngressClass`.
 */
import { compileNetwork } from '../../src/controllers/index.js';
import { parseAllDocuments } from 'yaml';
import type { IngressSpec, StringMap } from '../../src/api/types.js';
import { resolveIngressClass } from '../../src/controllers/ingress/index.js';
import type {
  ClusterConfig,
  IngressClassState,
  IngressControllerConfig,
  IngressFlavour,
  IngressState,
  NetworkState,
  ServiceState,
} from '../../src/model/types.js';

/** A controller as each profile installs it, keyed by flavour. */
export function controllerFor(
  flavour: IngressFlavour,
  overrides: Partial<IngressControllerConfig> = {},
): IngressControllerConfig {
  const base: Record<IngressFlavour, Omit<IngressControllerConfig, 'flavour'>> = {
    spec: {
      name: 'ingress-spec',
      className: 'spec',
      controller: 'kwire.dev/ingress-spec',
      defaultClass: true,
      serviceType: 'LoadBalancer',
      hostPort: false,
    },
    nginx: {
      name: 'ingress-nginx',
      className: 'nginx',
      controller: 'k8s.io/ingress-nginx',
      defaultClass: true,
      serviceType: 'LoadBalancer',
      hostPort: false,
    },
    traefik: {
      name: 'traefik',
      className: 'traefik',
      controller: 'traefik.io/ingress-controller',
      defaultClass: true,
      serviceType: 'LoadBalancer',
      hostPort: false,
    },
  };
  return { ...base[flavour], flavour, ...overrides };
}

/** Options for `ingressState`. */
export interface IngressStateOptions {
  /** Installed controllers. @default one `spec` controller, default class */
  readonly controllers?: readonly IngressControllerConfig[];
  /** Extra Services (`ns/name:port,port`) beside those the backends name. */
  readonly services?: readonly string[];
}

interface RawObject {
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    annotations?: StringMap;
    creationTimestamp?: string;
  };
  spec?: Record<string, unknown>;
}

/** Parses YAML (one or more documents) into a NetworkState with resolved Ingress classes. */
export function ingressState(yamlText: string, options: IngressStateOptions = {}): NetworkState {
  const controllers = options.controllers ?? [controllerFor('spec')];
  const raws = parseAllDocuments(yamlText)
    .map((d) => d.toJS() as RawObject | null)
    .filter((o): o is RawObject => o !== null && typeof o === 'object');

  const classes: IngressClassState[] = raws
    .filter((o) => o.kind === 'IngressClass')
    .map((o) => ({
      name: o.metadata?.name ?? '',
      controller: typeof o.spec?.controller === 'string' ? o.spec.controller : '',
      isDefault:
        o.metadata?.annotations?.['ingressclass.kubernetes.io/is-default-class'] === 'true',
      implicit: false,
    }));
  for (const c of controllers) {
    if (!classes.some((k) => k.name === c.className)) {
      classes.push({
        name: c.className,
        controller: c.controller,
        isDefault: c.defaultClass,
        implicit: true,
      });
    }
  }

  const ingresses: IngressState[] = raws
    .filter((o) => o.kind === 'Ingress')
    .map((o, order) => {
      const annotations = o.metadata?.annotations ?? {};
      const spec = (o.spec ?? {}) as IngressSpec;
      const resolved = resolveIngressClass({ annotations, spec }, classes, controllers);
      return {
        namespace: o.metadata?.namespace ?? 'default',
        name: o.metadata?.name ?? `ingress-${order}`,
        annotations,
        spec,
        order,
        ...(o.metadata?.creationTimestamp
          ? { creationTimestamp: o.metadata.creationTimestamp }
          : {}),
        ...(resolved.className !== undefined ? { className: resolved.className } : {}),
        ...(resolved.classFrom !== undefined ? { classFrom: resolved.classFrom } : {}),
        ...(resolved.controller !== undefined ? { controller: resolved.controller } : {}),
      };
    });

  const ports = new Map<string, Set<number | string>>();
  const addPort = (key: string, port: number | string): void => {
    const set = ports.get(key) ?? new Set();
    set.add(port);
    ports.set(key, set);
  };
  for (const ing of ingresses) {
    const backends = [
      ing.spec.defaultBackend,
      ...(ing.spec.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => p.backend)),
    ];
    for (const b of backends) {
      if (b?.service)
        addPort(
          `${ing.namespace}/${b.service.name}`,
          b.service.port?.number ?? b.service.port?.name ?? 80,
        );
    }
  }
  for (const s of options.services ?? []) {
    const [key = '', list = '80'] = s.split(':');
    for (const p of list.split(',')) addPort(key, /^\d+$/.test(p) ? Number(p) : p);
  }

  return compileNetwork({
    cluster: clusterWith(controllers),
    nodes: [],
    namespaces: [],
    pods: [],
    services: [...ports].map(([key, set]) => serviceOf(key, [...set])),
    endpointSlices: [],
    ingressClasses: classes,
    ingresses,
    networkPolicies: [],
    objects: [],
    problems: [],
  });
}

function serviceOf(key: string, ports: readonly (number | string)[]): ServiceState {
  const [namespace = 'default', name = ''] = key.split('/');
  let next = 8000;
  return {
    namespace,
    name,
    type: 'ClusterIP',
    labels: {},
    annotations: {},
    selector: { app: name },
    clusterIP: '10.96.0.10',
    headless: false,
    externalIPs: [],
    ports: ports.map((p) =>
      typeof p === 'number'
        ? { name: `p${p}`, protocol: 'TCP' as const, port: p, targetPort: p }
        : { name: p, protocol: 'TCP' as const, port: next++, targetPort: p },
    ),
    externalTrafficPolicy: 'Cluster',
    internalTrafficPolicy: 'Cluster',
    sessionAffinity: 'None',
    sessionAffinityTimeoutSeconds: 10800,
    publishNotReadyAddresses: false,
    loadBalancerSourceRanges: [],
    loadBalancerIngress: [],
    addon: false,
  };
}

function clusterWith(controllers: readonly IngressControllerConfig[]): ClusterConfig {
  return {
    name: 'test',
    profile: 'kwire',
    nodes: [],
    podCIDR: '10.244.0.0/16',
    nodeCIDRMaskSize: 24,
    serviceCIDR: '10.96.0.0/12',
    nodePortRange: [30000, 32767],
    nodeCIDR: '172.18.0.0/16',
    cni: { mode: 'routed', networkPolicy: 'enforced', name: 'kwire' },
    ingressControllers: controllers,
    loadBalancer: { mode: 'metallb' },
    clusterDomain: 'cluster.local',
  };
}

/** What the caller of `routeRequest` adds: the Service and its port must exist, else 503. */
export function serviceStatus(
  state: NetworkState,
  service: { namespace: string; name: string; port: number | string },
): number {
  const svc = state.services.find(
    (s) => s.namespace === service.namespace && s.name === service.name,
  );
  if (!svc) return 503;
  const found = svc.ports.some((p) =>
    typeof service.port === 'number' ? p.port === service.port : p.name === service.port,
  );
  return found ? 200 : 503;
}

/** The two Ingresses of the course (seed), exactly as written there. */
export const COURSE_INGRESSES = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ingress-wildcard-host
spec:
  rules:
  - host: "domain1.bar.com"
    http:
      paths:
      - pathType: Prefix
        path: "/bar"
        backend:
          service:
            name: service1
            port:
              number: 80
      - pathType: Prefix
        path: "/foo"
        backend:
          service:
            name: service2
            port:
              number: 80
  - host: "domain2.foo.com"
    http:
      paths:
      - pathType: Prefix
        path: "/"
        backend:
          service:
            name: service3
            port:
              number: 80
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: kuard
  annotations:
    kubernetes.io/ingress.class: "nginx"
    cert-manager.io/issuer: "letsencrypt-prod"
spec:
  tls:
  - hosts:
    - example.example.com
    secretName: quickstart-example-tls
  rules:
  - host: example.example.com
    http:
      paths:
      - path: /
        pathType: Exact
        backend:
          service:
            name: kuard
            port:
              number: 80
`;
