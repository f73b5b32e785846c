// Benchmark: load + validate + reconcile a synthetic cluster of N objects (budget: 10,000 in < 1 s).
// Run: npm run build && node bench/load.mjs [objects...]
import { performance } from 'node:perf_hooks';
import { storeFromTexts } from '../dist/store/index.js';
import { buildNetworkState } from '../dist/controllers/index.js';
import { syntheticCluster } from './synthetic.mjs';

const sizes = process.argv.slice(2).map(Number).filter(Boolean);
const runs = 5;
for (const n of sizes.length ? sizes : [1000, 10000]) {
  const text = syntheticCluster(n);
  const times = { load: [], reconcile: [], total: [] };
  let state;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const store = storeFromTexts([{ file: 'synthetic.yaml', text }]);
    const t1 = performance.now();
    state = buildNetworkState({ objects: store.objects.map((o) => o.object), sourceOf: store.sourceOf });
    const t2 = performance.now();
    if (store.problems.some((p) => p.severity === 'error')) throw new Error('synthetic input has errors');
    times.load.push(t1 - t0);
    times.reconcile.push(t2 - t1);
    times.total.push(t2 - t0);
  }
  const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)].toFixed(0);
  const rssMiB = (process.resourceUsage().maxRSS / 1024).toFixed(0);
  console.log(
    `objects=${n} bytes=${text.length} pods=${state.pods.length} services=${state.services.length} ` +
      `load+validate=${med(times.load)}ms reconcile=${med(times.reconcile)}ms total=${med(times.total)}ms (median of ${runs}) peakRSS=${rssMiB}MiB`,
  );
}
