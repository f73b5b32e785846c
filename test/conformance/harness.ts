/**
 * One conformance harness for every plane (DESIGN.md "Agreement between planes"): a suite gives a
 * list of plane factories and, step by step, a state and the connections to make with what each
 * must do. The simulator answers first and is held to the case's expected truth; every other plane
 * is asked the same connections in one batch and must both agree with the simulator (`disagreement`)
 * and match the expected truth itself. A plane that cannot run here, or cannot answer a connection,
 * is reported as skipped with its reason, never counted as agreement. A plane that fails to move
 * to a step's state fails that step and is restarted on it, so the failure does not spill over.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { linuxDown, linuxUp, type LinuxPlane } from '../../src/linux/index.js';
import { disagreement, describeProbed } from '../../src/model/agreement.js';
import type { Connection, ConnectionSource, ConnectionTarget, Dataplane, PlaneName, Probed } from '../../src/model/dataplane.js';
import type { NetworkState } from '../../src/model/types.js';
import { l7Plane, RunningCluster } from '../../src/proxy/index.js';
import { simPlane } from '../../src/sim/dataplane.js';
import { agentDir, privilegedSkipReason } from '../linux/support.js';

/** The certificate an HTTPS request must be served. */
export interface ExpectedCertificate {
  readonly dnsNames: readonly string[];
  /** Checked on the simulator's trace only (a real plane sees the certificate, not its Secret). */
  readonly secretName?: string;
  /** A part of the issuer's name; checked on the simulator's trace only. */
  readonly issuer?: string;
}

/** What a case says must happen to one connection. */
export type Expected =
  | {
      readonly outcome: 'delivered';
      /** The pod that answers (`ns/name`). */
      readonly pod?: string;
      /** The start of the answering pod's name (a Deployment's pods: `service1-`). */
      readonly podPrefix?: string;
      /** The Service an ingress controller chose; checked on the simulator's trace only. */
      readonly backend?: { readonly namespace?: string; readonly name: string; readonly port?: number };
      /** The client address the pod sees (X-Forwarded-For through a controller). */
      readonly client?: string;
      readonly certificate?: ExpectedCertificate;
    }
  | {
      readonly outcome: 'answered';
      readonly status: number;
      readonly location?: string;
      /** Who answered; checked on the simulator's trace only. */
      readonly by?: string;
      readonly certificate?: ExpectedCertificate;
    }
  /** Dropped on the way: the simulator denies it without an answer, a real plane hears nothing. */
  | { readonly outcome: 'dropped' }
  /** Goes nowhere: no route, a refusal, or a name that does not resolve. */
  | { readonly outcome: 'no-route' };

/** One connection of a step, with what it must do. */
export interface Check {
  readonly connection: Connection;
  readonly expected: Expected;
}

/** One step: a state the planes run, and the connections made on it. */
export interface Step {
  /** Names the step in failure messages (`#12 step 2 TCP/80`). */
  readonly label: string;
  readonly state: NetworkState;
  readonly checks: readonly Check[];
}

/** What every plane answered in a step, by plane (skipped ones included), and what went wrong. */
export interface StepReport {
  readonly answers: ReadonlyMap<PlaneName, readonly Probed[]>;
  readonly problems: readonly string[];
}

/** A plane the harness starts, moves from state to state, and stops. */
export interface PlaneFactory {
  readonly name: PlaneName;
  /** Why this plane cannot run here (then every connection is skipped on it with this reason). */
  readonly unavailable: () => string | undefined;
  readonly start: (state: NetworkState) => Promise<void>;
  readonly apply: (state: NetworkState) => Promise<void>;
  readonly probe: (connections: readonly Connection[]) => Promise<Probed[]>;
  /** Stops the plane; called even when `start` failed or was never called. */
  readonly stop: () => Promise<void>;
}

/** The simulator: a fresh tracer over each state. */
export function simFactory(): PlaneFactory {
  let plane: Dataplane | undefined;
  const apply = (state: NetworkState): Promise<void> => {
    plane = simPlane(state);
    return Promise.resolve();
  };
  return {
    name: 'sim',
    unavailable: () => undefined,
    start: apply,
    apply,
    probe: (connections) => (plane ?? fail('sim')).probe(connections),
    stop: () => Promise.resolve(),
  };
}

/** Options of the L7 plane. */
export interface L7FactoryOptions {
  /** The proxy's wait on a dropped upstream hop before its 504. @default 300 */
  readonly deniedTimeoutMs?: number;
  /** A request's whole exchange. @default 3000 */
  readonly timeoutMs?: number;
}

/** The L7 plane: one `RunningCluster` on ephemeral loopback ports, `apply`d from step to step. */
export function l7Factory(opts: L7FactoryOptions = {}): PlaneFactory & { readonly cluster: () => RunningCluster } {
  let cluster: RunningCluster | undefined;
  let plane: Dataplane | undefined;
  const quiet = { info: () => undefined, warn: () => undefined };
  const limit = opts.deniedTimeoutMs ?? 300;
  return {
    name: 'l7',
    unavailable: () => undefined,
    start: async (state) => {
      cluster = await RunningCluster.start(state, { httpPort: 0, httpsPort: 0, logger: quiet, limits: { deniedTimeoutMs: limit, connectTimeoutMs: limit } });
      plane = l7Plane(cluster, opts.timeoutMs ?? 3000);
    },
    apply: async (state) => {
      await (cluster ?? fail('l7')).apply(state);
    },
    probe: (connections) => (plane ?? fail('l7')).probe(connections),
    stop: async () => {
      await cluster?.stop();
      cluster = undefined;
    },
    cluster: () => cluster ?? fail('l7'),
  };
}

/** The proxy worker the Linux plane's ingress controller pods run, when dist/ is built. */
export const PROXY_ENTRY = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'up', 'proxy-worker.js');

/** Options of the Linux plane. */
export interface LinuxFactoryOptions {
  /** The cluster's name while this suite runs it: unique per suite, as other runs share the machine. */
  readonly cluster: string;
  /** Whether ingress controller pods must run the real proxy (then dist/ must be built). */
  readonly ingress: boolean;
  /** How long a probe waits: what a dropped connection costs. */
  readonly timeoutMs: number;
  /** The controllers' wait on a dropped upstream hop. @default 500 */
  readonly proxyTimeoutMs?: number;
}

/** The Linux plane: one cluster of network namespaces per suite, `apply`d incrementally. */
export function linuxFactory(opts: LinuxFactoryOptions): PlaneFactory {
  let plane: LinuxPlane | undefined;
  const proxy = opts.proxyTimeoutMs ?? 500;
  const unavailable = (): string | undefined => {
    const privileged = privilegedSkipReason();
    if (privileged) return privileged;
    if (opts.ingress && !existsSync(PROXY_ENTRY)) return 'dist/ is not built (npm run build): the ingress controller pods need the real proxy (dist/cli/up/proxy-worker.js)';
    return undefined;
  };
  return {
    name: 'linux',
    unavailable,
    start: async (state) => {
      plane = await linuxUp(named(state, opts.cluster), {
        agentDir: agentDir(),
        ...(opts.ingress ? { proxyEntry: PROXY_ENTRY, proxyLimits: { connectTimeoutMs: proxy, deniedTimeoutMs: proxy } } : {}),
      });
    },
    apply: async (state) => {
      await (plane ?? fail('linux')).apply(named(state, opts.cluster));
    },
    probe: (connections) => (plane ?? fail('linux')).probe(connections, opts.timeoutMs),
    stop: async () => {
      plane = undefined;
      if (unavailable() === undefined) await linuxDown(opts.cluster);
    },
  };
}

function named(state: NetworkState, name: string): NetworkState {
  return state.cluster.name === name ? state : { ...state, cluster: { ...state.cluster, name } };
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

function fail(plane: PlaneName): never {
  throw new Error(`the ${plane} plane is not running: start() failed or was not called`);
}

/** A connection as `kwire trace` takes it on the command line. */
export function cliOf(c: Connection): string {
  const flags = [
    ...((c.protocol ?? 'TCP') === 'TCP' ? [] : [`--protocol ${c.protocol ?? ''}`]),
    ...(c.resolve ?? []).map((r) => `--resolve ${r.name}${r.port === undefined ? '' : `:${String(r.port)}`}:${r.address}`),
    ...Object.entries(c.headers ?? {}).map(([k, v]) => `-H '${k}: ${v}'`),
    ...(c.method && c.method !== 'GET' ? [`-X ${c.method}`] : []),
  ];
  return ['kwire trace', sourceText(c.from), targetText(c.to), ...flags].join(' ');
}

function sourceText(s: ConnectionSource): string {
  switch (s.kind) {
    case 'pod':
      return `pod/${s.namespace}/${s.name}`;
    case 'workload':
      return `${{ Deployment: 'deploy', StatefulSet: 'sts', DaemonSet: 'ds' }[s.workloadKind]}/${s.namespace}/${s.name}`;
    case 'external':
      return s.ip ? `ip/${s.ip}` : 'external';
    case 'node':
      return `node/${s.name}`;
    case 'ip':
      return `ip/${s.ip}`;
  }
}

function targetText(t: ConnectionTarget): string {
  switch (t.kind) {
    case 'url':
      return `${t.scheme}://${t.host}${t.port === (t.scheme === 'https' ? 443 : 80) ? '' : `:${String(t.port)}`}${t.path}`;
    case 'service':
      return `svc/${t.namespace}/${t.name}:${String(t.port)}`;
    case 'pod':
      return `pod/${t.namespace}/${t.name}:${String(t.port)}`;
    case 'ip':
      return `${t.ip}:${String(t.port)}`;
    case 'name':
      return `${t.name}:${String(t.port)}`;
  }
}

/** What a case expects, in a few words. */
export function describeExpected(e: Expected): string {
  switch (e.outcome) {
    case 'delivered':
      return `delivered to ${e.pod ?? (e.podPrefix ? `${e.podPrefix}…` : 'a pod')}${e.client ? ` (seen from ${e.client})` : ''}`;
    case 'answered':
      return `answered ${String(e.status)}${e.location ? ` → ${e.location}` : ''}`;
    case 'dropped':
      return 'dropped (no answer)';
    case 'no-route':
      return 'no route';
  }
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));

/** Why what a plane saw is not what the case expects, or undefined when it is. */
export function mismatch(e: Expected, p: Probed): string | undefined {
  const t = p.trace;
  const why: string[] = [];
  switch (e.outcome) {
    case 'delivered': {
      if (p.verdict !== 'delivered') return 'not delivered';
      if (e.pod !== undefined && p.answeredBy !== e.pod) why.push(`answered by ${p.answeredBy ?? '?'}, not ${e.pod}`);
      if (e.podPrefix !== undefined && !(p.answeredBy?.split('/')[1] ?? '').startsWith(e.podPrefix)) why.push(`answered by ${p.answeredBy ?? '?'}, not a ${e.podPrefix}… pod`);
      if (e.client !== undefined && p.seenClient !== e.client) why.push(`the pod saw the client ${p.seenClient ?? '?'}, not ${e.client}`);
      const b = e.backend;
      const got = t?.destination?.backend?.service;
      if (t && b && (got?.name !== b.name || (b.namespace !== undefined && got.namespace !== b.namespace) || (b.port !== undefined && got.port !== b.port)))
        why.push(`backend ${got ? `${got.namespace}/${got.name}:${String(got.port ?? got.portName ?? '?')}` : 'none'}, not ${b.namespace ?? '*'}/${b.name}:${String(b.port ?? '*')}`);
      break;
    }
    case 'answered':
      if (p.verdict !== 'answered' || p.status !== e.status) return `not answered ${String(e.status)}`;
      if (e.location !== undefined && p.location !== e.location) why.push(`Location ${p.location ?? 'none'}, not ${e.location}`);
      if (t && e.by !== undefined && t.response?.by !== e.by) why.push(`answered by ${t.response?.by ?? '?'}, not ${e.by}`);
      break;
    case 'dropped':
      if (p.failure !== 'timeout' || (t && t.verdict !== 'denied')) return 'not dropped';
      break;
    case 'no-route':
      if (t ? t.verdict !== 'no-route' : p.failure !== 'nxdomain' && p.failure !== 'unreachable' && p.failure !== 'refused') return 'not a missing route';
      break;
  }
  const c = e.outcome === 'delivered' || e.outcome === 'answered' ? e.certificate : undefined;
  if (c) {
    if (!sameSet(p.certificateNames ?? [], c.dnsNames)) why.push(`certificate for [${(p.certificateNames ?? []).join(', ')}], not [${c.dnsNames.join(', ')}]`);
    if (t?.certificate && c.secretName !== undefined && t.certificate.secretName !== c.secretName) why.push(`certificate from Secret ${t.certificate.secretName ?? 'none'}, not ${c.secretName}`);
    if (t?.certificate && c.issuer !== undefined && !(t.certificate.issuer ?? '').includes(c.issuer)) why.push(`certificate issued by ${t.certificate.issuer ?? 'nobody'}, not ${c.issuer}`);
    if (t?.certificate && !t.certificate.covers) why.push('the certificate does not cover the host');
  }
  return why.length > 0 ? why.join('; ') : undefined;
}

/** Options of a conformance run. */
export interface HarnessOptions {
  /** The suite's name in printed summaries. */
  readonly suite: string;
  /** The simulator first, then the planes checked against it. */
  readonly planes: readonly PlaneFactory[];
  /** Skip reasons each plane may give (a documented limit); any other skip is a problem. */
  readonly allowedSkips?: Partial<Record<PlaneName, RegExp>>;
  /** Compare the client address the destination saw. @default true */
  readonly client?: boolean;
}

/** A conformance run over some planes. */
export interface Harness {
  /** Starts every available plane on the first state (call it in `beforeAll`). */
  readonly start: (state: NetworkState) => Promise<void>;
  /** Runs one step on every plane; fails the test, listing every problem, unless all is well. */
  readonly run: (step: Step) => Promise<StepReport>;
  /** Runs one step and returns what went wrong instead of failing. */
  readonly check: (step: Step) => Promise<StepReport>;
  /** Per plane: connections answered, and skipped ones counted by reason. */
  readonly tally: () => ReadonlyMap<PlaneName, { readonly answered: number; readonly skipped: ReadonlyMap<string, number> }>;
  /** The tally as lines for a summary. */
  readonly summary: () => string[];
  /** Fails unless every plane that runs here answered some connection (skips are no agreement). */
  readonly expectEveryPlaneAnswered: () => void;
  /** Stops every plane (call it in `afterAll`: it also removes what a failed start left). */
  readonly stop: () => Promise<void>;
}

/** A conformance run: the first plane must be the simulator. */
export function conformance(opts: HarnessOptions): Harness {
  const [sim, ...others] = opts.planes;
  if (sim?.name !== 'sim') throw new Error(`the first plane of a conformance run must be the simulator, not ${sim?.name ?? 'none'}`);
  const down = new Map<PlaneName, string>();
  for (const f of opts.planes) {
    const reason = f.unavailable();
    if (reason !== undefined) {
      down.set(f.name, reason);
      console.warn(`[conformance ${opts.suite}] ${f.name} plane skipped: ${reason}`);
    }
  }
  const live = opts.planes.filter((f) => !down.has(f.name));
  const counts = new Map<PlaneName, { answered: number; skipped: Map<string, number> }>(opts.planes.map((f) => [f.name, { answered: 0, skipped: new Map() }]));
  /** Planes that stopped working mid-run (a failed apply they could not be restarted from). */
  const broken = new Map<PlaneName, string>();
  let current: NetworkState | undefined;

  const count = (plane: PlaneName, p: Probed): void => {
    const c = counts.get(plane);
    if (!c) return;
    if (p.skipped === undefined) c.answered++;
    else c.skipped.set(p.skipped, (c.skipped.get(p.skipped) ?? 0) + 1);
  };

  const check = async (step: Step): Promise<StepReport> => {
    const problems: string[] = [];
    if (step.state !== current) {
      current = step.state;
      await Promise.all(live.filter((f) => !broken.has(f.name)).map(async (f) => {
        try {
          await f.apply(step.state);
        } catch (err) {
          problems.push(`${step.label} · the ${f.name} plane could not move to this step's state: ${firstLine(err)}`);
          try {
            await f.stop();
            await f.start(step.state);
          } catch (again) {
            broken.set(f.name, `restarting it after a failed apply failed: ${firstLine(again)}`);
          }
        }
      }));
    }
    const connections = step.checks.map((c) => c.connection);
    const answers = new Map<PlaneName, readonly Probed[]>();
    const simAnswers = await sim.probe(connections);
    answers.set('sim', simAnswers);
    const real = await Promise.all(others.map(async (f): Promise<readonly Probed[]> => {
      const reason = down.get(f.name) ?? broken.get(f.name);
      if (reason !== undefined) return connections.map(() => ({ plane: f.name, skipped: reason, hops: [] }));
      try {
        return await f.probe(connections);
      } catch (err) {
        return connections.map(() => ({ plane: f.name, skipped: `its probe failed: ${firstLine(err)}`, hops: [] }));
      }
    }));
    others.forEach((f, i) => answers.set(f.name, real[i] ?? []));
    step.checks.forEach((check, i) => {
      const issues: string[] = [];
      const seen: string[] = [];
      for (const f of opts.planes) {
        const p = answers.get(f.name)?.[i];
        if (!p) {
          issues.push(`${f.name} gave no answer`);
          continue;
        }
        count(f.name, p);
        seen.push(`${f.name}: ${describeProbed(p)}`);
        if (p.skipped !== undefined) {
          const allowed = opts.allowedSkips?.[f.name];
          if (!down.has(f.name) && !allowed?.test(p.skipped)) issues.push(`${f.name} skipped it unexpectedly`);
          continue;
        }
        const off = mismatch(check.expected, p);
        if (off !== undefined) issues.push(`${f.name} does not match the expected truth (${off})`);
        if (f.name !== 'sim') {
          const d = disagreement(simAnswers[i]?.outcomes ?? [], p, { client: opts.client ?? true });
          if (d !== undefined) issues.push(`${f.name} disagrees with the simulator: ${d}`);
        }
      }
      if (issues.length > 0) problems.push(`${step.label} · ${cliOf(check.connection)} · expected ${describeExpected(check.expected)} · ${issues.join('; ')} · [${seen.join(' | ')}]`);
    });
    return { answers, problems };
  };

  return {
    start: async (state) => {
      await Promise.all(live.map((f) => f.start(state)));
      current = state;
    },
    run: async (step) => {
      const report = await check(step);
      expect(report.problems, step.label).toEqual([]);
      return report;
    },
    check,
    tally: () => counts,
    summary: () =>
      [...counts].map(([plane, c]) => {
        const skipped = [...c.skipped].map(([reason, n]) => `${String(n)} skipped (${reason})`);
        return `[conformance ${opts.suite}] ${plane}: ${String(c.answered)} answered${skipped.length > 0 ? `, ${skipped.join(', ')}` : ''}`;
      }),
    expectEveryPlaneAnswered: () => {
      const silent = live.filter((f) => (counts.get(f.name)?.answered ?? 0) === 0).map((f) => f.name);
      expect(silent, 'planes that answered no connection at all').toEqual([]);
    },
    stop: async () => {
      const results = await Promise.allSettled(live.map((f) => f.stop()));
      const failed = results.flatMap((r): unknown[] => (r.status === 'rejected' ? [r.reason] : []));
      if (failed.length > 0) throw new AggregateError(failed, `[conformance ${opts.suite}] stopping the planes failed`);
    },
  };
}
