/**
 * `kwire up --workers 2` (the compiled CLI): both proxy workers serve, an edit of the inputs and a
 * certificate the lab ACME CA issues at runtime reach every worker, `/metrics` sums them, and
 * SIGTERM stops the primary and its workers.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { get, getTls, ROOT } from './support.js';

const built = existsSync(join(ROOT, 'dist', 'cli', 'up', 'proxy-worker.js'));
const dir = mkdtempSync(join(tmpdir(), 'kwire-workers-'));
const inputs = join(dir, 'course');
let child: ChildProcess | undefined;

afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const EXTRA = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: extra
spec:
  ingressClassName: nginx
  rules:
  - host: extra.example.test
    http:
      paths:
      - pathType: Prefix
        path: /
        backend:
          service:
            name: service2
            port:
              number: 80
`;

/** Collects a stream's lines and waits for one that matches. */
function lines(stream: NodeJS.ReadableStream): { all: string[]; next: (re: RegExp) => Promise<string> } {
  const all: string[] = [];
  const waiting: { re: RegExp; done: (l: string) => void }[] = [];
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (c: string) => {
    rest += c;
    const parts = rest.split('\n');
    rest = parts.pop() ?? '';
    for (const l of parts) {
      all.push(l);
      for (const w of [...waiting]) if (w.re.test(l)) { waiting.splice(waiting.indexOf(w), 1); w.done(l); }
    }
  });
  return {
    all,
    next: (re) => {
      const seen = all.find((l) => re.test(l));
      return seen !== undefined ? Promise.resolve(seen) : new Promise((done) => waiting.push({ re, done }));
    },
  };
}

/** Enough fresh connections that the primary's round-robin hands some to every worker. */
const CONNECTIONS = 6;

describe.skipIf(!built)('up --workers 2 (needs the compiled CLI: npm run build)', () => {
  it('serves from every worker and follows reloads and certificates', async () => {
    cpSync(join(ROOT, 'examples', 'course'), inputs, { recursive: true });
    child = spawn(process.execPath, [join(ROOT, 'bin', 'kwire.js'), 'up', '-f', inputs, '--workers', '2', '--http-port', '0', '--https-port', '0', '--admin-port', '0', '--access-log', 'none', '--now', '2026-01-01T00:00:00Z'], {
      cwd: ROOT,
      env: { ...process.env, KWIRE_RUNTIME_DIR: dir, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = lines(child.stdout!);
    const err = lines(child.stderr!);
    const exited = new Promise<number | null>((done) => child!.once('exit', done));
    const ready = await out.next(/^ready /);
    expect(err.all.join('\n')).toContain('in 2 proxy workers');
    const m = /^ready ingress-nginx (\S+) (\S+) metrics (\S+)$/.exec(ready);
    expect(m, ready).not.toBeNull();
    const [, http, https, metrics] = m!;

    for (let i = 0; i < CONNECTIONS; i++) {
      const r = await get(http!, 'domain1.bar.com', '/bar');
      expect(r.status).toBe(200);
      expect(r.headers['x-kwire-pod']).toMatch(/^default\/service1-/);
    }

    await err.next(/certificate default\/quickstart-example-tls issued/);
    let issuers: string[] = [];
    for (let attempt = 0; attempt < 20; attempt++) {
      issuers = [];
      for (let i = 0; i < CONNECTIONS; i++) issuers.push(String((await getTls(https!, 'example.example.com', '/')).cert.issuer.CN));
      if (issuers.every((cn) => cn.startsWith('kwire lab ACME'))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(issuers).toEqual(Array.from({ length: CONNECTIONS }, () => 'kwire lab ACME intermediate R1'));

    expect((await get(http!, 'extra.example.test', '/')).status).toBe(404);
    writeFileSync(join(inputs, '90-extra.yaml'), EXTRA);
    await err.next(/^kwire: reloaded: .* 4 ingresses/);
    for (let i = 0; i < CONNECTIONS; i++) {
      const r = await get(http!, 'extra.example.test', '/');
      expect(r.status).toBe(200);
      expect(r.headers['x-kwire-pod']).toMatch(/^default\/service2-/);
    }

    const scraped = await get(metrics!, null, '/metrics');
    const served = /kwire_ingress_requests_total\{controller="ingress-nginx",ingress="default\/ingress-wildcard-host",service="default\/service1",status="200"\} (\d+)/.exec(scraped.body);
    expect(Number(served?.[1])).toBe(CONNECTIONS);
    const extra = /kwire_ingress_requests_total\{controller="ingress-nginx",ingress="default\/extra",service="default\/service2",status="200"\} (\d+)/.exec(scraped.body);
    expect(Number(extra?.[1])).toBe(CONNECTIONS);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(err.all).toContain('kwire: SIGTERM: stopping');
  });

  it('exits 3 naming the port when a worker cannot listen', async () => {
    const taken = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    const port = (taken.address() as { port: number }).port;
    const r = await promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'kwire.js'), 'up', '-f', join(ROOT, 'examples', 'course'), '--workers', '2', '--http-port', String(port), '--https-port', '0', '--admin-port', '0', '--acme', 'off'], {
      cwd: ROOT,
      env: { ...process.env, KWIRE_RUNTIME_DIR: dir, NO_COLOR: '1' },
      timeout: 20_000,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: unknown) => e as { code: number; stderr: string },
    );
    taken.close();
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`cannot listen: bind EADDRINUSE 127.0.0.1:${port}`);
  });
});
