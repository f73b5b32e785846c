/**
 * Property tests of the loader: random documents shaped like the kinds kwire knows (field names
 * and types drawn from the real schemas, with wrong values mixed in), random text and bytes, and
 * mutated real manifests never make the loader, the reconcile or the CLI throw.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { isMap, isSeq, LineCounter, parseAllDocuments, stringify, type Node as YamlNode } from 'yaml';
import { describe, expect, it } from 'vitest';
import { KINDS, topLevelSchemas } from '../src/api/kinds.js';
import type { Schema } from '../src/api/schema.js';
import { formatPath, type FieldPath, type SourcePos } from '../src/api/types.js';
import type { Io } from '../src/cli/context.js';
import { main } from '../src/cli/main.js';
import { buildNetworkState } from '../src/controllers/index.js';
import { parseManifestFast } from '../src/store/fast-yaml.js';
import { parseManifest, storeFromTexts } from '../src/store/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SEED = 20260101;

/** What the document generator may produce. */
interface GeneratorOptions {
  /** `null` values (an empty `spec:` or `- ` item in YAML) anywhere. */
  readonly nulls: boolean;
  /** Cluster podCIDR/serviceCIDR that are not CIDRs. */
  readonly badClusterCidrs: boolean;
}

const plausibleString = fc.constantFrom(
  'web', 'api', 'http', 'https', 'metrics', 'default', 'shop', 'kube-system', 'nginx', 'traefik',
  '', 'None', 'TCP', 'UDP', 'Ready', 'True', 'False', 'Running', 'worker-1', 'node-1',
  '10.0.0.0/24', '10.96.0.10', '192.168.1.240-192.168.1.250', '198.51.100.0/24', '203.0.113.7',
  '::1', 'fd00::/64', '0.0.0.0/0', '10.0.0.0/33', '*.example.com', 'example.com', 'foo.*.bar',
  '/', '/api', '/api//v1', 'api', '30000-32767', '32767-30000', '80-90', 'k8s.io/ingress-nginx',
  'traefik.io/ingress-controller', 'kwire', 'minikube', 'k3s', 'cloud', 'routed', 'vxlan',
  'enforced', 'ignored', 'metallb', 'none', 'Prefix', 'Exact', 'ImplementationSpecific',
  'ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName', 'In', 'NotIn', 'Exists', 'Gt',
);
const anyString = fc.oneof({ arbitrary: plausibleString, weight: 10 }, { arbitrary: fc.string({ maxLength: 12 }), weight: 1 });
const cidr = fc.constantFrom('10.244.0.0/16', '10.96.0.0/12', '10.0.0.0/24', '192.168.0.0/30', '10.0.0.1/32', 'fd00::/108', '172.16.0.0/20');
const objectName = fc.oneof({ arbitrary: fc.constantFrom('web', 'api', 'db', 'frontend', 'nginx', 'worker-1', 'a.b'), weight: 20 }, { arbitrary: anyString, weight: 1 });
const labelKey = fc.constantFrom('app', 'tier', 'version', 'team', 'app.kubernetes.io/name', 'kubernetes.io/hostname', 'zone');
const labelValue = fc.constantFrom('web', 'api', 'db', 'frontend', 'v1', '', 'worker-1', 'a');
const labels = fc.dictionary(labelKey, labelValue, { maxKeys: 3 });
const annotations = fc.dictionary(
  fc.constantFrom('kwire.dev/ready', 'kubernetes.io/ingress.class', 'ingressclass.kubernetes.io/is-default-class', 'metallb.universe.tf/address-pool', 'note'),
  fc.constantFrom('true', 'false', 'nginx', 'traefik', 'first-pool', 'x'),
  { maxKeys: 2 },
);

/** Random JSON of a small depth, with or without nulls. */
function junkValue(nulls: boolean): fc.Arbitrary<unknown> {
  if (nulls) return fc.jsonValue({ maxDepth: 2 });
  const scalar = fc.oneof(fc.boolean(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ maxLength: 8 }));
  return fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 6 }), scalar, { maxKeys: 3 }));
}

/** Documents and whole manifests of the known kinds. */
function generators(opts: GeneratorOptions) {
  const junk = junkValue(opts.nulls);

  /** Values that fit a schema most of the time and break it sometimes. */
  const fromSchema = (schema: Schema): fc.Arbitrary<unknown> => {
    const fit = ((): fc.Arbitrary<unknown> => {
      switch (schema.t) {
        case 'string':
          return schema.enum ? fc.constantFrom(...schema.enum) : anyString;
        case 'int':
        case 'intOrString': {
          const lo = schema.min ?? -5;
          const hi = schema.max ?? 40;
          const ints = fc.oneof(fc.integer({ min: lo, max: hi }), fc.constantFrom(lo, hi, ...[80, 443, 8080, 30080].filter((n) => n <= hi)));
          return schema.t === 'int' ? ints : fc.oneof(ints, plausibleString);
        }
        case 'bool':
          return fc.boolean();
        case 'any':
          return junk;
        case 'map':
          return schema.values.t === 'string' ? labels : fc.dictionary(labelKey, fromSchema(schema.values), { maxKeys: 3 });
        case 'array':
          return fc.array(fromSchema(schema.items), { maxLength: 3 });
        case 'object': {
          const required = schema.required ?? [];
          const model: Record<string, fc.Arbitrary<unknown>> = {};
          for (const [k, v] of Object.entries(schema.fields)) {
            model[k] = required.includes(k) ? fromSchema(v) : fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: fromSchema(v), weight: 1 });
          }
          return fc.record(model).map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)));
        }
      }
    })();
    return fc.oneof({ arbitrary: fit, weight: 40 }, { arbitrary: junk, weight: 1 }, { arbitrary: fc.constant(null), weight: opts.nulls ? 3 : 0 });
  };

  const metadata = fc.oneof(
    {
      arbitrary: fc.record(
        {
          name: objectName,
          namespace: fc.oneof({ arbitrary: fc.constantFrom('default', 'shop', 'metallb-system', 'ingress-nginx'), weight: 10 }, { arbitrary: anyString, weight: 1 }),
          labels,
          annotations,
        },
        { requiredKeys: ['name'] },
      ),
      weight: 30,
    },
    { arbitrary: junk, weight: 1 },
  );

  const clusterCidr = opts.badClusterCidrs ? fc.oneof(cidr, anyString) : cidr;
  /** The `spec` of a kwire.dev Cluster, whose schema is open. */
  const clusterSpec = fc.record(
    {
      profile: anyString,
      nodes: fc.oneof(
        fc.integer({ min: -1, max: 6 }),
        fc.array(fc.record({ name: objectName, role: anyString, zone: anyString, labels, ip: anyString, podCIDR: clusterCidr }, { requiredKeys: [] }), { maxLength: 4 }),
      ),
      podCIDR: clusterCidr,
      serviceCIDR: clusterCidr,
      nodePortRange: anyString,
      nodeCIDRMaskSize: fc.integer({ min: 0, max: 40 }),
      cni: fc.record({ mode: anyString, networkPolicy: anyString, name: anyString }, { requiredKeys: [] }),
      loadBalancer: fc.record({ mode: anyString, pool: anyString }, { requiredKeys: [] }),
      ingressControllers: fc.array(
        fc.record({ flavour: anyString, name: anyString, className: anyString, controller: anyString, default: fc.boolean(), serviceType: anyString }, { requiredKeys: [] }),
        { maxLength: 3 },
      ),
    },
    { requiredKeys: [] },
  );

  const podStatus = fc.record(
    {
      phase: anyString,
      podIP: anyString,
      conditions: fc.array(fc.oneof(fc.record({ type: anyString, status: anyString }, { requiredKeys: [] }), junk), { maxLength: 2 }),
    },
    { requiredKeys: [] },
  );

  const kinds = [...KINDS.values()];
  const allGroups = [...new Set(kinds.flatMap((k) => k.groups)), 'extensions/v1beta1', 'v2'];

  /** One document of a known kind (now and then of an unknown one). */
  const document: fc.Arbitrary<Record<string, unknown>> = fc
    .constantFrom(...kinds)
    .chain((info) => {
      const top = topLevelSchemas[info.kind];
      return fc.record(
        {
          apiVersion: fc.oneof({ arbitrary: fc.constantFrom(...info.groups), weight: 8 }, { arbitrary: fc.constantFrom(...allGroups), weight: 1 }),
          kind: fc.oneof({ arbitrary: fc.constant(info.kind), weight: 20 }, { arbitrary: fc.constantFrom('Widget', 'PodList', 'List'), weight: 1 }),
          metadata,
          spec: info.kind === 'Cluster' ? clusterSpec : fromSchema(info.schema),
          status: info.kind === 'Pod' ? podStatus : junk,
          top: top ? fromSchema(top) : fc.constant(undefined),
        },
        { requiredKeys: ['apiVersion', 'kind', 'metadata'] },
      );
    })
    .map(({ top, ...doc }) => ({ ...doc, ...(typeof top === 'object' && top !== null ? top : {}) }));

  /** Objects that refer to each other (workloads, their Services, Ingresses and policies), the paths reconcile walks most. */
  const app = fc.constantFrom('web', 'api', 'db');
  const namespace = fc.constantFrom('default', 'default', 'shop');
  const portName = fc.constantFrom('http', 'metrics', 'grpc', 'dns');
  const containerPort = fc.constantFrom(53, 80, 8080, 9090, 5432);
  const optional = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });
  const workload = fc
    .record({
      app,
      namespace,
      kind: fc.constantFrom('Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Pod', 'Job', 'ReplicationController'),
      replicas: fc.integer({ min: 0, max: 4 }),
      ports: fc.uniqueArray(fc.record({ name: portName, containerPort, protocol: fc.constantFrom('TCP', 'UDP') }), { maxLength: 3, selector: (p) => p.name }),
      ready: optional(fc.constantFrom('true', 'false')),
      nodeName: optional(fc.constantFrom('worker-1', 'worker-2', 'node-9')),
      hostNetwork: optional(fc.boolean()),
    })
    .map((w) => {
      const podSpec = {
        containers: [{ name: 'main', image: 'nginx', ports: w.ports }],
        ...(w.nodeName === undefined ? {} : { nodeName: w.nodeName }),
        ...(w.hostNetwork === undefined ? {} : { hostNetwork: w.hostNetwork }),
      };
      const podMeta = { labels: { app: w.app }, ...(w.ready === undefined ? {} : { annotations: { 'kwire.dev/ready': w.ready } }) };
      const metadata = { name: `${w.app}-${w.kind.toLowerCase()}`, namespace: w.namespace };
      if (w.kind === 'Pod') return { apiVersion: 'v1', kind: 'Pod', metadata: { ...metadata, ...podMeta }, spec: podSpec };
      const template = { metadata: podMeta, spec: podSpec };
      if (w.kind === 'Job') return { apiVersion: 'batch/v1', kind: 'Job', metadata, spec: { template } };
      if (w.kind === 'ReplicationController') return { apiVersion: 'v1', kind: w.kind, metadata, spec: { replicas: w.replicas, selector: { app: w.app }, template } };
      return { apiVersion: 'apps/v1', kind: w.kind, metadata, spec: { replicas: w.replicas, selector: { matchLabels: { app: w.app } }, template } };
    });
  const service = fc
    .record({
      app,
      namespace,
      selector: fc.boolean(),
      type: fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'),
      headless: fc.boolean(),
      clusterIP: optional(fc.constantFrom('10.96.0.50', '10.96.100.7', '10.200.0.1')),
      publishNotReadyAddresses: optional(fc.boolean()),
      allocateLoadBalancerNodePorts: optional(fc.boolean()),
      ports: fc.uniqueArray(
        fc.record({
          name: portName,
          port: fc.constantFrom(53, 80, 443, 8080),
          targetPort: optional(fc.oneof(containerPort, portName)),
          nodePort: optional(fc.constantFrom(30080, 30080, 32767, 30000, 31000)),
          protocol: fc.constantFrom('TCP', 'UDP'),
        }),
        { minLength: 1, maxLength: 3, selector: (p) => p.name },
      ),
    })
    .map((v) => {
      const nodePorts = v.type === 'NodePort' || v.type === 'LoadBalancer';
      const spec: Record<string, unknown> = {
        type: v.type,
        ports: v.ports.map((p) => (nodePorts ? p : { ...p, nodePort: undefined })).map((p) => JSON.parse(JSON.stringify(p)) as unknown),
      };
      if (v.selector) spec.selector = { app: v.app };
      if (v.type === 'ExternalName') spec.externalName = 'db.example.com';
      else if (v.headless && !nodePorts) spec.clusterIP = 'None';
      else if (v.clusterIP !== undefined) spec.clusterIP = v.clusterIP;
      if (v.publishNotReadyAddresses !== undefined) spec.publishNotReadyAddresses = v.publishNotReadyAddresses;
      if (v.type === 'LoadBalancer' && v.allocateLoadBalancerNodePorts !== undefined) spec.allocateLoadBalancerNodePorts = v.allocateLoadBalancerNodePorts;
      return { apiVersion: 'v1', kind: 'Service', metadata: { name: v.app, namespace: v.namespace }, spec };
    });
  const endpoints = fc.record({ app, namespace, ip: fc.constantFrom('10.1.2.3', '192.0.2.10', 'fd00::1') }).map((e) => ({
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: e.app, namespace: e.namespace },
    subsets: [{ addresses: [{ ip: e.ip }], ports: [{ name: 'http', port: 80 }] }],
  }));
  const ingress = fc
    .record({
      name: app,
      namespace,
      className: optional(fc.constantFrom('nginx', 'traefik', 'missing')),
      host: optional(fc.constantFrom('example.com', '*.example.com', 'shop.example.com')),
      paths: fc.array(
        fc.record({ path: fc.constantFrom('/', '/api', '/api/v1'), pathType: fc.constantFrom('Prefix', 'Exact', 'ImplementationSpecific'), service: app, port: fc.oneof(fc.constantFrom(80, 8080), portName) }),
        { minLength: 1, maxLength: 3 },
      ),
      tls: fc.boolean(),
    })
    .map((i) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: i.name, namespace: i.namespace, ...(i.tls ? { annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt' } } : {}) },
      spec: {
        ...(i.className === undefined ? {} : { ingressClassName: i.className }),
        ...(i.tls && i.host !== undefined ? { tls: [{ hosts: [i.host], secretName: `${i.name}-tls` }] } : {}),
        rules: [
          {
            ...(i.host === undefined ? {} : { host: i.host }),
            http: {
              paths: i.paths.map((p) => ({
                path: p.path,
                pathType: p.pathType,
                backend: { service: { name: p.service, port: typeof p.port === 'number' ? { number: p.port } : { name: p.port } } },
              })),
            },
          },
        ],
      },
    }));
  const peer = fc.oneof(
    app.map((a) => ({ podSelector: { matchLabels: { app: a } } })),
    fc.constantFrom({ namespaceSelector: {} }, { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }),
    fc.constantFrom({ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }, { ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: 'fd00::/8' } }),
  );
  const networkPolicy = fc
    .record({
      app: optional(app),
      namespace,
      types: fc.subarray(['Ingress', 'Egress']),
      from: optional(fc.array(peer, { maxLength: 2 })),
      to: optional(fc.array(peer, { maxLength: 2 })),
      ports: optional(fc.array(fc.oneof(fc.record({ protocol: fc.constantFrom('TCP', 'UDP'), port: fc.oneof(containerPort, portName) }), fc.constant({ port: 30000, endPort: 30100 })), { maxLength: 2 })),
    })
    .map((n) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `np-${n.app ?? 'all'}`, namespace: n.namespace },
      spec: JSON.parse(
        JSON.stringify({
          podSelector: n.app === undefined ? {} : { matchLabels: { app: n.app } },
          policyTypes: n.types.length ? n.types : undefined,
          ingress: n.from || n.ports ? [{ from: n.from, ports: n.ports }] : undefined,
          egress: n.to ? [{ to: n.to }] : undefined,
        }),
      ) as unknown,
    }));
  const addons = fc.constantFrom(
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'k8s.io/ingress-nginx' } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'traefik' }, spec: { controller: 'traefik.io/ingress-controller' } },
    { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'pool', namespace: 'metallb-system' }, spec: { addresses: ['192.168.1.240-192.168.1.241'] } },
    { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'l2', namespace: 'metallb-system' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'shop' } } },
    { apiVersion: 'v1', kind: 'Node', metadata: { name: 'worker-1', labels: { zone: 'a' } } },
    { apiVersion: 'kwire.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'lab' }, spec: { profile: 'minikube' } },
    { apiVersion: 'kwire.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'lab' }, spec: { profile: 'k3s', nodes: 2, nodePortRange: '30000-30001' } },
    { apiVersion: 'kwire.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'lab' }, spec: { serviceCIDR: '10.96.0.0/29', nodes: [{ name: 'cp', role: 'control-plane' }, { name: 'w1' }] } },
  );
  const related = fc.oneof(
    { arbitrary: workload, weight: 3 },
    { arbitrary: service, weight: 3 },
    { arbitrary: endpoints, weight: 1 },
    { arbitrary: ingress, weight: 2 },
    { arbitrary: networkPolicy, weight: 2 },
    { arbitrary: addons, weight: 1 },
  ) as fc.Arbitrary<Record<string, unknown>>;
  const anyDocument = fc.oneof({ arbitrary: related, weight: 2 }, { arbitrary: document, weight: 1 });

  /** One YAML file (1.1, as kwire reads it), one JSON file per object, or one `kind: List`. */
  const files = fc.tuple(fc.array(anyDocument, { minLength: 1, maxLength: 10 }), fc.constantFrom('yaml', 'json', 'list')).map(([docs, form]) => {
    if (form === 'json') return docs.map((d, i) => ({ file: `fuzz-${i}.json`, text: JSON.stringify(d, null, 2) }));
    if (form === 'list') return [{ file: 'fuzz.yaml', text: stringify({ apiVersion: 'v1', kind: 'List', items: docs }, { version: '1.1' }) }];
    return [{ file: 'fuzz.yaml', text: docs.map((d) => stringify(d, { version: '1.1' })).join('---\n') }];
  });

  /** The same, as one stream (for `-f -`). */
  const text = files.map((fs) => fs.map((f) => f.text).join('\n---\n'));
  return { document, files, text };
}

/** Every path into a value (keys and indexes), to ask `locate` about. */
function pathsOf(value: unknown, prefix: FieldPath = [], out: FieldPath[] = []): FieldPath[] {
  out.push(prefix);
  if (out.length > 200 || typeof value !== 'object' || value === null) return out;
  for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, Array.isArray(value) ? Number(k) : k], out);
  return out;
}

/** JSON of a state (bigints as strings), to compare two reconciles. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

function expectPosition(p: SourcePos | undefined, file: string): void {
  expect(p?.file).toBe(file);
  expect(p?.line).toBeGreaterThanOrEqual(1);
  expect(p?.column).toBeGreaterThanOrEqual(1);
}

/** Loads, locates every field, and reconciles twice: the two states must be identical. */
function loadAndReconcile(files: readonly { file: string; text: string }[], namespace: string): void {
  const store = storeFromTexts(files, namespace);
  for (const p of store.problems) {
    expect(['error', 'warning', 'info']).toContain(p.severity);
    expect(typeof p.message).toBe('string');
  }
  for (const o of store.objects) {
    for (const path of pathsOf(o.object).slice(0, 40)) expectPosition(o.locate(path), o.source.file);
  }
  const input = { objects: store.objects.map((o) => o.object), sourceOf: store.sourceOf };
  const opts = { now: '2026-01-01T00:00:00Z', seed: 'fuzz' };
  const first = buildNetworkState(input, opts);
  const second = buildNetworkState(input, opts);
  expect(canonical(second)).toBe(canonical(first));
}


/** What the `yaml` library reads (the oracle for the fast reader): objects with the position of every path. */
function libraryObjects(text: string): { value: unknown; at: (path: FieldPath) => string }[] | 'errors' {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { version: '1.1', merge: true, uniqueKeys: true, lineCounter });
  const out: { value: unknown; at: (path: FieldPath) => string }[] = [];
  const pos = (offset: number): string => {
    const { line, col } = lineCounter.linePos(offset);
    return `${line}:${col}`;
  };
  const locate = (node: YamlNode, path: FieldPath): string => {
    let current: unknown = node;
    let best = node.range?.[0] ?? 0;
    for (const part of path) {
      if (isMap(current)) {
        const pair = current.items.find((p) => (p.key as { value?: unknown } | null)?.value === part);
        if (!pair) break;
        best = (pair.key as YamlNode | null)?.range?.[0] ?? best;
        current = pair.value;
      } else if (isSeq(current) && typeof part === 'number') {
        const item = current.items[part] as YamlNode | undefined;
        if (!item) break;
        best = item.range?.[0] ?? best;
        current = item;
      } else break;
    }
    return pos(best);
  };
  const collect = (value: unknown, node: YamlNode): void => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    const o = value as Record<string, unknown>;
    if (typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items)) {
      const items = isMap(node) ? node.get('items', true) : undefined;
      o.items.forEach((item, i) => {
        collect(item, (isSeq(items) ? (items.items[i] as YamlNode | undefined) : undefined) ?? node);
      });
    } else if (typeof o.apiVersion === 'string' && typeof o.kind === 'string') out.push({ value, at: (path) => locate(node, path) });
  };
  for (const doc of docs) {
    if (doc.errors.length > 0) return 'errors';
    if (doc.contents === null) continue;
    collect(doc.toJS({ maxAliasCount: 100 }), doc.contents);
  }
  return out;
}

const CORPUS = join(ROOT, 'test/corpus/malformed');
/** Corpus files that still make kwire crash (see malformed.test.ts); left out until fixed. */
const crashing = new Set(
  (JSON.parse(readFileSync(join(CORPUS, 'cases.json'), 'utf8')) as { file: string; crash?: boolean }[]).filter((c) => c.crash).map((c) => c.file),
);
/** Real manifests to mutate: the course example and the malformed corpus. */
const manifests: readonly string[] = [
  ...readdirSync(join(ROOT, 'examples/course')).filter((f) => f.endsWith('.yaml')).map((f) => readFileSync(join(ROOT, 'examples/course', f), 'utf8')),
  ...readdirSync(CORPUS).filter((f) => /\.(ya?ml|json)$/.test(f) && !crashing.has(f)).map((f) => readFileSync(join(CORPUS, f), 'utf8')),
];

const yamlish = fc.string({
  unit: fc.constantFrom(' ', ' ', '\n', '\t', '-', ':', '#', '{', '}', '[', ']', ',', '"', "'", '&', '*', '!', '|', '>', '%', '@', '`', '?', '---', '...', '<<', 'a', 'k', '0', '1', 'yes', 'kind', 'apiVersion: v1', 'kind: Service', 'metadata:', 'name: x', 'spec:', 'items:', '\u0000', '\uFEFF', '\r'),
  maxLength: 120,
});

/** A real manifest with a few random edits: characters cut, or text inserted. */
const mutatedManifest = fc
  .tuple(
    fc.constantFrom(...manifests),
    fc.array(fc.tuple(fc.nat(), fc.nat({ max: 8 }), fc.constantFrom('', ' ', '  ', '\t', ':', '- ', '"', '{', ']', '\n', '---\n', 'x')), { minLength: 1, maxLength: 4 }),
  )
  .map(([text, edits]) => {
    let t = text;
    for (const [at, cut, insert] of edits) {
      const i = t.length ? at % t.length : 0;
      t = t.slice(0, i) + insert + t.slice(i + cut);
    }
    return t;
  });

const bytes = fc.uint8Array({ maxLength: 300 }).map((b) => new TextDecoder('utf-8', { fatal: false }).decode(b));

/** The generator the passing properties use: no nulls and valid Cluster CIDRs (see the skipped bugs). */
const safe = generators({ nulls: false, badClusterCidrs: false });

describe('storeFromTexts and buildNetworkState on random documents of the known kinds', () => {
  it('never throw, every field has a position, and reconcile is deterministic', () => {
    fc.assert(
      fc.property(safe.files, fc.constantFrom('default', 'shop'), (files, namespace) => {
        loadAndReconcile(files, namespace);
      }),
      { numRuns: 300, seed: SEED },
    );
  });

  it('fixed: null values (`spec:` or `- ` left empty) pass validation and crash validate/reconcile (see the corpus cases)', () => {
    fc.assert(
      fc.property(generators({ nulls: true, badClusterCidrs: false }).files, (files) => {
        loadAndReconcile(files, 'default');
      }),
      { numRuns: 300, seed: SEED },
    );
  });

  it('fixed: a Cluster podCIDR/serviceCIDR that is not a CIDR crashes reconcileServices', () => {
    fc.assert(
      fc.property(generators({ nulls: false, badClusterCidrs: true }).files, (files) => {
        loadAndReconcile(files, 'default');
      }),
      { numRuns: 300, seed: SEED },
    );
  });
});

describe('parseManifest on random text', () => {
  it.each([
    ['YAML-ish text', yamlish],
    ['random bytes', bytes],
    ['mutated real manifests', mutatedManifest],
  ])('never throws on %s, and every position it gives is in the file', (_name, text) => {
    fc.assert(
      fc.property(text, (t) => {
        const r = parseManifest(t, 'in.yaml');
        for (const p of r.problems) if (p.source) expectPosition(p.source, 'in.yaml');
        for (const o of r.objects) {
          expectPosition(o.source, 'in.yaml');
          for (const path of pathsOf(o.value).slice(0, 40)) expectPosition(o.locate(path), 'in.yaml');
        }
      }),
      { numRuns: 300, seed: SEED },
    );
  });
});

describe('the fast YAML reader', () => {
  const yamlTexts = fc.oneof(
    generators({ nulls: true, badClusterCidrs: true }).files.map((fs) => fs.map((f) => f.text).join('---\n')),
    mutatedManifest,
    yamlish,
  );
  it('reads what it accepts exactly as the yaml library does: values and the position of every field', () => {
    fc.assert(
      fc.property(yamlTexts, (text) => {
        const fast = parseManifestFast(text, 'in.yaml');
        if (!fast) return;
        const oracle = libraryObjects(text);
        expect(oracle, 'the fast reader accepted text the yaml library rejects').not.toBe('errors');
        if (oracle === 'errors') return;
        expect(fast.objects.map((o) => o.value)).toEqual(oracle.map((o) => o.value));
        fast.objects.forEach((o, i) => {
          for (const path of pathsOf(o.value).slice(0, 60)) {
            const p = o.locate(path);
            expect(`${p.line}:${p.column}`, formatPath(path)).toBe(oracle[i]?.at(path));
          }
        });
      }),
      { numRuns: 300, seed: SEED },
    );
  });
});

describe('main() on random input', () => {
  const io = (stdin: string): Io => ({ out: () => undefined, err: () => undefined, readStdin: () => Promise.resolve(stdin), cwd: ROOT, color: false });
  const argvs = [
    ['get', 'all', '-f', '-'],
    ['get', 'pods,svc,endpointslices,nodes', '-o', 'yaml', '-f', '-'],
    ['get', 'svc', '-A', '-o', 'json', '-f', '-'],
    ['lint', '-f', '-', '-o', 'sarif'],
  ];
  it('returns 0, 1 or 2, never 4', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(safe.text, mutatedManifest, yamlish), fc.constantFrom(...argvs), async (text, argv) => {
        const code = await main(argv, io(text));
        expect([0, 1, 2]).toContain(code);
      }),
      { numRuns: 300, seed: SEED },
    );
  });
});

