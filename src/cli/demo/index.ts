/**
 * `kwire demo`: the course example end to end in one command. It starts the cluster in-process,
 * sends the course's requests (both Ingress examples over HTTP and HTTPS, the secure namespace
 * through its policy, one connection a NetworkPolicy drops), prints each response beside the
 * trace that predicted it, checks they agree, and stops.
 */
import { request as httpRequest } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { NetworkState, PodState } from '../../model/types.js';
import { startAcme, type AcmeRun } from '../up/acme.js';
import { RunningCluster, POD_HEADER, type ListenerAddress } from '../../proxy/index.js';
import { createTracer, renderTraceText, type Trace } from '../../sim/trace/index.js';
import { connectionOf } from '../trace/index.js';
import { inputOptions, loadState, millisecondsOption, type InputFlags, type Io } from '../context.js';

/** The course example shipped with kwire. */
export const COURSE_DIR = fileURLToPath(new URL('../../../examples/course', import.meta.url));

/** The course's requests (the README's walk-through). */
export const COURSE_REQUESTS = [
  'http://domain1.bar.com/bar',
  'http://domain1.bar.com/bar/baz',
  'http://domain1.bar.com/barbaz',
  'http://domain1.bar.com/foo',
  'http://DOMAIN1.bar.com/foo/',
  'http://domain1.bar.com/',
  'http://domain2.foo.com/',
  'http://domain2.foo.com/any/thing',
  'https://example.example.com/',
  'http://example.example.com/',
  'https://example.example.com/foo',
  'http://nobody.example.org/',
  'http://api.example.com/',
] as const;

/** Options of `demo`. */
export interface DemoFlags extends InputFlags {
  readonly trace: boolean;
  readonly deniedTimeout: number;
}

/** What a real request got. */
interface Observed {
  readonly status?: number;
  readonly pod?: string;
  readonly location?: string;
  readonly certificate?: { readonly subject: string; readonly san: string; readonly issuer: string };
  readonly note?: string;
}

/** The client address the demo's requests come from (and the trace's source). */
const CLIENT = '127.0.0.1';

function send(listener: ListenerAddress, url: URL): Promise<Observed> {
  const https = url.protocol === 'https:';
  const base = new URL(https ? listener.https : listener.http);
  const path = `${url.pathname}${url.search}`;
  if (!https) {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ hostname: base.hostname, port: Number(base.port), path, headers: { host: url.host }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => {
          const pod = res.headers[POD_HEADER];
          resolve({ status: res.statusCode, ...(typeof pod === 'string' ? { pod } : {}), ...(res.headers.location ? { location: res.headers.location } : {}) });
        });
      });
      req.on('error', reject);
      req.end();
    });
  }
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: base.hostname, port: Number(base.port), servername: url.hostname, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
      const c = socket.getPeerCertificate();
      const certificate = { subject: Object.entries(c.subject).map(([k, v]) => `${k}=${String(v)}`).join(', '), san: c.subjectaltname ?? '', issuer: Object.entries(c.issuer).map(([k, v]) => `${k}=${String(v)}`).join(', ') };
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`);
      let head = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => (head += d));
      socket.on('end', () => {
        const lines = (head.split('\r\n\r\n')[0] ?? '').split('\r\n');
        const header = (name: string): string | undefined => lines.find((l) => l.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim();
        const pod = header(POD_HEADER);
        const location = header('location');
        resolve({ status: Number(lines[0]?.split(' ')[1]), certificate, ...(pod ? { pod } : {}), ...(location ? { location } : {}) });
      });
    });
    socket.on('error', reject);
  });
}

/** Whether the real response is what the trace predicted; the reason when not. */
export function agrees(t: Trace, o: Observed): string | undefined {
  if (t.verdict === 'no-route') return o.status === undefined ? undefined : `trace says no-route, got ${o.status}`;
  if (t.verdict === 'delivered') {
    const want = t.destination?.pod ? `${t.destination.pod.namespace}/${t.destination.pod.name}` : undefined;
    if (o.status !== 200) return `trace says delivered to ${want ?? '?'}, got status ${o.status ?? 'none'}`;
    if (want && o.pod !== want) return `trace says ${want} answers, ${o.pod ?? 'nobody'} did`;
  } else if (t.response) {
    if (o.status !== t.response.status) return `trace says ${t.response.status}, got ${o.status ?? 'no response'}`;
    if (t.response.location && o.location !== t.response.location) return `trace says Location ${t.response.location}, got ${o.location ?? 'none'}`;
  } else if (t.verdict === 'denied') {
    if (o.status !== undefined) return `trace says denied, got ${o.status}`;
  }
  if (t.certificate && o.certificate) {
    const names = o.certificate.san.split(',').map((s) => s.trim().replace(/^DNS:/, ''));
    if (t.certificate.dnsNames.some((n) => !names.includes(n))) return `trace names certificate [${t.certificate.dnsNames.join(', ')}], served ${o.certificate.san}`;
  }
  return undefined;
}

function describe(o: Observed): string {
  if (o.note) return o.note;
  let s = `${o.status ?? 'no response'}`;
  if (o.pod) s += ` from pod ${o.pod}`;
  if (o.location) s += ` → ${o.location}`;
  if (o.certificate) s += `\n  certificate: ${o.certificate.subject || '(empty subject)'} [${o.certificate.san}] issued by ${o.certificate.issuer}`;
  return s;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

function frontendPod(state: NetworkState): PodState | undefined {
  return state.pods.filter((p) => p.namespace === 'default' && p.workload.kind === 'Deployment' && p.workload.name === 'frontend').sort((a, b) => a.name.localeCompare(b.name)).find((p) => p.ready);
}

/** The requests of a state that is not the course: one per Ingress rule path, HTTP and HTTPS where TLS is set. */
function requestsOf(state: NetworkState): string[] {
  const out: string[] = [];
  for (const ing of state.ingresses) {
    const tlsHosts = new Set((ing.spec.tls ?? []).flatMap((t) => t.hosts ?? []));
    for (const r of ing.spec.rules ?? []) {
      if (!r.host || r.host.startsWith('*')) continue;
      for (const p of r.http?.paths ?? [{ path: '/' }]) {
        const path = p.path?.startsWith('/') ? p.path : '/';
        out.push(`http://${r.host}${path}`);
        if (tlsHosts.has(r.host)) out.push(`https://${r.host}${path}`);
      }
    }
  }
  return out;
}

/** Runs the demo; exit 0 when every real response agrees with its trace. */
export async function runDemo(flags: DemoFlags, io: Io): Promise<number> {
  const course = flags.filename.length === 0;
  const started = performance.now();
  io.err(`kwire demo: loading ${course ? 'the course example' : flags.filename.join(' ')}…`);
  const { state } = await loadState(course ? { ...flags, filename: [COURSE_DIR] } : flags, io);
  io.err(`kwire demo: starting ${state.pods.length} pods and ${state.cluster.ingressControllers.length} ingress controller(s) on 127.0.0.1…`);
  const cluster = await RunningCluster.start(state, {
    httpPort: 0,
    httpsPort: 0,
    logger: { info: (m) => { io.err(`kwire demo: ${m}`); }, warn: (m) => { io.err(`warning: ${m}`); } },
    limits: { deniedTimeoutMs: flags.deniedTimeout, connectTimeoutMs: flags.deniedTimeout },
  });
  let failures = 0;
  let acme: AcmeRun | undefined;
  try {
    if (state.certManager?.issuers.some((i) => i.type === 'ACME')) {
      io.err('kwire demo: issuing the ACME certificates for real: the lab ACME CA validates HTTP-01 through the ingress proxy…');
      acme = await startAcme(state, cluster, 'lab', { info: (m) => { io.err(`kwire demo: ${m}`); }, warn: (m) => { io.err(`warning: ${m}`); } });
    }
    const listener = cluster.addresses[0];
    io.err(`kwire demo: ready in ${Math.round(performance.now() - started)}ms: ${cluster.addresses.map((a) => `${a.controller} ${a.http} ${a.https}`).join(', ')}`);
    const tracer = createTracer(state);
    const urls = course ? [...COURSE_REQUESTS] : requestsOf(state);
    for (const text of urls) {
      const url = new URL(text);
      const t = tracer.trace(connectionOf(`ip/${CLIENT}`, text));
      let o: Observed;
      if (t.verdict === 'no-route' || !listener) o = { note: `not sent: ${t.hops[t.hops.length - 1]?.action ?? 'no route'} (the outside world's DNS does not know the name)` };
      else o = await send(listener, url);
      io.out(`▶ GET ${text}   (Host${url.protocol === 'https:' ? '/SNI' : ''} ${url.host} → ${url.protocol === 'https:' ? (listener?.https ?? '') : (listener?.http ?? '')})`);
      io.out(`  response: ${describe(o)}`);
      if (flags.trace) io.out(`  trace:\n${indent(renderTraceText(t))}`);
      const why = agrees(t, o);
      if (why) failures++;
      io.out(why ? `  ✗ DISAGREES with the trace: ${why}\n` : `  ✓ agrees with the trace (${t.verdict})\n`);
    }
    const src = course ? frontendPod(state) : undefined;
    const api = state.services.find((s) => s.namespace === 'secure' && s.name === 'api');
    if (src && api) {
      const text = 'http://api.secure/';
      const t = tracer.trace(connectionOf(`pod/${src.namespace}/${src.name}`, text));
      const c = cluster.podConnection(src, api.clusterIP, 80);
      let o: Observed;
      if (c.kind === 'connect') o = await send({ controller: '', http: `http://127.0.0.1:${c.localPort}`, https: '' }, new URL(`http://api.secure/`));
      else {
        await new Promise((done) => setTimeout(done, flags.deniedTimeout));
        o = { note: c.kind === 'denied' ? `connection timed out after ${flags.deniedTimeout}ms: ${c.reason}` : `connection refused: ${c.reason}` };
      }
      io.out(`▶ GET ${text} from pod ${src.namespace}/${src.name}   (pod to pod, through the Service's ClusterIP ${api.clusterIP})`);
      io.out(`  response: ${describe(o)}`);
      if (flags.trace) io.out(`  trace:\n${indent(renderTraceText(t))}`);
      const why = agrees(t, o);
      if (why) failures++;
      io.out(why ? `  ✗ DISAGREES with the trace: ${why}\n` : `  ✓ agrees with the trace (${t.verdict})\n`);
    }
  } finally {
    await acme?.stop();
    await cluster.stop();
  }
  io.err(`kwire demo: ${failures === 0 ? 'every real response agrees with its trace' : `${failures} disagreement(s)`}; stopped after ${Math.round(performance.now() - started)}ms`);
  return failures === 0 ? 0 : 1;
}

/** Registers `demo` on the program. */
export function registerDemo(program: Command, io: Io, done: (p: Promise<number>) => void): void {
  const cmd = program
    .command('demo')
    .description('run the course example end to end: real requests, each beside the trace that predicts it')
    .option('--no-trace', 'print only the responses')
    .option('--denied-timeout <ms>', 'how long a dropped connection takes to time out', millisecondsOption('--denied-timeout'), 300);
  inputOptions(cmd).action((flags: DemoFlags) => {
    done(runDemo(flags, io));
  });
}
