// Benchmark (run manually, never in tests): `kwire up` (its proxy workers) against Debian's nginx
// proxying the same route to the same backend, HTTP and HTTPS with keep-alive, measured with wrk on
// loopback; plus the time from start to first request. The backend is a dedicated process (a
// one-worker nginx answering a fixed JSON body like the echo program's), so neither proxy competes
// with it for a Node event loop. Runs alternate kwire/nginx; medians are reported.
// Run: npm run build && node bench/proxy.mjs [seconds=5] [rounds=3] [workers=2]
// Profile: KWIRE_PROF=/tmp/prof node bench/proxy.mjs  (CPU profiles of kwire's primary and workers)
// BACKEND_WORKERS=n gives the backend nginx more workers (to check it is not the bottleneck);
// BACKEND_ONLY=1 measures the backend alone. ACCESS_LOG=1 turns both proxies' access logs on (files).
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { loadStore } from '../dist/store/index.js';
import { buildNetworkState } from '../dist/controllers/index.js';
import { RunningCluster } from '../dist/proxy/index.js';

const ROOT = join(import.meta.dirname, '..');
const NOW = '2026-01-01T00:00:00Z';
const quiet = { info: () => {}, warn: () => {} };
const PORTS = { http: 18080, https: 18443, nginxHttp: 19080, nginxHttps: 19443, backend: 19090 };
const seconds = Number(process.argv[2] ?? 5);
const rounds = Number(process.argv[3] ?? 3);
const workers = Number(process.argv[4] ?? 2);

// Time from start to first request served (the course example, in-process).
const t0 = performance.now();
const store = await loadStore({ files: [join(ROOT, 'examples/course')], cwd: ROOT, readStdin: async () => '' });
const s0 = buildNetworkState({ objects: store.objects.map((o) => o.object), sourceOf: store.sourceOf }, { now: NOW, seed: 'bench' });
const c0 = await RunningCluster.start(s0, { httpPort: 0, httpsPort: 0, logger: quiet });
await new Promise((done) => request(`${c0.addresses[0].http}/bar`, { headers: { host: 'domain1.bar.com' } }, (r) => { r.resume(); r.on('end', done); }).end());
const firstMs = performance.now() - t0;
await c0.stop();

const dir = mkdtempSync(join(tmpdir(), 'kwire-bench-'));
const pem = (args) => promisify(execFile)('openssl', args, { cwd: dir });
await pem(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '2', '-subj', '/CN=domain2.foo.com']);
const body = JSON.stringify({ pod: { namespace: 'default', name: 'service3-bench', ip: '10.244.1.9', node: 'kwire-worker' }, container: 'app', port: 8080, request: { method: 'GET', path: '/', httpVersion: '1.1', headers: { host: 'domain2.foo.com', 'x-forwarded-for': '127.0.0.1', 'x-request-id': '0123456789abcdef0123456789abcdef' }, remoteAddress: '127.0.0.1', bodyBytes: 0 } });
const logs = Boolean(process.env.ACCESS_LOG);
const temp = `client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};`;
writeFileSync(join(dir, 'backend.conf'), `worker_processes ${process.env.BACKEND_WORKERS ?? 1};
pid ${dir}/backend.pid;
error_log ${dir}/backend-error.log;
events { worker_connections 1024; }
http {
  access_log off; ${temp}
  keepalive_requests 100000;
  server { listen 127.0.0.1:${PORTS.backend}; location / { default_type application/json; add_header x-kwire-pod default/service3-bench; return 200 '${body}'; } }
}
`);
writeFileSync(join(dir, 'nginx.conf'), `worker_processes 2;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 1024; }
http {
  access_log ${logs ? `${dir}/nginx-access.log` : 'off'}; ${temp}
  upstream pod { server 127.0.0.1:${PORTS.backend}; keepalive 64; }
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
const backend = spawn('/usr/sbin/nginx', ['-c', join(dir, 'backend.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
const nginx = spawn('/usr/sbin/nginx', ['-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });

const prof = process.env.KWIRE_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.KWIRE_PROF}`] : [];
const up = spawn(process.execPath, [...prof, join(ROOT, 'bin/kwire.js'), 'up', '-f', join(ROOT, 'examples/course'), '--now', NOW,
  '--backend', `svc/default/service3=http://127.0.0.1:${PORTS.backend}`, '--http-port', String(PORTS.http), '--https-port', String(PORTS.https),
  '--admin-port', '0', '--acme', 'off', '--access-log', logs ? join(dir, 'kwire-access.log') : 'none', '--workers', String(workers)], { env: { ...process.env, XDG_RUNTIME_DIR: dir }, stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((resolve, reject) => {
  let out = '';
  up.stdout.on('data', (c) => { out += c; if (out.includes('\n')) resolve(out); });
  up.once('exit', (code) => reject(new Error(`kwire up exited with ${code}`)));
});
await new Promise((r) => setTimeout(r, 300));

const wrk = async (url) => {
  const { stdout: out } = await promisify(execFile)('wrk', ['-t2', '-c32', `-d${seconds}s`, '--latency', '-H', 'Host: domain2.foo.com', url], { encoding: 'utf8' });
  if (process.env.DEBUG) console.log(out);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  const unit = (v, u) => Number(v) * ({ us: 0.001, ms: 1, s: 1000 }[u]);
  const p = (q) => { const m = new RegExp(`\\s${q}%\\s+([\\d.]+)(us|ms|s)`).exec(out); return unit(m[1], m[2]); };
  const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? '0') + Number(/Socket errors: .*?(\d+)/.exec(out)?.[1] ?? '0');
  return { rps, p50: p(50), p99: p(99), errors };
};
if (process.env.BACKEND_ONLY) {
  await new Promise((r) => setTimeout(r, 300));
  const { stdout } = await promisify(execFile)('wrk', ['-t2', '-c32', `-d${seconds}s`, `http://127.0.0.1:${PORTS.backend}/`]);
  console.log(`backend alone: ${/Requests\/sec:\s+([\d.]+)/.exec(stdout)[1]} req/s`);
}
for (const port of [PORTS.http, PORTS.https, PORTS.nginxHttp, PORTS.nginxHttps]) {
  await promisify(execFile)('wrk', ['-t2', '-c32', '-d1s', '-H', 'Host: domain2.foo.com', `${port % 1000 === 443 ? 'https' : 'http'}://127.0.0.1:${port}/`]);
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const runs = { http: { k: [], n: [] }, https: { k: [], n: [] } };
for (let r = 0; r < rounds; r++) {
  for (const scheme of ['http', 'https']) {
    const order = r % 2 ? ['n', 'k'] : ['k', 'n'];
    for (const who of order) {
      const port = who === 'k' ? (scheme === 'http' ? PORTS.http : PORTS.https) : scheme === 'http' ? PORTS.nginxHttp : PORTS.nginxHttps;
      const m = await wrk(`${scheme}://127.0.0.1:${port}/`);
      runs[scheme][who].push(m);
      console.log(`  round ${r + 1} ${scheme.padEnd(5)} ${who === 'k' ? 'kwire' : 'nginx'} ${m.rps.toFixed(0)} req/s p50 ${m.p50.toFixed(2)}ms p99 ${m.p99.toFixed(2)}ms${m.errors ? ` errors ${m.errors}` : ''}`);
    }
  }
}
console.log(`medians of ${rounds} runs of ${seconds}s, wrk -t2 -c32, kwire up --workers ${workers}, backend: ${process.env.BACKEND_WORKERS ?? 1}-worker nginx, access logs ${logs ? 'on' : 'off'}`);
for (const scheme of ['http', 'https']) {
  const agg = (xs) => ({ rps: median(xs.map((x) => x.rps)), p50: median(xs.map((x) => x.p50)), p99: median(xs.map((x) => x.p99)), errors: xs.reduce((a, x) => a + x.errors, 0) });
  const k = agg(runs[scheme].k);
  const n = agg(runs[scheme].n);
  console.log(`${scheme.padEnd(5)} kwire ${k.rps.toFixed(0)} req/s p50 ${k.p50.toFixed(2)}ms p99 ${k.p99.toFixed(2)}ms (errors ${k.errors}) | nginx ${n.rps.toFixed(0)} req/s p50 ${n.p50.toFixed(2)}ms p99 ${n.p99.toFixed(2)}ms | throughput ${(k.rps / n.rps).toFixed(2)}x (budget >= 0.45x), p99 ${(k.p99 / n.p99).toFixed(2)}x (budget <= 3x)`);
}
console.log(`start to first request served (course example, in-process): ${firstMs.toFixed(0)}ms`);
up.kill('SIGTERM');
await new Promise((r) => up.once('exit', r));
for (const pidFile of ['nginx.pid', 'backend.pid']) process.kill(Number(readFileSync(join(dir, pidFile), 'utf8')), 'SIGTERM');
await Promise.all([nginx, backend].map((p) => new Promise((r) => (p.exitCode === null ? p.once('exit', r) : r()))));
rmSync(dir, { recursive: true, force: true });
