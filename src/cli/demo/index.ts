/**
 * `kwire demo`: the course example end to end in one command. It starts the cluster — on loopback
 * (the L7 plane), or as root in network namespaces (`--dataplane linux`: the requests come from
 * the outside world's namespace through MetalLB, kube-proxy and the controller's pod) — issues the
 * ACME certificate for real, sends the course's requests (both Ingress examples over HTTP and
 * HTTPS, the secure namespace through its policy, one connection a NetworkPolicy drops), prints
 * each response beside the trace that predicted it, checks they agree, and stops.
 */
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { disagreement, describeProbed } from '../../model/agreement.js';
import type { Connection, Dataplane, Probed } from '../../model/dataplane.js';
import type { NetworkState, PodState } from '../../model/types.js';
import { resolverFetch } from '../../acme/index.js';
import { ensureLinuxEnvironment, linuxUp, type LinuxPlane } from '../../linux/index.js';
import { l7Plane, RunningCluster } from '../../proxy/index.js';
import { createTracer, renderTraceText } from '../../sim/trace/index.js';
import { startAcme, type AcmeRun } from '../up/acme.js';
import { acquireLock, clusterDir, runtimeRoot } from '../up/runtime.js';
import { inputOptions, loadState, millisecondsOption, type InputFlags, type Io } from '../context.js';
import { parseTarget } from '../trace/parse.js';

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
  readonly dataplane: 'sim' | 'linux';
}

function describe(p: Probed): string {
  if (p.skipped) return `not asked of this plane: ${p.skipped}`;
  let s = p.verdict === 'delivered' ? `${String(p.status ?? 200)} from pod ${p.answeredBy ?? '?'}` : p.verdict === 'answered' ? `${String(p.status ?? '?')}${p.location ? ` → ${p.location}` : ''}` : describeProbed(p);
  if (p.failure === 'timeout') s = `no answer (the connection timed out): ${p.hops.at(-1)?.detail ?? ''}`;
  if (p.certificateNames) s += `\n  certificate: ${p.certificateSubject || '(empty subject)'} [${p.certificateNames.map((n) => `DNS:${n}`).join(', ')}]`;
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

/** The demo's connections: the course's requests from outside, and a pod's request into the secure namespace. */
function connectionsOf(state: NetworkState, course: boolean): { connection: Connection; label: string }[] {
  const out: { connection: Connection; label: string }[] = (course ? [...COURSE_REQUESTS] : requestsOf(state)).map((url) => ({ connection: { from: { kind: 'external' }, to: parseTarget(url) }, label: `GET ${url}` }));
  const src = course ? frontendPod(state) : undefined;
  if (src && state.services.some((s) => s.namespace === 'secure' && s.name === 'api')) {
    out.push({ connection: { from: { kind: 'pod', namespace: src.namespace, name: src.name }, to: parseTarget('http://api.secure/') }, label: `GET http://api.secure/ from pod ${src.namespace}/${src.name}` });
  }
  return out;
}

/** A running plane for the demo and how to stop it. */
interface Running {
  readonly plane: Dataplane;
  readonly where: string;
  readonly stop: () => Promise<void>;
}

async function startSim(state: NetworkState, flags: DemoFlags, io: Io): Promise<Running> {
  const logger = { info: (m: string) => { io.err(`kwire demo: ${m}`); }, warn: (m: string) => { io.err(`warning: ${m}`); } };
  const cluster = await RunningCluster.start(state, { httpPort: 0, httpsPort: 0, logger, limits: { deniedTimeoutMs: flags.deniedTimeout, connectTimeoutMs: flags.deniedTimeout } });
  let acme: AcmeRun | undefined;
  try {
    if (state.certManager?.issuers.some((i) => i.type === 'ACME')) {
      io.err('kwire demo: issuing the ACME certificates for real: the lab ACME CA validates HTTP-01 through the ingress proxy…');
      const first = cluster.addresses[0];
      acme = await startAcme(state, { target: cluster, fetch: resolverFetch(() => ({ host: '127.0.0.1', port: first ? Number(new URL(first.http).port) : 80 })) }, 'lab', logger);
    }
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return {
    plane: l7Plane(cluster, Math.max(2000, flags.deniedTimeout * 4)),
    where: `on 127.0.0.1: ${cluster.addresses.map((a) => `${a.controller} ${a.http} ${a.https}`).join(', ')}`,
    stop: async () => {
      await acme?.stop();
      await cluster.stop();
    },
  };
}

async function startLinux(state: NetworkState, flags: DemoFlags, io: Io): Promise<Running> {
  await ensureLinuxEnvironment();
  const root = runtimeRoot(0);
  const lock = acquireLock(clusterDir(root, state.cluster.name), state.cluster.name);
  const logger = { info: (m: string) => { io.err(`kwire demo: ${m}`); }, warn: (m: string) => { io.err(`warning: ${m}`); } };
  let plane: LinuxPlane;
  try {
    plane = await linuxUp(state, { logger, runtimeDir: root, proxyEntry: fileURLToPath(new URL('../up/proxy-worker.js', import.meta.url)), proxyLimits: { connectTimeoutMs: flags.deniedTimeout, deniedTimeoutMs: flags.deniedTimeout } });
  } catch (err) {
    lock.release();
    throw err;
  }
  let acme: AcmeRun | undefined;
  try {
    if (state.certManager?.issuers.some((i) => i.type === 'ACME')) {
      io.err('kwire demo: issuing the ACME certificates for real: the lab ACME CA validates HTTP-01 from the outside world, through MetalLB, kube-proxy and the controller pod…');
      acme = await startAcme(state, { target: plane, fetch: plane.fetchFromOutside }, 'lab', logger);
      await plane.settled();
    }
  } catch (err) {
    await plane.down();
    lock.release();
    throw err;
  }
  return {
    plane: { name: 'linux', probe: (cs) => plane.probe(cs, Math.max(1500, flags.deniedTimeout * 3)) },
    where: `in network namespaces ${plane.names.prefix}* (requests from the outside world's namespace, ${plane.names.external})`,
    stop: async () => {
      await acme?.stop();
      await plane.down();
      lock.release();
    },
  };
}

/** Runs the demo; exit 0 when every real response agrees with its trace. */
export async function runDemo(flags: DemoFlags, io: Io): Promise<number> {
  const course = flags.filename.length === 0;
  const started = performance.now();
  io.err(`kwire demo: loading ${course ? 'the course example' : flags.filename.join(' ')}…`);
  const { state } = await loadState(course ? { ...flags, filename: [COURSE_DIR] } : flags, io);
  io.err(`kwire demo: starting ${state.pods.length} pods and ${state.cluster.ingressControllers.length} ingress controller(s) ${flags.dataplane === 'linux' ? 'in network namespaces' : 'on 127.0.0.1'}…`);
  const running = flags.dataplane === 'linux' ? await startLinux(state, flags, io) : await startSim(state, flags, io);
  let failures = 0;
  try {
    io.err(`kwire demo: ready in ${Math.round(performance.now() - started)}ms ${running.where}`);
    const tracer = createTracer(state);
    const asked = connectionsOf(state, course);
    const seen = await running.plane.probe(asked.map((a) => a.connection));
    asked.forEach(({ connection, label }, i) => {
      const t = tracer.trace(connection);
      const got = seen[i] ?? { plane: running.plane.name, skipped: 'no result', hops: [] };
      io.out(`▶ ${label}`);
      io.out(`  response: ${describe(got)}`);
      if (flags.trace) io.out(`  trace:\n${indent(renderTraceText(t))}`);
      const why = disagreement(tracer.traceAll(connection), got);
      if (why) failures++;
      io.out(why ? `  ✗ DISAGREES with the trace: ${why}\n` : got.skipped ? '  – not checked\n' : `  ✓ agrees with the trace (${t.verdict})\n`);
    });
  } finally {
    await running.stop();
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
    .addOption(new Option('--dataplane <plane>', 'sim: on loopback (the L7 plane); linux: in network namespaces, requests from the outside world (root)').choices(['sim', 'linux']).default('sim'))
    .option('--denied-timeout <ms>', 'how long a dropped connection takes to time out', millisecondsOption('--denied-timeout'), 300);
  inputOptions(cmd).action((flags: DemoFlags) => {
    done(runDemo(flags, io));
  });
}
