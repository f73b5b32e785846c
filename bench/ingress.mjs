// Benchmark (issue 4): compile 5,000 Ingresses with 20,000 paths and route requests against them
// (budget: p99 < 50 µs per request). Run: npm run build && node bench/ingress.mjs [ingresses]
import { performance } from 'node:perf_hooks';
import { storeFromTexts } from '../dist/store/index.js';
import { buildNetworkState } from '../dist/controllers/index.js';
import { compileRoutes } from '../dist/controllers/ingress/index.js';
import { routeRequest } from '../dist/model/routing/index.js';

const ingresses = Number(process.argv[2] ?? 5000);
const docs = [];
for (let i = 0; i < ingresses; i++) {
  const host = i % 10 === 0 ? `*.w${i}.example.com` : `app${i}.example.com`;
  const paths = [0, 1, 2, 3].map((p) => `      - path: /api/v${p}/s${i}\n        pathType: ${p % 2 ? 'Exact' : 'Prefix'}\n        backend:\n          service:\n            name: svc-${i % 500}\n            port:\n              number: 80`);
  docs.push(`apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: ing-${i}\n  namespace: ns-${i % 50}\nspec:\n  rules:\n  - host: "${host}"\n    http:\n      paths:\n${paths.join('\n')}`);
}
const store = storeFromTexts([{ file: 'bench.yaml', text: docs.join('\n---\n') }]);
const state = buildNetworkState({ objects: store.objects.map((o) => o.object), sourceOf: store.sourceOf });
const t0 = performance.now();
const routing = compileRoutes(state);
const compileMs = performance.now() - t0;
const requests = [];
for (let i = 0; i < 20000; i++) {
  const n = (i * 7919) % ingresses;
  const host = n % 10 === 0 ? `x.w${n}.example.com` : `APP${n}.example.com`;
  const kind = i % 4;
  const path = kind === 0 ? `/api/v0/s${n}/deeper/path` : kind === 1 ? `/api/v1/s${n}` : kind === 2 ? `/api/v2/s${n}x` : '/nothing/here';
  requests.push({ scheme: 'http', host, path });
}
for (const r of requests.slice(0, 2000)) routeRequest(routing, 'ingress-nginx', r);
const times = new Float64Array(requests.length);
const statuses = new Map();
for (let i = 0; i < requests.length; i++) {
  const a = performance.now();
  const d = routeRequest(routing, 'ingress-nginx', requests[i]);
  times[i] = performance.now() - a;
  const k = d.kind === 'backend' ? 'backend' : String(d.status);
  statuses.set(k, (statuses.get(k) ?? 0) + 1);
}
times.sort();
const us = (ms) => (ms * 1000).toFixed(1);
const paths = state.ingresses.reduce((n, i) => n + (i.spec.rules ?? []).reduce((m, r) => m + (r.http?.paths.length ?? 0), 0), 0);
console.log(`ingresses=${state.ingresses.length} paths=${paths} compile=${compileMs.toFixed(0)}ms requests=${requests.length} p50=${us(times[times.length >> 1])}µs p99=${us(times[Math.floor(times.length * 0.99)])}µs max=${us(times[times.length - 1])}µs outcomes=${JSON.stringify(Object.fromEntries(statuses))}`);
