// Benchmark (run manually, never in tests): kwire's ingress proxy (2 node:cluster workers, pooled
// upstreams) against Debian's nginx proxying the same route to the same backend pod, HTTP and
// HTTPS with keep-alive, measured with wrk on loopback; plus the time from start to first request.
// The pods' echo programs run in the primary process; the proxy data path in the workers.
// Run: npm run build && node bench/proxy.mjs [seconds]
import cluster from 'node:cluster';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { loadStore } from '../dist/store/index.js';
import { buildNetworkState } from '../dist/model/build.js';
import { PodPrograms, Snapshot, IngressProxy, RunningCluster, DEFAULT_LIMITS, makeDefaultCertificate } from '../dist/proxy/index.js';

const ROOT = join(import.meta.dirname, '..');
const OPTS = { now: '2026-01-01T00:00:00Z', seed: 'bench' };
const quiet = { info: () => {}, warn: () => {} };
const PORTS = { http: 18080, https: 18443, nginxHttp: 19080, nginxHttps: 19443 };

async function state() {
  const store = await loadStore({ files: [join(ROOT, 'examples/course')], cwd: ROOT, readStdin: async () => '' });
  return buildNetworkState({ objects: store.objects.map((o) => o.object), sourceOf: store.sourceOf }, OPTS);
}

if (cluster.isWorker) {
  const s = await state();
  const pods = new Map(JSON.parse(process.env.KWIRE_PODS));
  const cert = JSON.parse(process.env.KWIRE_CERT);
  await IngressProxy.start(new Snapshot(s, pods), { httpPort: PORTS.http, httpsPort: PORTS.https, limits: DEFAULT_LIMITS, logger: quiet, defaultCertificate: cert });
  process.send('ready');
} else {
  const seconds = Number(process.argv[2] ?? 5);
  // Time from start to first request served (the course example, in-process).
  const t0 = performance.now();
  const s0 = await state();
  const c0 = await RunningCluster.start(s0, { httpPort: 0, httpsPort: 0, logger: quiet });
  await new Promise((done) => request(`${c0.addresses[0].http}/bar`, { headers: { host: 'domain1.bar.com' } }, (r) => { r.resume(); r.on('end', done); }).end());
  const firstMs = performance.now() - t0;
  await c0.stop();

  const s = await state();
  const pods = new PodPrograms();
  await pods.sync(s);
  const cert = await makeDefaultCertificate();
  const svc1 = s.pods.filter((p) => p.name.startsWith('service3-'))[0];
  const backendPort = pods.ports.get(`${svc1.ip}:8080/TCP`);
  const workers = [0, 1].map(() => cluster.fork({ KWIRE_PODS: JSON.stringify([...pods.ports]), KWIRE_CERT: JSON.stringify(cert) }));
  await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));

  const dir = mkdtempSync(join(tmpdir(), 'kwire-bench-'));
  writeFileSync(join(dir, 'cert.pem'), cert.cert);
  writeFileSync(join(dir, 'key.pem'), cert.key);
  writeFileSync(join(dir, 'nginx.conf'), `worker_processes 2;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  upstream pod { server 127.0.0.1:${backendPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${PORTS.nginxHttp};
    listen 127.0.0.1:${PORTS.nginxHttps} ssl;
    ssl_certificate ${dir}/cert.pem; ssl_certificate_key ${dir}/key.pem;
    server_name domain2.foo.com;
    location / { proxy_pass http://pod; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr; proxy_set_header X-Request-ID $request_id; }
  }
}
`);
  const nginx = spawn('/usr/sbin/nginx', ['-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));

  const wrk = async (url) => {
    const { stdout: out } = await promisify(execFile)('wrk', ['-t2', '-c32', `-d${seconds}s`, '--latency', '-H', 'Host: domain2.foo.com', url], { encoding: 'utf8' });
    if (process.env.DEBUG) console.log(out);
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
    const unit = (v, u) => Number(v) * ({ us: 0.001, ms: 1, s: 1000 }[u]);
    const p = (q) => { const m = new RegExp(`\\s${q}%\\s+([\\d.]+)(us|ms|s)`).exec(out); return unit(m[1], m[2]); };
    const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? '0';
    return { rps, p50: p(50), p99: p(99), errors };
  };
  const rows = [];
  for (const scheme of ['http', 'https']) {
    const k = await wrk(`${scheme}://127.0.0.1:${scheme === 'http' ? PORTS.http : PORTS.https}/`);
    const n = await wrk(`${scheme}://127.0.0.1:${scheme === 'http' ? PORTS.nginxHttp : PORTS.nginxHttps}/`);
    rows.push({ scheme, k, n });
  }
  for (const { scheme, k, n } of rows) {
    console.log(`${scheme.padEnd(5)} kwire ${k.rps.toFixed(0)} req/s p50 ${k.p50.toFixed(2)}ms p99 ${k.p99.toFixed(2)}ms (non-2xx ${k.errors}) | nginx ${n.rps.toFixed(0)} req/s p50 ${n.p50.toFixed(2)}ms p99 ${n.p99.toFixed(2)}ms | throughput ${(k.rps / n.rps).toFixed(2)}x (budget >= 0.45x), p99 ${(k.p99 / n.p99).toFixed(2)}x (budget <= 3x)`);
  }
  console.log(`start to first request served (course example, in-process): ${firstMs.toFixed(0)}ms`);
  process.kill(Number(readFileSync(join(dir, 'nginx.pid'), 'utf8')), 'SIGTERM');
  for (const w of workers) w.kill();
  await pods.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
