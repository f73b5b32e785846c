/**
 * The Linux plane's lifecycle: `linuxUp` builds a NetworkState into network namespaces, veths,
 * nftables and pod agents; the handle's `apply` moves the kernel to a new state changing only what
 * differs; `linuxDown` removes everything of a cluster, including what a crashed run left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvironmentError } from '../api/problems.js';
import type { NetworkState, NodeState } from '../model/types.js';
import { binderArgv, type SocketSpec } from './binder.js';
import { buildDnsRecords, resolvConf } from './dns-records.js';
import type { AgentSocket, AgentSpec } from './echo-agent.js';
import { renderKubeProxy } from './kube-proxy.js';
import { clusterNames, clusterSlug, shortHash, type ClusterNames } from './names.js';
import { netpolUpdateScript, renderNetpol, type NetpolTable } from './netpol.js';
import type { AgentProbe, ProbeOutcome } from './probe-agent.js';
import { inParallel, ipBatch, nftLoad, run, runChecked, sysctls } from './run.js';
import { nodeSysctls, planPod, podVethSysctls, planTopology, podLines, podNodeLines, wiredPods, type PodPlan } from './topology.js';

/** Where the plane reports progress. */
export interface LinuxLogger {
  readonly info: (message: string) => void;
  readonly warn: (message: string) => void;
}

/** Options of `linuxUp`. */
export interface LinuxUpOptions {
  /** @default silent */
  readonly logger?: LinuxLogger;
  /** Called once the network is built. */
  readonly onReady?: (plane: LinuxPlane) => void;
  /** Aborting it tears the cluster down. */
  readonly signal?: AbortSignal;
  /** @default '/run/kwire' */
  readonly runtimeDir?: string;
  /** Directory holding the compiled `echo-agent.js` and `probe-agent.js`. @default this module's directory */
  readonly agentDir?: string;
}

/** Options of `linuxDown`. */
export interface LinuxDownOptions {
  readonly logger?: LinuxLogger;
  /** @default '/run/kwire' */
  readonly runtimeDir?: string;
}

/** A connection to make from inside the cluster's namespaces. */
export interface Probe {
  readonly from: { readonly pod: string } | { readonly node: string } | 'external';
  /** Destination IPv4 address. */
  readonly to: string;
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
  /** @default 400 */
  readonly timeoutMs?: number;
  /** @default 'hostname' (the echo program answers its `ns/name`); `b64:…` sends bytes, and the reply comes back as `b64:…` */
  readonly send?: string;
}

/** What one `apply` changed. */
export interface ApplyReport {
  readonly rebuilt: boolean;
  readonly podsAdded: number;
  readonly podsRemoved: number;
  readonly nftNodes: number;
  readonly agentsRestarted: number;
  readonly ms: number;
}

/** A running Linux plane. */
export interface LinuxPlane {
  readonly names: ClusterNames;
  readonly state: () => NetworkState;
  /** Milliseconds per phase of the last build. */
  readonly timings: Readonly<Record<string, number>>;
  readonly apply: (next: NetworkState) => Promise<ApplyReport>;
  readonly probe: (probes: readonly Probe[]) => Promise<ProbeOutcome[]>;
  readonly down: () => Promise<void>;
}

const SILENT: LinuxLogger = { info: () => undefined, warn: () => undefined };
const DEFAULT_RUNTIME = '/run/kwire';
const AGENT_MARK = 'echo-agent.js';

interface StateFile {
  readonly cluster: string;
  readonly prefix: string;
  readonly pids: readonly number[];
}

/** Throws EnvironmentError (exit 3) unless this is Linux, as root, with ip, bridge, nft, sysctl and perl. */
export async function ensureLinuxEnvironment(): Promise<void> {
  if (process.platform !== 'linux') throw new EnvironmentError(`the Linux plane needs Linux (this is ${process.platform}); the simulator (trace, reach) works anywhere`);
  if (process.getuid?.() !== 0) throw new EnvironmentError('the Linux plane needs root (network namespaces and nftables): run it with sudo; the simulator (trace, reach) needs no privileges');
  for (const tool of [['ip', '-V'], ['bridge', '-V'], ['nft', '--version'], ['sysctl', '--version'], ['perl', '-MSocket', '-e', '1']]) {
    const ok = await run(tool).then((r) => r.code === 0, () => false);
    if (!ok) throw new EnvironmentError(`the Linux plane needs "${tool[0] ?? ''}" (Debian: apt-get install iproute2 nftables procps perl-base)`);
  }
}

function clusterDir(runtimeDir: string, clusterName: string): string {
  return join(runtimeDir, `${clusterSlug(clusterName)}.${shortHash(clusterName).slice(0, 4)}`);
}

function isOurAgent(pid: number): boolean {
  try {
    return readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8').includes(AGENT_MARK);
  } catch {
    return false;
  }
}

async function listNetns(prefix: string): Promise<string[]> {
  const out = await runChecked(['ip', 'netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(prefix));
}

async function deleteNetns(names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await runChecked(['ip', '-batch', '-'], `${names.map((n) => `netns del ${n}`).join('\n')}\n`);
  for (const n of names) rmSync(`/etc/netns/${n}`, { recursive: true, force: true });
}

/** Removes every namespace, agent and file of a cluster (also what a crashed run left behind). */
export async function linuxDown(clusterName: string, opts: LinuxDownOptions = {}): Promise<void> {
  await ensureLinuxEnvironment();
  const logger = opts.logger ?? SILENT;
  const dir = clusterDir(opts.runtimeDir ?? DEFAULT_RUNTIME, clusterName);
  const file = join(dir, 'state.json');
  if (existsSync(file)) {
    const recorded = JSON.parse(readFileSync(file, 'utf8')) as StateFile;
    for (const pid of recorded.pids) {
      if (isOurAgent(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
  }
  const names = clusterNames(clusterName);
  const left = await listNetns(names.prefix);
  await deleteNetns(left);
  rmSync(dir, { recursive: true, force: true });
  if (left.length > 0) logger.info(`removed ${String(left.length)} network namespaces of cluster ${clusterName}`);
}

interface Agent {
  readonly child: ChildProcess;
  readonly key: string;
}

function agentSockets(state: NetworkState, node: NodeState, names: ClusterNames): { sockets: AgentSocket[]; specs: SocketSpec[] } {
  const sockets: AgentSocket[] = [];
  const specs: SocketSpec[] = [];
  for (const pod of wiredPods(state)) {
    if (pod.node !== node.name) continue;
    const isDns = pod.namespace === 'kube-system' && pod.labels['k8s-app'] === 'kube-dns';
    const seen = new Set<string>();
    for (const port of pod.ports) {
      if (port.protocol === 'SCTP') continue;
      const protocol = port.protocol === 'TCP' ? 'tcp' : 'udp';
      const key = `${protocol}/${String(port.containerPort)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      sockets.push({ pod: `${pod.namespace}/${pod.name}`, protocol, port: port.containerPort, role: isDns && port.containerPort === 53 ? 'dns' : 'echo' });
      specs.push({ netns: names.pod(pod.namespace, pod.name), protocol, port: port.containerPort, listen: protocol === 'tcp' });
    }
  }
  return { sockets, specs };
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  child.ref();
  return new Promise((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
}

class Plane implements LinuxPlane {
  readonly names: ClusterNames;
  readonly timings: Record<string, number> = {};
  private current: NetworkState;
  private readonly dir: string;
  private readonly agentDir: string;
  private readonly logger: LinuxLogger;
  private readonly agents = new Map<string, Agent>();
  private readonly kubeProxy = new Map<string, string>();
  private readonly netpol = new Map<string, NetpolTable | undefined>();
  private dnsText = '';
  private pods = new Map<string, PodPlan>();

  constructor(state: NetworkState, private readonly opts: LinuxUpOptions) {
    this.current = state;
    this.names = clusterNames(state.cluster.name);
    this.dir = clusterDir(opts.runtimeDir ?? DEFAULT_RUNTIME, state.cluster.name);
    this.agentDir = opts.agentDir ?? dirname(fileURLToPath(import.meta.url));
    this.logger = opts.logger ?? SILENT;
  }

  state = (): NetworkState => this.current;

  private saveState(): void {
    const file: StateFile = { cluster: this.current.cluster.name, prefix: this.names.prefix, pids: [...this.agents.values()].flatMap((a) => (a.child.pid === undefined ? [] : [a.child.pid])) };
    writeFileSync(join(this.dir, 'state.json'), `${JSON.stringify(file, null, 2)}\n`);
  }

  private async time<T>(phase: string, f: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      this.timings[phase] = Math.round((performance.now() - t0) * 10) / 10;
    }
  }

  async build(): Promise<void> {
    const state = this.current;
    mkdirSync(this.dir, { recursive: true });
    this.saveState();
    const plan = planTopology(state);
    const all = [plan.names.fabric, plan.names.external, ...plan.nodes.map((n) => n.netns), ...plan.pods.map((p) => p.netns)];
    await this.time('netns', () => runChecked(['ip', '-batch', '-'], `${all.map((n) => `netns add ${n}`).join('\n')}\n`));
    await this.time('fabric', async () => {
      await ipBatch(plan.names.fabric, plan.fabricLines);
      await Promise.all([ipBatch(plan.names.external, plan.externalLines), ...plan.nodes.map((n) => sysctls(n.netns, nodeSysctls(state)))]);
    });
    await this.time('nodes', () => inParallel(plan.nodes, 4, async (n) => {
      await ipBatch(n.netns, n.lines);
      await sysctls(n.netns, podVethSysctls(state, plan.pods.filter((p) => p.nodeNetns === n.netns)));
      if (n.fdb.length > 0) await runChecked(['bridge', '-n', n.netns, '-batch', '-'], `${n.fdb.join('\n')}\n`);
    }));
    await this.time('pods', () => inParallel(plan.pods, 6, (p) => this.wirePod(p)));
    for (const p of plan.pods) this.pods.set(p.key, p);
    await this.time('nftables', () => this.syncNft());
    await this.time('agents', () => this.syncAgents());
    this.saveState();
  }

  private async wirePod(p: PodPlan): Promise<void> {
    const node = this.current.nodes.find((n) => n.name === p.pod.node);
    if (!node) return;
    await ipBatch(p.netns, podLines(this.current, p, node));
    const dns = this.current.services.find((s) => s.namespace === 'kube-system' && s.name === 'kube-dns');
    if (dns && dns.clusterIP !== 'None' && dns.clusterIP !== '') {
      mkdirSync(`/etc/netns/${p.netns}`, { recursive: true });
      writeFileSync(`/etc/netns/${p.netns}/resolv.conf`, resolvConf(this.current, p.pod.namespace, dns.clusterIP));
    }
  }

  private async syncNft(): Promise<number> {
    const state = this.current;
    const compiled = state.policies;
    let changed = 0;
    await Promise.all(
      state.nodes.map(async (node) => {
        const netns = this.names.node(node.name);
        const proxy = renderKubeProxy(state, node);
        const next = renderNetpol(state, compiled, node);
        let script = this.kubeProxy.get(node.name) === proxy ? '' : proxy;
        script += netpolUpdateScript(this.netpol.get(node.name), next);
        if (script === '') return;
        await nftLoad(netns, script);
        this.kubeProxy.set(node.name, proxy);
        this.netpol.set(node.name, next);
        changed++;
      }),
    );
    return changed;
  }

  private async syncAgents(): Promise<number> {
    const recordsFile = join(this.dir, 'dns.json');
    const dnsText = JSON.stringify(buildDnsRecords(this.current));
    if (dnsText !== this.dnsText) {
      writeFileSync(recordsFile, dnsText);
      this.dnsText = dnsText;
      for (const a of this.agents.values()) a.child.kill('SIGHUP');
    }
    let restarted = 0;
    const nodes = new Set([...this.current.nodes.map((n) => n.name), ...this.agents.keys()]);
    await Promise.all(
      [...nodes].map(async (nodeName) => {
        const node = this.current.nodes.find((n) => n.name === nodeName);
        const wanted = node ? agentSockets(this.current, node, this.names) : { sockets: [], specs: [] };
        const key = JSON.stringify(wanted.specs);
        const old = this.agents.get(nodeName);
        if (old?.key === key) return;
        if (old) {
          old.child.kill('SIGTERM');
          await waitExit(old.child);
          this.agents.delete(nodeName);
        }
        if (!node || wanted.specs.length === 0) return;
        const spec: AgentSpec = { sockets: wanted.sockets, records: recordsFile };
        const specFile = join(this.dir, `agent-${clusterSlug(nodeName)}.json`);
        writeFileSync(specFile, JSON.stringify(spec));
        const child = await this.startAgent(this.names.node(nodeName), wanted.specs, specFile, nodeName);
        this.agents.set(nodeName, { child, key });
        restarted++;
      }),
    );
    this.saveState();
    return restarted;
  }

  private startAgent(netns: string, specs: readonly SocketSpec[], specFile: string, nodeName: string): Promise<ChildProcess> {
    const log = join(this.dir, `agent-${clusterSlug(nodeName)}.log`);
    const argv = ['netns', 'exec', netns, ...binderArgv(specs, [process.execPath, join(this.agentDir, AGENT_MARK), specFile])];
    return new Promise((resolve, reject) => {
      const logStream = createWriteStream(log, { flags: 'a' });
      logStream.on('open', (fd) => {
        const child = spawn('ip', argv, { detached: true, stdio: ['ignore', 'pipe', fd] });
        let out = '';
        const onExit = (code: number | null): void => {
          logStream.close();
          const tail = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-3).join('; ') : '';
          reject(new Error(`the pod agent of node ${nodeName} exited (${String(code)}) before it was ready: ${tail}`));
        };
        child.once('exit', onExit);
        child.on('error', reject);
        child.stdout?.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8');
          if (out.includes('ready')) {
            child.off('exit', onExit);
            child.stdout?.destroy();
            child.unref();
            logStream.close();
            resolve(child);
          }
        });
      });
    });
  }

  apply = async (next: NetworkState): Promise<ApplyReport> => {
    const t0 = performance.now();
    const prev = this.current;
    const layout = (s: NetworkState): string => JSON.stringify([s.cluster.name, s.cluster.cni, s.cluster.nodeCIDR, s.cluster.podCIDR, s.nodes.map((n) => [n.name, n.ip, n.podCIDR])]);
    if (layout(prev) !== layout(next)) {
      await this.teardown();
      this.current = next;
      this.kubeProxy.clear();
      this.netpol.clear();
      this.dnsText = '';
      this.pods = new Map();
      await this.build();
      return { rebuilt: true, podsAdded: this.pods.size, podsRemoved: 0, nftNodes: next.nodes.length, agentsRestarted: this.agents.size, ms: performance.now() - t0 };
    }
    this.current = next;
    const wanted = new Map(wiredPods(next).map((p) => [`${p.namespace}/${p.name}`, planPod(this.names, p)]));
    const removed = [...this.pods.values()].filter((p) => wanted.get(p.key)?.pod.ip !== p.pod.ip || wanted.get(p.key)?.pod.node !== p.pod.node);
    const added = [...wanted.values()].filter((p) => this.pods.get(p.key)?.pod.ip !== p.pod.ip || this.pods.get(p.key)?.pod.node !== p.pod.node);
    if (removed.length > 0) {
      for (const p of removed) {
        const agent = this.agents.get(p.pod.node);
        if (agent) {
          agent.child.kill('SIGTERM');
          await waitExit(agent.child);
          this.agents.delete(p.pod.node);
        }
        this.pods.delete(p.key);
      }
      await deleteNetns(removed.map((p) => p.netns));
    }
    if (added.length > 0) {
      await runChecked(['ip', '-batch', '-'], `${added.map((p) => `netns add ${p.netns}`).join('\n')}\n`);
      const byNode = new Map<string, PodPlan[]>();
      for (const p of added) {
        const list = byNode.get(p.nodeNetns);
        if (list) list.push(p);
        else byNode.set(p.nodeNetns, [p]);
      }
      await Promise.all(
        [...byNode].map(async ([netns, list]) => {
          await ipBatch(netns, list.flatMap((p) => podNodeLines(next, p)));
          await sysctls(netns, podVethSysctls(next, list));
        }),
      );
      await inParallel(added, 6, (p) => this.wirePod(p));
      for (const p of added) this.pods.set(p.key, p);
    }
    const nftNodes = await this.syncNft();
    const agentsRestarted = await this.syncAgents();
    return { rebuilt: false, podsAdded: added.length, podsRemoved: removed.length, nftNodes, agentsRestarted, ms: performance.now() - t0 };
  };

  probe = async (probes: readonly Probe[]): Promise<ProbeOutcome[]> => {
    const runnable = probes.map((p, i) => ({ p, i })).filter(({ p }) => p.protocol !== 'SCTP');
    const results: ProbeOutcome[] = probes.map(() => ({ connected: false, error: 'SCTP: not served by the pod agent (Node has no SCTP sockets)' }));
    if (runnable.length === 0) return results;
    const netnsOf = (from: Probe['from']): string => (from === 'external' ? this.names.external : 'pod' in from ? this.names.pod(...(from.pod.split('/') as [string, string])) : this.names.node(from.node));
    const specs: SocketSpec[] = runnable.map(({ p }) => ({ netns: netnsOf(p.from), protocol: p.protocol === 'TCP' ? 'tcp' : 'udp', port: 0, listen: false }));
    const agentProbes: AgentProbe[] = runnable.map(({ p }) => ({ protocol: p.protocol === 'TCP' ? 'tcp' : 'udp', host: p.to, port: p.port, timeoutMs: p.timeoutMs ?? 400, send: p.send ?? 'hostname' }));
    const file = join(this.dir, `probes-${String(process.pid)}-${String(Date.now())}.json`);
    writeFileSync(file, JSON.stringify(agentProbes));
    try {
      const out = await runChecked(['ip', 'netns', 'exec', this.names.external, ...binderArgv(specs, [process.execPath, join(this.agentDir, 'probe-agent.js'), file])]);
      const outcomes = JSON.parse(out) as ProbeOutcome[];
      runnable.forEach(({ i }, k) => {
        results[i] = outcomes[k] ?? { connected: false, error: 'no result' };
      });
      return results;
    } finally {
      rmSync(file, { force: true });
    }
  };

  private async teardown(): Promise<void> {
    await Promise.all(
      [...this.agents.values()].map(async (a) => {
        a.child.kill('SIGTERM');
        await waitExit(a.child);
      }),
    );
    this.agents.clear();
    await deleteNetns(await listNetns(this.names.prefix));
  }

  down = async (): Promise<void> => {
    await this.teardown();
    rmSync(this.dir, { recursive: true, force: true });
  };
}

/** Builds a NetworkState into the kernel and returns the running plane (after a leftover cleanup). */
export async function linuxUp(state: NetworkState, opts: LinuxUpOptions = {}): Promise<LinuxPlane> {
  await ensureLinuxEnvironment();
  await linuxDown(state.cluster.name, { logger: opts.logger, runtimeDir: opts.runtimeDir });
  const plane = new Plane(state, opts);
  const t0 = performance.now();
  try {
    await plane.build();
  } catch (e) {
    await plane.down().catch(() => undefined);
    throw e;
  }
  plane.timings.total = Math.round(performance.now() - t0);
  (opts.logger ?? SILENT).info(`linux plane of cluster ${state.cluster.name} ready in ${String(plane.timings.total)} ms`);
  opts.signal?.addEventListener('abort', () => {
    void plane.down();
  }, { once: true });
  opts.onReady?.(plane);
  return plane;
}
