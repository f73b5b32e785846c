// Benchmark of the Linux plane (root on Linux with bird2, frr and iputils-arping; manual, never a
// timed test). Budgets: 3 nodes x 100 pods ready, with BIRD and FRR up and the routes converged,
// < 5 s; 10,000 Services in one nft transaction < 300 ms; a relabel or policy edit applied < 50 ms.
// Also measured: how long outside clients go without answers when MetalLB fails over (layer 2:
// a new holder and gratuitous ARP; BGP: the stopped node's speaker sends a Cease, the router
// withdraws it), and connections/s through a ClusterIP vs the pod IP.
// Run: npm run build && sudo node bench/linux.mjs [--rounds N]
import { performance } from 'node:perf_hooks';
import { execFileSync, spawn } from 'node:child_process';
import { storeFromTexts } from '../dist/store/index.js';
import { buildNetworkState, compileNetwork } from '../dist/controllers/index.js';
import { linuxUp, renderKubeProxy } from '../dist/linux/index.js';
import { plainState } from '../dist/model/state.js';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] || 5);

function stateOf(docs, opts = {}) {
  const store = storeFromTexts([{ file: 'bench.yaml', text: docs.map((d) => JSON.stringify(d)).join('\n---\n') }]);
  const errors = store.problems.filter((p) => p.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => e.message).join('\n'));
  return buildNetworkState({ objects: store.objects.map((o) => o.object), sourceOf: store.sourceOf }, opts);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cluster = { apiVersion: 'kwire.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'bench' } };
const deploy = (name, replicas, labels) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name, ...labels } }, spec: { containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: 8080 }, { name: 'udp', containerPort: 8080, protocol: 'UDP' }] }] } } },
});
const svc = (name, app, spec = {}, annotations = {}) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, annotations }, spec: { selector: { app }, ports: [{ port: 80, targetPort: 8080 }], ...spec } });
const policy = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'web-from-client' }, spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ port: 8080 }] }] } };
const metallb = [
  { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'l2', namespace: 'metallb-system' }, spec: { addresses: ['198.51.100.10-198.51.100.20'] } },
  { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'bgp', namespace: 'metallb-system' }, spec: { addresses: ['198.51.100.128/26'], autoAssign: false } },
  { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'l2', namespace: 'metallb-system' }, spec: { ipAddressPools: ['l2'] } },
  { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'router', namespace: 'metallb-system' }, spec: { myASN: 64513, peerASN: 64512, peerAddress: '172.18.255.254', holdTime: '9s' } },
  { apiVersion: 'metallb.io/v1beta1', kind: 'BGPAdvertisement', metadata: { name: 'bgp', namespace: 'metallb-system' }, spec: { ipAddressPools: ['bgp'], communities: ['64512:100'] } },
];
const base = [cluster, deploy('web', 289, {}), deploy('client', 10, { role: 'client' }), svc('web', 'web'), svc('web-l2', 'client', { type: 'LoadBalancer' }), svc('web-bgp', 'client', { type: 'LoadBalancer' }, { 'metallb.io/address-pool': 'bgp' }), policy, ...metallb];

/**
 * Connects from the outside world to ip:80 every 20 ms (50 ms connect timeout) while `act` runs;
 * returns the longest time without an answer.
 */
async function outage(plane, ip, act) {
  const script = `
    const net = require('net');
    const until = Date.now() + Number(process.argv[2]);
    let last = Date.now(), worst = 0, fails = 0;
    const tick = () => {
      if (Date.now() > until) { console.log(JSON.stringify({ worst, fails })); return; }
      const s = net.connect({ host: process.argv[1], port: 80 });
      let settled = false;
      const done = (ok) => { if (settled) return; settled = true; clearTimeout(t); s.destroy(); const now = Date.now(); if (ok) { worst = Math.max(worst, now - last); last = now; } else fails++; setTimeout(tick, 20); };
      const t = setTimeout(() => done(false), 50);
      s.once('connect', () => done(true)); s.once('error', () => done(false));
    };
    tick();`;
  const child = spawn('ip', ['netns', 'exec', plane.names.external, process.execPath, '-e', script, ip, '4000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await new Promise((r) => setTimeout(r, 500));
  await act();
  await new Promise((r) => child.on('exit', r));
  return JSON.parse(out);
}

const state = stateOf(base);
console.log(`pods=${state.pods.length} nodes=${state.nodes.length} (machine: ${execFileSync('nproc').toString().trim()} cores, load ${execFileSync('cat', ['/proc/loadavg']).toString().split(' ').slice(0, 3).join(' ')})`);
const plane = await linuxUp(state);
try {
  const { total, ...phases } = plane.timings;
  console.log(`ready with BIRD and FRR converged: 3 nodes x ${Math.round(state.pods.length / 3)} pods in ${total} ms (budget 5000)`, phases);
  const bgpRoute = execFileSync('ip', ['-n', plane.names.external, 'route', 'show', 'proto', 'bgp']).toString().trim().split('\n')[0];
  console.log(`router's route: ${bgpRoute} (${(execFileSync('ip', ['-n', plane.names.external, 'route', 'show', 'proto', 'bgp']).toString().match(/nexthop via/g) ?? []).length} next hops)`);

  const l2ip = state.services.find((s) => s.name === 'web-l2').loadBalancerIngress[0].ip;
  const bgpip = state.services.find((s) => s.name === 'web-bgp').loadBalancerIngress[0].ip;
  const holder = state.metallb.announcements.byService.get('default/web-l2')[0].l2.winner;
  const stopped = stateOf(base, { stoppedNodes: [holder] });
  const l2 = [];
  const bgp = [];
  const stopMs = [];
  for (let i = 0; i < rounds; i++) {
    l2.push(await outage(plane, l2ip, async () => { stopMs.push((await plane.apply(stopped)).ms); }));
    await plane.apply(state);
    await plane.bgpConverged(8000);
    bgp.push(await outage(plane, bgpip, async () => { await plane.apply(stopped); }));
    await plane.apply(state);
    await plane.bgpConverged(8000);
  }
  console.log(`node stop applied (links down, re-election, nft on 3 nodes): median ${median(stopMs).toFixed(0)} ms (${stopMs.map((m) => m.toFixed(0)).join(', ')})`);
  console.log(`layer-2 failover (stop the holder ${holder}; gratuitous ARP from the new holder): clients without answers for median ${median(l2.map((x) => x.worst))} ms (${l2.map((x) => `${x.worst} ms/${x.fails} failed`).join(', ')})`);
  console.log(`BGP failover (stop ${holder}; its speaker's Cease withdraws it): clients without answers for median ${median(bgp.map((x) => x.worst))} ms (${bgp.map((x) => `${x.worst} ms/${x.fails} failed`).join(', ')})`);

  const relabelOnly = compileNetwork({ ...plainState(state), pods: state.pods.map((p) => (p.labels.role === 'client' ? { ...p, labels: { ...p.labels, role: 'caller' } } : p)) });
  const relabeled = compileNetwork({ ...plainState(relabelOnly), networkPolicies: state.networkPolicies.map((np) => ({ ...np, spec: { ...np.spec, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'caller' } } }], ports: [{ port: 8080 }] }] } })) });
  const edits = [];
  for (let i = 0; i < 6; i++) edits.push((await plane.apply(i % 2 === 0 ? relabelOnly : state)).ms);
  console.log(`relabel applied: median ${median(edits).toFixed(1)} ms (${edits.map((m) => m.toFixed(1)).join(', ')}; budget 50)`);
  const policyEdits = [];
  for (let i = 0; i < 6; i++) policyEdits.push((await plane.apply(i % 2 === 0 ? relabeled : state)).ms);
  console.log(`relabel + policy edit applied: median ${median(policyEdits).toFixed(1)} ms (${policyEdits.map((m) => m.toFixed(1)).join(', ')}; budget 50)`);

  const client = state.pods.find((p) => p.labels.role === 'client');
  const web = state.pods.find((p) => p.labels.app === 'web');
  const cip = state.services.find((s) => s.name === 'web').clusterIP;
  for (const [what, to, port] of [['pod IP', web.ip, 8080], ['ClusterIP', cip, 80], ['pod IP', web.ip, 8080], ['ClusterIP', cip, 80]]) {
    const n = 2000;
    const probes = Array.from({ length: n }, () => ({ from: { pod: `${client.namespace}/${client.name}` }, to, port, protocol: 'TCP', timeoutMs: 5000 }));
    const t0 = performance.now();
    const out = await plane.rawProbe(probes);
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
