/**
 * What the loader reads and how: multi-document YAML, JSON, lists, YAML 1.1 scalars as kubectl
 * reads them, directories and stdin, and the position of every field.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FieldPath, KubeObject } from '../src/api/types.js';
import type { Io } from '../src/cli/context.js';
import { main } from '../src/cli/main.js';
import { loadStore, storeFromTexts, type Store } from '../src/store/index.js';

function load(text: string, file = 'm.yaml', namespace?: string): Store {
  return storeFromTexts([{ file, text }], namespace);
}

function only(store: Store, kind: string, name: string): KubeObject {
  const found = store.objects.filter((o) => o.object.kind === kind && o.object.metadata.name === name);
  expect(found).toHaveLength(1);
  return found[0]!.object;
}

/** `line:column` of a field of an object. */
function at(store: Store, o: KubeObject, path: FieldPath): string {
  const p = store.locate(o, path);
  return p ? `${p.line}:${p.column}` : 'nowhere';
}

async function run(argv: readonly string[], cwd: string, stdin = ''): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), readStdin: () => Promise.resolve(stdin), cwd, color: false };
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: web
  labels:
    app.kubernetes.io/name: web
spec:
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: 8080
  - name: https
    port: 443
    targetPort: https
`;

describe('multi-document YAML', () => {
  const text = `# shop
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
---
# only a comment
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  mode: fast
...
`;
  it('reads every document in order, skipping empty ones without a word', () => {
    const store = load(text);
    expect(store.problems).toEqual([]);
    expect(store.objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`)).toEqual(['Namespace/shop', 'ConfigMap/settings']);
    expect(store.objects.map((o) => `${o.source.file}:${o.source.line}:${o.source.column}`)).toEqual(['m.yaml:3:1', 'm.yaml:11:1']);
  });

  it('reads Windows line endings and a UTF-8 byte order mark with the same positions', () => {
    const store = load(`\uFEFF${SERVICE.replace(/\n/g, '\r\n')}`);
    expect(store.problems).toEqual([]);
    const svc = only(store, 'Service', 'web');
    expect(at(store, svc, ['spec', 'ports', 1, 'targetPort'])).toBe('16:5');
    expect((svc.spec as { ports: { targetPort: unknown }[] }).ports[1]?.targetPort).toBe('https');
  });
});

describe('JSON', () => {
  const json = `{
  "apiVersion": "v1",
  "kind": "Service",
  "metadata": {"name": "api", "namespace": "shop"},
  "spec": {
    "selector": {"app": "api"},
    "ports": [
      {"name": "http", "port": 80, "targetPort": 8080},
      {"name": "grpc", "port": 9090}
    ]
  }
}
`;
  it('reads a JSON object with positions of its fields', () => {
    const store = load(json, 'api.json');
    expect(store.problems).toEqual([]);
    const svc = only(store, 'Service', 'api');
    expect(svc.metadata.namespace).toBe('shop');
    expect(store.sourceOf(svc)).toEqual({ file: 'api.json', line: 1, column: 1 });
    expect(at(store, svc, ['spec', 'ports', 0, 'targetPort'])).toBe('8:36');
    expect(at(store, svc, ['spec', 'ports', 1])).toBe('9:7');
  });
});

describe('lists', () => {
  it('unwraps kind: List, each item keeping its own position', () => {
    const store = load(`apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata:
    name: shop
- apiVersion: v1
  kind: Service
  metadata:
    name: web
    namespace: shop
  spec:
    ports:
    - port: 80
`);
    expect(store.problems).toEqual([]);
    expect(store.objects.map((o) => `${o.object.kind}@${o.source.line}:${o.source.column}`)).toEqual(['Namespace@4:3', 'Service@8:3']);
    const svc = only(store, 'Service', 'web');
    expect(at(store, svc, ['spec', 'ports', 0, 'port'])).toBe('15:7');
  });

  it('unwraps a typed list (PodList) whose items carry their kind', () => {
    const store = load(`apiVersion: v1
kind: PodList
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: a
  spec:
    containers: [{name: c, image: nginx}]
- apiVersion: v1
  kind: Pod
  metadata:
    name: b
  spec:
    containers: [{name: c, image: nginx}]
`);
    expect(store.problems).toEqual([]);
    expect(store.objects.map((o) => o.object.metadata.name)).toEqual(['a', 'b']);
  });

  it('fixed: a typed list (PodList) as the apiserver returns it, items without apiVersion/kind, is skipped; kubectl gives each item the list kind without "List"', () => {
    const store = load(`apiVersion: v1
kind: PodList
items:
- metadata:
    name: a
  spec:
    containers: [{name: c, image: nginx}]
`);
    expect(store.problems).toEqual([]);
    expect(store.objects.map((o) => `${o.object.apiVersion} ${o.object.kind} ${o.object.metadata.name}`)).toEqual(['v1 Pod a']);
  });
});

describe('YAML 1.1 scalars, as kubectl reads them', () => {
  const pod = `apiVersion: v1
kind: Pod
metadata:
  name: web
  annotations:
    quoted: "yes"
    enabled: "on"
spec:
  hostNetwork: on
  enableServiceLinks: no
  automountServiceAccountToken: Off
  terminationGracePeriodSeconds: 1_000
  containers:
  - name: web
    image: nginx
    stdin: yes
  volumes:
  - name: tls
    secret:
      secretName: web-tls
      defaultMode: 0644
`;
  it('reads yes/no/on/off as booleans, 0644 as octal and 1_000 as 1000; quoted values stay strings', () => {
    const store = load(pod);
    expect(store.problems).toEqual([]);
    const o = only(store, 'Pod', 'web');
    expect(o.metadata.annotations).toEqual({ quoted: 'yes', enabled: 'on' });
    expect(o.spec).toMatchObject({
      hostNetwork: true,
      enableServiceLinks: false,
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 1000,
      containers: [{ stdin: true }],
      volumes: [{ secret: { defaultMode: 420 } }],
    });
  });

  it('a Service with publishNotReadyAddresses: yes is valid', () => {
    const store = load(`${SERVICE}  publishNotReadyAddresses: yes\n`);
    expect(store.problems).toEqual([]);
    expect(only(store, 'Service', 'web').spec).toMatchObject({ publishNotReadyAddresses: true });
  });

  it('fixed: a date-like label value (release: 2024-01-01) becomes a Date and is refused; kubectl keeps timestamps as strings', () => {
    const store = load('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    release: 2024-01-01\n');
    expect(store.problems).toEqual([]);
    expect(only(store, 'ConfigMap', 'c').metadata.labels).toEqual({ release: '2024-01-01' });
  });

  it('fixed: a time-like annotation (window: 02:30) becomes the base-60 number 150; kubectl reads the string "02:30"', () => {
    const store = load('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    window: 02:30\n');
    expect(store.problems).toEqual([]);
    expect(only(store, 'ConfigMap', 'c').metadata.annotations).toEqual({ window: '02:30' });
  });
});

describe('field positions', () => {
  const store = load(SERVICE, 'svc.yaml');
  const svc = only(store, 'Service', 'web');
  it.each([
    [['metadata', 'name'], '4:3'],
    [['metadata', 'labels', 'app.kubernetes.io/name'], '6:5'],
    [['spec', 'selector', 'app'], '9:5'],
    [['spec', 'ports'], '10:3'],
    [['spec', 'ports', 0], '11:5'],
    [['spec', 'ports', 1, 'port'], '15:5'],
    [['spec', 'ports', 1, 'targetPort'], '16:5'],
  ] as [FieldPath, string][])('%j is at %s', (path, expected) => {
    expect(at(store, svc, path)).toBe(expected);
  });

  it('an absent field is placed at its closest existing ancestor', () => {
    expect(at(store, svc, ['spec', 'ports', 1, 'nodePort'])).toBe('14:5');
    expect(at(store, svc, ['spec', 'ports', 5, 'port'])).toBe('10:3');
    expect(at(store, svc, ['spec', 'clusterIP'])).toBe('7:1');
  });

  it('fields inside flow collections and of workloads in a second document', () => {
    const s = load(`apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
        ports: [{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}]
`);
    expect(s.problems).toEqual([]);
    const d = only(s, 'Deployment', 'web');
    expect(at(s, d, ['spec', 'selector', 'matchLabels', 'app'])).toBe('11:28');
    expect(at(s, d, ['spec', 'template', 'spec', 'containers', 0, 'ports', 1, 'containerPort'])).toBe('19:68');
    expect(at(s, only(s, 'Namespace', 'shop'), ['metadata', 'name'])).toBe('3:12');
  });
});

describe('namespaces (-n)', () => {
  const text = `apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: prod}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: prod}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
`;
  it.each([
    [undefined, 'default'],
    ['shop', 'shop'],
  ])('-n %s: namespaced objects without one get %s; given namespaces and cluster-scoped objects are kept', (ns, expected) => {
    const store = load(text, 'm.yaml', ns);
    expect(store.problems).toEqual([]);
    expect(store.objects.map((o) => `${o.object.kind}/${o.object.metadata.namespace}/${o.object.metadata.name}`)).toEqual([
      `Service/${expected}/web`,
      'Service/prod/api',
      'Namespace//prod',
      'IngressClass//nginx',
    ]);
  });

  it('the same name in two namespaces is not a duplicate', () => {
    const store = load(`${SERVICE}---\n${SERVICE.replace('  name: web\n', '  name: web\n  namespace: shop\n')}`);
    expect(store.problems).toEqual([]);
    expect(store.objects).toHaveLength(2);
  });
});

describe('non-Kubernetes documents', () => {
  it('a document without apiVersion/kind (a Helm values file) is skipped with a warning; the rest loads', async () => {
    const text = `replicaCount: 2\nimage:\n  repository: nginx\n---\n${SERVICE}`;
    const store = load(text);
    expect(store.objects.map((o) => o.object.metadata.name)).toEqual(['web']);
    expect(store.problems).toMatchObject([{ code: 'KW-LOAD004', severity: 'warning', source: { file: 'm.yaml', line: 1, column: 1 } }]);
    const r = await run(['get', 'svc', '-f', '-'], tmpdir(), text);
    expect(r.code).toBe(0);
    expect(r.err).toContain('warning: <stdin>:1:1: document has no apiVersion/kind');
    expect(r.out).toMatch(/^web\s+ClusterIP\s/m);
  });
});

describe('-f DIR, -R and -f -', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kwire-loader-'));
    const svc = (name: string): string => SERVICE.replace('  name: web\n', `  name: ${name}\n`);
    await mkdir(join(dir, 'manifests', 'sub'), { recursive: true });
    await mkdir(join(dir, 'empty'));
    await writeFile(join(dir, 'manifests', '10-b.yaml'), svc('b'));
    await writeFile(join(dir, 'manifests', '2-a.yml'), svc('a'));
    await writeFile(join(dir, 'manifests', 'c.json'), JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'c' }, spec: { ports: [{ port: 80 }] } }));
    await writeFile(join(dir, 'manifests', 'notes.txt'), 'not a manifest: {');
    await writeFile(join(dir, 'manifests', 'README.md'), '# docs\n');
    await writeFile(join(dir, 'manifests', 'sub', 'd.yaml'), svc('d'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads only .yaml, .yml and .json files of the directory, in lexical order', async () => {
    const store = await loadStore({ files: [join(dir, 'manifests')], cwd: dir });
    expect(store.problems).toEqual([]);
    expect(store.objects.map((o) => `${o.source.file}:${o.object.metadata.name}`)).toEqual([
      join('manifests', '10-b.yaml:b'),
      join('manifests', '2-a.yml:a'),
      join('manifests', 'c.json:c'),
    ]);
  });

  it('-R also reads subdirectories, at their place in the order', async () => {
    const store = await loadStore({ files: [join(dir, 'manifests')], recursive: true, cwd: dir });
    expect(store.objects.map((o) => o.object.metadata.name)).toEqual(['b', 'a', 'c', 'd']);
    const r = await run(['get', 'svc', '-f', join(dir, 'manifests'), '-R'], dir);
    expect(r.code).toBe(0);
    // Every cluster has the API server's Service default/kubernetes first, as kubectl get svc shows it.
    expect(r.out.split('\n').slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['kubernetes', 'b', 'a', 'c', 'd']);
    const flat = await run(['get', 'svc', '-f', join(dir, 'manifests')], dir);
    expect(flat.out).not.toMatch(/^d\s/m);
  });

  it('a directory without manifests gives a warning that suggests -R', async () => {
    const store = await loadStore({ files: [join(dir, 'empty')], cwd: dir });
    expect(store.problems).toMatchObject([{ code: 'KW-LOAD005', severity: 'warning', hint: 'use -R to read subdirectories' }]);
  });

  it('-f - reads stdin through io.readStdin, and positions name <stdin>', async () => {
    const ok = await run(['get', 'svc', '-f', '-'], dir, SERVICE);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^web\s+ClusterIP\s/m);
    const bad = await run(['get', 'svc', '-f', '-'], dir, SERVICE.replace('port: 443', 'port: 0'));
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('error: <stdin>:15:5: Service default/web: spec.ports[1].port: Invalid value: 0');
  });

  it('-f given twice reads both sources, stdin included', async () => {
    const r = await run(['get', 'svc', '-f', join(dir, 'manifests', 'c.json'), '-f', '-'], dir, SERVICE);
    expect(r.code).toBe(0);
    expect(r.out.split('\n').slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['kubernetes', 'c', 'web']);
  });

  it('-n filters the output; objects that name no namespace stay in default (as `--help` says)', async () => {
    const inShop = await run(['get', 'svc', '-n', 'shop', '-f', '-'], dir, SERVICE.replace('  name: web\n', '  name: web\n  namespace: shop\n'));
    expect(inShop.code).toBe(0);
    expect(inShop.out).toMatch(/^web\s/m);
    const unnamed = await run(['get', 'svc', '-n', 'shop', '-f', '-'], dir, SERVICE);
    expect(unnamed.out).toBe('');
    expect(unnamed.err).toContain('No resources found in shop namespace.');
  });
});
