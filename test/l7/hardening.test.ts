/**
 * The proxy's behaviour at the edges, over real sockets: WebSocket pass-through, oversized
 * headers (431), slow clients (slowloris), proxy-body-size while streaming (413), no endpoints
 * (503), upstream and policy timeouts (504), hot reload under load, metrics, access log, the
 * ACME HTTP-01 responder, runtime certificates and backend overrides.
 */
import { createServer, request as httpRequest } from 'node:http';
import { connect as netConnect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELAY_HEADER, readFrame, type AccessRecord, type EchoReply, type RunningCluster } from '../../src/proxy/index.js';
import { courseTexts, get, getTls, start, stateOf } from './support.js';

const EXTRA = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: limits
  annotations:
    nginx.ingress.kubernetes.io/proxy-body-size: 1k
spec:
  ingressClassName: nginx
  rules:
  - host: limits.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: service1, port: {number: 80}}}}
      - {path: /empty, pathType: Prefix, backend: {service: {name: nobody, port: {number: 80}}}}
---
apiVersion: v1
kind: Service
metadata: {name: nobody}
spec:
  selector: {app: nobody}
  ports: [{port: 80, targetPort: 8080}]
`;

const DENY_CONTROLLER = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: default}
spec:
  podSelector: {matchLabels: {app: service3}}
  policyTypes: [Ingress]
`;

const texts = [...courseTexts(), EXTRA];
const state = stateOf(texts);
const records: AccessRecord[] = [];
let cluster: RunningCluster;
let http = '';
let https = '';

beforeAll(async () => {
  cluster = await start(state, { adminPort: 0, accessLog: (r) => records.push(r), limits: { deniedTimeoutMs: 150, connectTimeoutMs: 150, upstreamTimeoutMs: 300, headersTimeoutMs: 300, maxHeaderBytes: 4096 } });
  http = cluster.addresses[0]?.http ?? '';
  https = cluster.addresses[0]?.https ?? '';
});
afterAll(async () => {
  await cluster.stop();
});

function raw(base: string, payload: string | Buffer, waitMs = 3000): Promise<{ data: string; closedAfterMs: number }> {
  const u = new URL(base);
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s = netConnect(Number(u.port), u.hostname, () => s.write(payload));
    let data = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (data += d));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ data, closedAfterMs: Date.now() - t0 });
    });
    const timer = setTimeout(() => {
      s.destroy();
    }, waitMs);
  });
}

describe('hardening', () => {
  it('answers 431 to oversized headers', async () => {
    const r = await raw(http, `GET /bar HTTP/1.1\r\nHost: domain1.bar.com\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`);
    expect(r.data.startsWith('HTTP/1.1 431')).toBe(true);
  });

  it('cuts off a client that dribbles its headers (slowloris)', async () => {
    const u = new URL(http);
    const result = await new Promise<{ data: string; ms: number }>((resolve) => {
      const t0 = Date.now();
      const s = netConnect(Number(u.port), u.hostname, () => s.write('GET /bar HTTP/1.1\r\nHost: domain1.bar.com\r\n'));
      const drip = setInterval(() => s.write('X-A: b\r\n'), 50);
      let data = '';
      s.on('data', (d: Buffer) => (data += d.toString()));
      s.on('error', () => undefined);
      s.on('close', () => {
        clearInterval(drip);
        resolve({ data, ms: Date.now() - t0 });
      });
    });
    expect(result.data.startsWith('HTTP/1.1 408')).toBe(true);
    expect(result.ms).toBeLessThan(3000);
  });

  it('enforces proxy-body-size while streaming a chunked body (413)', async () => {
    const u = new URL(http);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ hostname: u.hostname, port: Number(u.port), method: 'POST', path: '/', headers: { host: 'limits.example.com', 'transfer-encoding': 'chunked' }, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      let n = 0;
      const pump = setInterval(() => {
        if (n++ > 20 || req.destroyed) { clearInterval(pump); return; }
        req.write(randomBytes(256));
      }, 5);
    });
    expect(status).toBe(413);
  });

  it('rejects a declared body over proxy-body-size at once, passes a small one', async () => {
    const big = await get(http, 'limits.example.com', '/', { 'content-length': '5000' }, 'POST');
    expect(big.status).toBe(413);
    const small = await get(http, 'limits.example.com', '/', {}, 'POST');
    expect(small.status).toBe(200);
  });

  it('answers 503 when the Service has no endpoints', async () => {
    expect((await get(http, 'limits.example.com', '/empty')).status).toBe(503);
  });

  it('answers 504 when the upstream is too slow', async () => {
    expect((await get(http, 'domain1.bar.com', '/bar', { [DELAY_HEADER]: '2000' })).status).toBe(504);
  });

  it('passes a WebSocket upgrade through and echoes frames', async () => {
    const key = randomBytes(16).toString('base64');
    const u = new URL(http);
    const frames = await new Promise<string[]>((resolve, reject) => {
      const s = netConnect(Number(u.port), u.hostname, () => {
        s.write(`GET /foo HTTP/1.1\r\nHost: domain1.bar.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`);
      });
      let buf = Buffer.alloc(0);
      let upgraded = false;
      const got: string[] = [];
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (!upgraded) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          got.push(buf.subarray(0, end).toString().split('\r\n')[0] ?? '');
          buf = buf.subarray(end + 4);
          upgraded = true;
          const mask = randomBytes(4);
          const payload = Buffer.from('hello kwire');
          const masked = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] ?? 0)));
          s.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
        }
        for (;;) {
          const f = readFrame(buf);
          if (!f) break;
          buf = buf.subarray(f.size);
          got.push(f.payload.toString());
          if (got.length === 3) {
            s.destroy();
            resolve(got);
          }
        }
      });
      s.on('error', reject);
    });
    expect(frames[0]).toBe('HTTP/1.1 101 Switching Protocols');
    expect((JSON.parse(frames[1] ?? '{}') as { pod: { name: string } }).pod.name).toMatch(/^service2-/);
    expect(frames[2]).toBe('hello kwire');
  });

  it('answers ACME HTTP-01 challenges from the injected responder before routing', async () => {
    cluster.setHttp01Responder({ get: (t) => (t === 'tok123' ? 'tok123.thumb' : undefined) });
    const ok = await get(http, 'example.example.com', '/.well-known/acme-challenge/tok123');
    expect([ok.status, ok.body, ok.headers['content-type']]).toEqual([200, 'tok123.thumb', 'text/plain']);
    expect((await get(http, 'example.example.com', '/.well-known/acme-challenge/other')).status).toBe(404);
    cluster.setHttp01Responder(undefined);
    expect((await get(http, 'example.example.com', '/.well-known/acme-challenge/tok123')).status).toBe(308);
  });

  it('serves certificates handed over at runtime without a restart', async () => {
    const secret = state.certManager?.secrets[0];
    expect(secret).toBeDefined();
    const before = await getTls(https, 'example.example.com', '/');
    cluster.setCertificates([{ namespace: 'default', name: 'quickstart-example-tls', data: { 'tls.crt': secret!.data['tls.crt'], 'tls.key': secret!.data['tls.key'] } }]);
    const after = await getTls(https, 'example.example.com', '/');
    expect(after.cert.fingerprint256).toBe(before.cert.fingerprint256);
    expect(after.status).toBe(200);
  });

  it('exposes Prometheus metrics and writes the access log', async () => {
    await get(http, 'domain2.foo.com', '/metrics-check');
    const m = await get(cluster.adminAddress ?? '', 'localhost', '/metrics');
    expect(m.body).toMatch(/kwire_ingress_requests_total\{controller="ingress-nginx",ingress="default\/ingress-wildcard-host",service="default\/service3",status="200"\} \d+/);
    expect(m.body).toContain('kwire_ingress_request_duration_seconds_bucket{controller="ingress-nginx",ingress="default/ingress-wildcard-host",le="+Inf"}');
    const rec = records.find((r) => r.path === '/metrics-check');
    expect(rec).toMatchObject({ host: 'domain2.foo.com', status: 200, client: '172.18.0.3', peer: '127.0.0.1', service: 'default/service3', upstream: expect.stringMatching(/^default\/service3-/) as unknown });
    expect(rec?.bytes).toBeGreaterThan(0);
  });

  it('sends a Service to a backend override', async () => {
    const own = createServer((_req, res) => res.end('my app'));
    await new Promise<void>((r) => own.listen(0, '127.0.0.1', r));
    const port = (own.address() as { port: number }).port;
    const other = await start(state, { backends: new Map([['default/service3', new URL(`http://127.0.0.1:${port}`)]]) });
    try {
      const r = await get(other.addresses[0]?.http ?? '', 'domain2.foo.com', '/');
      expect(r.body).toBe('my app');
    } finally {
      await other.stop();
      own.close();
    }
  });
});

describe('live changes', () => {
  it('a policy that blocks the controller gives 504 after the timeout, and the log names it', async () => {
    const denied = await start(stateOf([...texts, DENY_CONTROLLER]), { accessLog: (r) => records.push(r) });
    try {
      const r = await get(denied.addresses[0]?.http ?? '', 'domain2.foo.com', '/denied');
      expect(r.status).toBe(504);
      expect(records.find((x) => x.path === '/denied')?.reason).toMatch(/NetworkPolicy default\/deny-all drops ingress/);
    } finally {
      await denied.stop();
    }
  });

  it('swaps the configuration under load with zero failed requests', async () => {
    const edited = stateOf([...texts.map((t) => t.replace('name: service3\n            port:', 'name: service1\n            port:'))]);
    let failed = 0;
    const seen = new Set<string>();
    let stop = false;
    const load = (async () => {
      for (let i = 0; i < 400 && !stop; i++) {
        const r = await get(http, 'domain2.foo.com', `/load/${i}`);
        if (r.status !== 200) failed++;
        else seen.add((JSON.parse(r.body) as EchoReply).pod.name.split('-')[0] ?? '');
      }
    })();
    const loads = [load, ...[1, 2, 3].map(async () => {
      for (let i = 0; i < 100 && !stop; i++) if ((await get(http, 'domain1.bar.com', `/bar/${i}`)).status !== 200) failed++;
    })];
    await new Promise((r) => setTimeout(r, 50));
    await cluster.apply(edited);
    await new Promise((r) => setTimeout(r, 50));
    await cluster.apply(state);
    await new Promise((r) => setTimeout(r, 30));
    await cluster.apply(edited);
    stop = true;
    await Promise.all(loads);
    expect(failed).toBe(0);
    expect([...seen].sort()).toEqual(['service1', 'service3']);
    await cluster.apply(state);
  });
});
