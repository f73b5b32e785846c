// Benchmark (issue 3): load + workload-granularity reach for a synthetic cluster, peak memory, and
// the median/p99 of 1,000 traces after load. Budget: 10k pods / 2k policies / 1k services < 2 s and
// < 1 GiB; one trace < 5 ms p99. Run: npm run build && node bench/reach.mjs [pods...]
import { performance } from 'node:perf_hooks';
import { storeFromTexts } from '../dist/store/index.js';
import { buildNetworkState } from '../dist/controllers/index.js';
import { computeReach, reachFormats } from '../dist/sim/reach/index.js';
import { createTracer } from '../dist/sim/trace/index.js';
import { connectionOf } from '../dist/cli/trace/index.js';
import { policyCluster } from './policy-cluster.mjs';

const sizes = process.argv.slice(2).map(Number).filter(Boolean);
for (const pods of sizes.length ? sizes : [1000, 2500, 5000, 10000]) {
  const scale = pods / 10000;
  const text = policyCluster({ pods, namespaces: Math.max(10, Math.round(500 * scale)), policies: Math.round(2000 * scale), services: Math.round(1000 * scale) });
  const t0 = performance.now();
  const store = storeFromTexts([{ file: 'bench.yaml', text }]);
  const state = buildNetworkState({ objects: store.objects.map((o) => o.object), sourceOf: store.sourceOf });
  const t1 = performance.now();
  const reach = computeReach(state, state.policies, { granularity: 'workload' });
  const t2 = performance.now();
  const json = reachFormats.json(reach);
  const t3 = performance.now();
  const tracer = createTracer(state);
  const users = state.pods.filter((p) => !p.addon);
  const svcs = state.services.filter((s) => !s.addon);
  const times = [];
  for (let i = 0; i < 1000; i++) {
    const src = users[(i * 7919) % users.length];
    const svc = svcs[(i * 104729) % svcs.length];
    const a = performance.now();
    tracer.trace(connectionOf(`pod/${src.namespace}/${src.name}`, `svc/${svc.namespace}/${svc.name}:80`));
    times.push(performance.now() - a);
  }
  times.sort((a, b) => a - b);
  const rss = (process.resourceUsage().maxRSS / 1024).toFixed(0);
  console.log(
    `pods=${state.pods.length} policies=${state.networkPolicies.length} services=${svcs.length} ` +
      `load+reconcile+compile=${(t1 - t0).toFixed(0)}ms reach=${(t2 - t1).toFixed(0)}ms json=${(t3 - t2).toFixed(0)}ms ` +
      `pairs=${reach.connections.length} peakRSS=${rss}MiB trace p50=${times[500].toFixed(3)}ms p99=${times[990].toFixed(3)}ms`,
  );
}
