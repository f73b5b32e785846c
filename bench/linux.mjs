// Benchmark of the Linux plane (root on Linux; manual, never a timed test).
// Budgets: 3 nodes x 100 pods ready < 5 s; 10,000 Services in one nft transaction < 300 ms;
// a relabel or policy edit applied < 50 ms; connections/s through a ClusterIP vs the pod IP.
// Run: npm run build && sudo node bench/linux.mjs
import { performance } from 'node:perf_hooks';
import { execFileSync } from 'node:child_process';
import { storeFromTexts } from '../dist/store/index.js';
import { buildNetworkState } from '../dist/controllers/index.js';
import { linuxUp, renderKubeProxy } from '../dist/linux/index.js';

function stateOf(docs) {
  const store = storeFromTexts([{ file: 'bench.yaml', text: docs.map((d) => JSON.stringify(d)).join('\n---\n') }]);
  const errors = store.problems.filter((p) => p.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => e.message).join('\n'));
  return buildNetworkState({ objects: store.objects.map((o) => o.object), sourceOf: store.sourceOf });
}

const cluster = { apiVersion: 'kwire.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'bench' } };
const deploy = (name, replicas, labels) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name, ...labels } }, spec: { containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: 8080 }, { name: 'udp', containerPort: 8080, protocol: 'UDP' }] }] } } },
});
const svc = (name, app) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app }, ports: [{ port: 80, targetPort: 8080 }] } });
const policy = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'web-from-client' }, spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ port: 8080 }] }] } };
const base = [cluster, deploy('web', 290), deploy('client', 10, { role: 'client' }), svc('web', 'web'), policy];

const state = stateOf(base);
console.log(`pods=${state.pods.length} nodes=${state.nodes.length}`);
const plane = await linuxUp(state);
try {
  console.log(`ready: 3 nodes x ${state.pods.length / 3} pods in ${plane.timings.total} ms (budget 5000)`, plane.timings);

  const relabeled = {
    ...state,
    pods: state.pods.map((p) => (p.labels.role === 'client' ? { ...p, labels: { ...p.labels, role: 'caller' } } : p)),
    networkPolicies: state.networkPolicies.map((np) => ({ ...np, spec: { ...np.spec, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'caller' } } }], ports: [{ port: 8080 }] }] } })),
  };
  const relabelOnly = { ...state, pods: relabeled.pods };
  const edits = [];
  for (let i = 0; i < 6; i++) edits.push((await plane.apply(i % 2 === 0 ? relabelOnly : state)).ms);
  console.log(`relabel applied (set elements only): ${edits.map((m) => m.toFixed(1)).join(', ')} ms (budget 50)`);
  const policyEdits = [];
  for (let i = 0; i < 6; i++) policyEdits.push((await plane.apply(i % 2 === 0 ? relabeled : state)).ms);
  console.log(`relabel + policy edit applied (table replaced): ${policyEdits.map((m) => m.toFixed(1)).join(', ')} ms (budget 50)`);

  const client = state.pods.find((p) => p.labels.role === 'client');
  const web = state.pods.find((p) => p.labels.app === 'web');
  const cip = state.services.find((s) => s.name === 'web').clusterIP;
  for (const [what, to, port] of [['pod IP', web.ip, 8080], ['ClusterIP', cip, 80]]) {
    const n = 2000;
    const probes = Array.from({ length: n }, () => ({ from: { pod: `${client.namespace}/${client.name}` }, to, port, protocol: 'TCP', timeoutMs: 5000 }));
    const t0 = performance.now();
    const out = await plane.probe(probes);
    const ms = performance.now() - t0;
    console.log(`${what}: ${n} connections (connect + request + reply) in ${ms.toFixed(0)} ms = ${(n / (ms / 1000)).toFixed(0)} conn/s, ${out.filter((o) => o.connected).length} ok`);
  }

  const pods = state.pods.filter((p) => p.labels.app === 'web');
  const services = Array.from({ length: 10000 }, (_, i) => ({
    ...state.services.find((x) => x.name === 'web'),
    name: `s${i}`,
    clusterIP: `10.${100 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`,
  }));
  const slices = services.map((x, i) => {
    const pod = pods[i % pods.length];
    return { namespace: 'default', name: `${x.name}-abcde`, service: x.name, addressType: 'IPv4', ports: [{ name: '', port: 8080, protocol: 'TCP' }], endpoints: [{ addresses: [pod.ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: pod.node }], managedBy: 'endpointslice-controller.k8s.io' };
  });
  const many = { ...state, services: [...state.services, ...services], endpointSlices: [...state.endpointSlices, ...slices] };
  const node = many.nodes[0];
  const t0 = performance.now();
  const script = renderKubeProxy(many, node);
  const t1 = performance.now();
  execFileSync('ip', ['netns', 'exec', plane.names.node(node.name), 'nft', '-f', '-'], { input: script });
  const t2 = performance.now();
  console.log(`10,000 Services: render ${(t1 - t0).toFixed(0)} ms, one nft transaction ${(t2 - t1).toFixed(0)} ms (budget 300), ${script.length} bytes`);
} finally {
  await plane.down();
}
