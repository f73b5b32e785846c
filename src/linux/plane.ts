/**
 * The Linux plane's lifecycle: `linuxUp` builds a NetworkState into network namespaces, veths,
 * nftables, pod agents, the ingress controllers' proxies, MetalLB's layer-2 addresses and BGP
 * speakers with the outside world's router; the handle's `apply` moves the kernel to a new state
 * changing only what differs (a stopped node included); `probe` makes connections for real;
 * `linuxDown` removes everything of a cluster, including what a crashed run left.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvironmentError } from '../api/problems.js';
import type { Connection, Dataplane, Probed } from '../model/dataplane.js';
import { listeningPorts, nodeListeningPorts, type ListeningPort } from '../model/endpoints.js';
import type { NetworkState, NodeState, PodState } from '../model/types.js';
import { makeDefaultCertificate, type Http01Responder, type PemPair, type ProxyLimits, type TlsSecret } from '../proxy/index.js';
import { binderArgv, type SocketSpec } from './binder.js';
import { planRouter, renderBird, renderFrr, renderZebra, speakerSessions, type RouterPlan } from './bgp.js';
import { controllerPods, ControllerProxies } from './controllers.js';
import { killRecorded, startDaemon, stopDaemon, type Daemon } from './daemons.js';
import { buildDnsRecords, buildOutsideRecords, resolvConf } from '../model/dns-records.js';
import type { AgentSocket, AgentSpec } from './echo-agent.js';
import { renderCniNat } from './cni-nat.js';
import { renderKubeProxy } from './kube-proxy.js';
import { addressChanges, planAddresses, type AddressPlan } from './metallb.js';
import { clusterNames, clusterRuntimeDir, nodeUplinkName, type ClusterNames } from './names.js';
import { netpolUpdateScript, renderNetpol, type NetpolTable } from './netpol.js';
import type { AgentProbe, ProbeOutcome } from './probe-agent.js';
import { observed, outsideResolver, planProbe, type Planned } from './probe.js';
import { inParallel, ipBatch, nftLoad, run, runChecked, sysctls } from './run.js';
import { EXTERNAL_CLIENT, externalFabricIp, uplinkRouteLines, nodeSysctls, planPod, podVethSysctls, planTopology, podLines, podNodeLines, wiredPods, type PodPlan } from './topology.js';

/** Where the plane reports progress. */
export interface LinuxLogger {
  readonly info: (message: string) => void;
  readonly warn: (message: string) => void;
}

/** Options of `linuxUp`. */
export interface LinuxUpOptions {
  /** @default silent */
  readonly logger?: LinuxLogger;
  /** Aborting it stops the build between phases (then everything built is removed). */
  readonly signal?: AbortSignal;
  /** The runtime root; the cluster's files go in a directory of their own under it. @default '/run/kwire' */
  readonly runtimeDir?: string;
  /** Directory holding the compiled `echo-agent.js` and `probe-agent.js`. @default this module's directory */
  readonly agentDir?: string;
  /**
   * The proxy worker program (`cli/up/proxy-worker.js`) the ingress controller pods run. Without
   * it their pods run the echo program like any pod (the plane's own tests).
   */
  readonly proxyEntry?: string;
  /** The controllers' proxy limits (a shorter connect timeout makes a dropped hop fail faster). */
  readonly proxyLimits?: Partial<ProxyLimits>;
}

/** Options of `linuxDown`. */
export interface LinuxDownOptions {
  readonly logger?: LinuxLogger;
  /** @default '/run/kwire' */
  readonly runtimeDir?: string;
}

/** A raw connection from inside the cluster's namespaces (the plane's own tests). */
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
  /** Nodes whose links went down or up. */
  readonly nodesStopped: readonly string[];
  readonly nodesStarted: readonly string[];
  /** LoadBalancer addresses that moved to a new layer-2 holder (gratuitous ARP sent). */
  readonly addressesMoved: number;
  /** Milliseconds per phase (an incremental apply). */
  readonly phases?: Readonly<Record<string, number>>;
  readonly ms: number;
}

/** A running Linux plane. */
export interface LinuxPlane extends Dataplane {
  readonly names: ClusterNames;
  /** The cluster's runtime directory. */
  readonly dir: string;
  readonly state: () => NetworkState;
  /** Milliseconds per phase of the last build, and `total`. */
  readonly timings: Readonly<Record<string, number>>;
  readonly apply: (next: NetworkState) => Promise<ApplyReport>;
  /** Raw probes by address (the plane's own tests). */
  readonly rawProbe: (probes: readonly Probe[]) => Promise<ProbeOutcome[]>;
  /** Makes the connections for real; a dropped one fails after `timeoutMs` (default 1500). */
  readonly probe: (connections: readonly Connection[], timeoutMs?: number) => Promise<Probed[]>;
  /** Fetches `http://DOMAIN/PATH` from the outside world, as an ACME server's HTTP-01 validation does. */
  readonly fetchFromOutside: (domain: string, path: string, timeoutMs: number) => Promise<{ status: number; body: string; via: string } | { error: string }>;
  /** The ingress controllers' proxies (certificates and HTTP-01 answers go to them). */
  readonly setCertificates: (secrets: readonly TlsSecret[]) => void;
  readonly setHttp01Responder: (responder: Http01Responder | undefined) => void;
  /** Resolves once every controller proxy has the certificates handed over so far. */
  readonly settled: () => Promise<void>;
  /** Waits until the outside world's router has a route to every BGP-announced prefix (or `timeoutMs`). */
  readonly bgpConverged: (timeoutMs?: number) => Promise<boolean>;
  readonly down: () => Promise<void>;
}

const SILENT: LinuxLogger = { info: () => undefined, warn: () => undefined };
const DEFAULT_RUNTIME = '/run/kwire';
const FRR = { zebra: '/usr/lib/frr/zebra', bgpd: '/usr/lib/frr/bgpd' } as const;

/** What the plane records for a crashed run's cleanup. */
interface StateFile {
  readonly cluster: string;
  readonly prefix: string;
  readonly pids: readonly number[];
}

/** The build was stopped by its AbortSignal. */
export class BuildAborted extends Error {
  readonly code = 'EABORTED';
  constructor() {
    super('the build of the Linux plane was stopped');
  }
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

/** Whether the BGP peers of a state can run here (BIRD 2 and FRR), with the reason when not. */
async function bgpAvailable(): Promise<string | undefined> {
  for (const [tool, pkg] of [['bird', 'bird2'], ['birdc', 'bird2'], [FRR.zebra, 'frr'], [FRR.bgpd, 'frr'], ['vtysh', 'frr']] as const) {
    const ok = await run(['sh', '-c', `command -v ${tool}`]).then((r) => r.code === 0, () => false);
    if (!ok) return `${tool} is not installed (Debian: apt-get install ${pkg})`;
  }
  return undefined;
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

/** FRR leaves a crash-log buffer per daemon PID in /var/tmp/frr; ours go with our daemons. */
function removeFrrScratch(pids: readonly number[]): void {
  for (const pid of pids) for (const d of ['zebra', 'bgpd']) rmSync(`/var/tmp/frr/${d}.${String(pid)}`, { recursive: true, force: true });
}

/** Removes every namespace, program and file of a cluster (also what a crashed run left behind); true when something was left. */
export async function linuxDown(clusterName: string, opts: LinuxDownOptions = {}): Promise<boolean> {
  await ensureLinuxEnvironment();
  const logger = opts.logger ?? SILENT;
  const dir = clusterRuntimeDir(opts.runtimeDir ?? DEFAULT_RUNTIME, clusterName);
  const file = join(dir, 'linux.json');
  const recordedRun = existsSync(file);
  if (recordedRun) {
    const recorded = JSON.parse(readFileSync(file, 'utf8')) as StateFile;
    killRecorded(recorded.pids, dir);
    removeFrrScratch(recorded.pids);
  }
  const names = clusterNames(clusterName);
  const left = await listNetns(names.prefix);
  await deleteNetns(left);
  for (const f of ['linux.json', 'dns.json', 'outside.json']) rmSync(join(dir, f), { force: true });
  for (const sub of ['frr', 'bird', 'agents']) rmSync(join(dir, sub), { recursive: true, force: true });
  // The controller proxies' own output (an access log the user asked for stays).
  if (existsSync(dir)) for (const f of readdirSync(dir)) if (/^proxy-.*\.log$/.test(f)) rmSync(join(dir, f), { force: true });
  if (left.length > 0) logger.info(`removed ${String(left.length)} network namespaces of cluster ${clusterName}`);
  return recordedRun || left.length > 0;
}

function podAgentSockets(state: NetworkState, node: NodeState, names: ClusterNames, skip: ReadonlySet<string>, listening: ReadonlyMap<PodState, readonly ListeningPort[]>): { sockets: AgentSocket[]; specs: SocketSpec[] } {
  const sockets: AgentSocket[] = [];
  const specs: SocketSpec[] = [];
  for (const pod of wiredPods(state)) {
    if (pod.node !== node.name || skip.has(`${pod.namespace}/${pod.name}`)) continue;
    const isDns = pod.namespace === 'kube-system' && pod.labels['k8s-app'] === 'kube-dns';
    for (const port of listening.get(pod) ?? []) {
      if (port.protocol === 'SCTP') continue;
      const protocol = port.protocol === 'TCP' ? 'tcp' : 'udp';
      sockets.push({ pod: `${pod.namespace}/${pod.name}`, protocol, port: port.port, role: isDns && port.port === 53 ? 'dns' : 'echo' });
      specs.push({ netns: names.pod(pod.namespace, pod.name), protocol, port: port.port, listen: protocol === 'tcp' });
    }
  }
  for (const p of nodeListeningPorts(state).get(node.name) ?? []) {
    if (p.protocol === 'SCTP') continue;
    const protocol = p.protocol === 'TCP' ? 'tcp' : 'udp';
    const apiserver = p.service.namespace === 'default' && p.service.name === 'kubernetes' && protocol === 'tcp';
    sockets.push({ pod: `node/${node.name}`, protocol, port: p.port, role: apiserver ? 'tls' : 'echo' });
    specs.push({ netns: names.node(node.name), protocol, port: p.port, listen: protocol === 'tcp' });
  }
  return { sockets, specs };
}

interface Agent {
  readonly daemon: Daemon;
  readonly key: string;
}

interface Speaker {
  readonly daemon: Daemon;
  readonly config: string;
  readonly ctl: string;
}

class Plane implements LinuxPlane {
  readonly name = 'linux' as const;
  readonly names: ClusterNames;
  readonly dir: string;
  readonly timings: Record<string, number> = {};
  private current: NetworkState;
  private readonly agentDir: string;
  private readonly logger: LinuxLogger;
  private readonly agents = new Map<string, Agent>();
  private readonly kubeProxy = new Map<string, string>();
  private readonly netpol = new Map<string, NetpolTable | undefined>();
  private dnsText = '';
  private outsideText = '';
  private pods = new Map<string, PodPlan>();
  private addresses: AddressPlan | undefined;
  private readonly externalAddresses = new Set<string>();
  private controllers: ControllerProxies | undefined;
  private certificates = new Map<string, TlsSecret>();
  private http01: Http01Responder | undefined;
  private router: { readonly plan: RouterPlan; readonly text: string; readonly daemons: readonly Daemon[] } | undefined;
  private readonly speakers = new Map<string, Speaker>();
  private readonly linksDown = new Set<string>();
  private bgpReason: string | undefined;
  private apiserverCertificate: PemPair | undefined;

  constructor(state: NetworkState, private readonly opts: LinuxUpOptions) {
    this.current = state;
    this.names = clusterNames(state.cluster.name);
    this.dir = clusterRuntimeDir(opts.runtimeDir ?? DEFAULT_RUNTIME, state.cluster.name);
    this.agentDir = opts.agentDir ?? dirname(fileURLToPath(import.meta.url));
    this.logger = opts.logger ?? SILENT;
  }

  state = (): NetworkState => this.current;

  private pids(): number[] {
    return [...[...this.agents.values()].map((a) => a.daemon.pid), ...(this.router?.daemons.map((d) => d.pid) ?? []), ...[...this.speakers.values()].map((s) => s.daemon.pid), ...(this.controllers?.pids ?? [])];
  }

  private saveState(): void {
    const file: StateFile = { cluster: this.current.cluster.name, prefix: this.names.prefix, pids: this.pids() };
    writeFileSync(join(this.dir, 'linux.json'), `${JSON.stringify(file, null, 2)}\n`);
  }

  private async time<T>(phase: string, f: () => Promise<T>): Promise<T> {
    if (this.opts.signal?.aborted) throw new BuildAborted();
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      this.timings[phase] = Math.round((performance.now() - t0) * 10) / 10;
    }
  }

  async build(): Promise<void> {
    const state = this.current;
    for (const sub of ['', 'agents', 'bird', 'frr']) mkdirSync(join(this.dir, sub), { recursive: true, mode: 0o700 });
    this.saveState();
    const plan = planTopology(state);
    const all = [plan.names.fabric, plan.names.external, ...plan.nodes.map((n) => n.netns), ...plan.pods.map((p) => p.netns)];
    await this.time('netns', () => runChecked(['ip', '-batch', '-'], `${all.map((n) => `netns add ${n}`).join('\n')}\n`));
    await this.time('fabric', async () => {
      await ipBatch(plan.names.fabric, plan.fabricLines);
      await Promise.all([ipBatch(plan.names.external, plan.externalLines), sysctls(plan.names.external, { 'net.ipv4.fib_multipath_hash_policy': 1 }), ...plan.nodes.map((n) => sysctls(n.netns, nodeSysctls(state)))]);
      this.writeResolvers();
    });
    const router = this.time('router', () => this.syncRouter());
    await this.time('nodes', () => inParallel(plan.nodes, 4, async (n) => {
      await ipBatch(n.netns, n.lines);
      await sysctls(n.netns, podVethSysctls(state, plan.pods.filter((p) => p.nodeNetns === n.netns)));
      if (n.fdb.length > 0) await runChecked(['bridge', '-n', n.netns, '-batch', '-'], `${n.fdb.join('\n')}\n`);
    }));
    await this.time('pods', () => inParallel(plan.pods, 6, (p) => this.wirePod(p)));
    for (const p of plan.pods) this.pods.set(p.key, p);
    await this.time('nftables', () => this.syncNft());
    await this.time('addresses', () => this.syncAddresses(false));
    await this.time('agents', () => this.syncAgents());
    await this.time('controllers', () => this.syncControllers());
    await router;
    await this.time('bgp', async () => {
      await this.syncSpeakers();
      if (!(await this.bgpConverged())) this.logger.warn('BGP: the router did not learn every announced route in time; see kwire exec router -- vtysh -c "show bgp summary"');
    });
    this.saveState();
  }

  /** resolv.conf of the outside world and of the nodes: the outside world's DNS. */
  private writeResolvers(): void {
    const write = (netns: string, text: string): void => {
      mkdirSync(`/etc/netns/${netns}`, { recursive: true });
      writeFileSync(`/etc/netns/${netns}/resolv.conf`, text);
    };
    write(this.names.external, 'nameserver 127.0.0.1\n');
    for (const n of this.current.nodes) write(this.names.node(n.name), `nameserver ${externalFabricIp(this.current.cluster.nodeCIDR)}\n`);
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
    let changed = 0;
    await Promise.all(
      state.nodes.map(async (node) => {
        const netns = this.names.node(node.name);
        const proxy = renderKubeProxy(state, node) + renderCniNat(state, node);
        const next = renderNetpol(state, state.policies, node);
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

  /** MetalLB layer-2 holders and the outside world's routes to LoadBalancer addresses; GARP from new holders. */
  private async syncAddresses(announce: boolean): Promise<number> {
    const next = planAddresses(this.current);
    const changes = addressChanges(this.addresses, next, EXTERNAL_CLIENT.ip);
    await Promise.all([
      ...[...changes.nodes].map(([node, lines]) => ipBatch(this.names.node(node), lines)),
      ipBatch(this.names.external, changes.external),
    ]);
    this.addresses = next;
    if (announce) for (const a of changes.announce) this.gratuitousArp(a.node, a.ip);
    return changes.announce.length;
  }

  /** Sends gratuitous ARP for `ip` from `node` (arping blocks about a second: it is not awaited). */
  private gratuitousArp(node: string, ip: string): void {
    for (const mode of ['-U', '-A']) {
      run(['ip', 'netns', 'exec', this.names.node(node), 'arping', mode, '-c', '1', '-I', 'eth0', ip]).then(
        (r) => {
          if (r.code !== 0) this.logger.warn(`gratuitous ARP for ${ip} from ${node}: ${r.stderr.trim() || `arping exited ${String(r.code)}`} (Debian: apt-get install iputils-arping)`);
        },
        () => {
          this.logger.warn('gratuitous ARP needs arping (Debian: apt-get install iputils-arping); clients keep the old holder until their ARP entry expires');
        },
      );
    }
  }

  private async startAgent(key: string, netns: string, specs: readonly SocketSpec[], spec: AgentSpec): Promise<Daemon> {
    const specFile = join(this.dir, 'agents', `${key}.json`);
    writeFileSync(specFile, JSON.stringify(spec));
    const log = join(this.dir, 'agents', `${key}.log`);
    const argv = binderArgv(specs, [process.execPath, join(this.agentDir, 'echo-agent.js'), specFile]);
    const daemon = await startDaemon(`agent ${key}`, netns, argv, { log, stdoutPipe: true });
    const ready = daemon.child.stdout;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const onExit = (code: number | null): void => {
        const tail = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-3).join('; ') : '';
        reject(new Error(`the agent ${key} exited (${String(code)}) before it was ready: ${tail}`));
      };
      daemon.child.once('exit', onExit);
      ready?.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        if (!out.includes('ready')) return;
        daemon.child.off('exit', onExit);
        ready.destroy();
        resolve();
      });
    });
    daemon.child.unref();
    return daemon;
  }

  private async syncAgents(): Promise<number> {
    const recordsFile = join(this.dir, 'dns.json');
    const outsideFile = join(this.dir, 'outside.json');
    const dnsText = JSON.stringify(buildDnsRecords(this.current));
    const outsideText = JSON.stringify(buildOutsideRecords(this.current));
    const reload = dnsText !== this.dnsText || outsideText !== this.outsideText;
    if (dnsText !== this.dnsText) writeFileSync(recordsFile, dnsText);
    if (outsideText !== this.outsideText) writeFileSync(outsideFile, outsideText);
    this.dnsText = dnsText;
    this.outsideText = outsideText;
    if (reload) for (const a of this.agents.values()) a.daemon.child.kill('SIGHUP');
    const skip = new Set(this.opts.proxyEntry ? controllerPods(this.current).map((p) => `${p.namespace}/${p.name}`) : []);
    const wanted = new Map<string, { netns: string; specs: SocketSpec[]; spec: AgentSpec }>();
    const listening = listeningPorts(this.current);
    for (const node of this.current.nodes) {
      const w = podAgentSockets(this.current, node, this.names, skip, listening);
      if (w.specs.length === 0) continue;
      const tls = w.sockets.some((s) => s.role === 'tls') ? (this.apiserverCertificate ??= await makeDefaultCertificate()) : undefined;
      wanted.set(`node-${node.name}`, { netns: this.names.node(node.name), specs: w.specs, spec: { sockets: w.sockets, records: recordsFile, ...(tls ? { tls } : {}) } });
    }
    const ext = this.names.external;
    wanted.set('external', { netns: ext, specs: [{ netns: ext, protocol: 'udp', port: 53, listen: false }, { netns: ext, protocol: 'tcp', port: 53, listen: true }], spec: { sockets: [{ pod: 'external/dns', protocol: 'udp', port: 53, role: 'dns' }, { pod: 'external/dns', protocol: 'tcp', port: 53, role: 'dns' }], records: outsideFile } });
    let restarted = 0;
    await Promise.all(
      [...new Set([...wanted.keys(), ...this.agents.keys()])].map(async (key) => {
        const want = wanted.get(key);
        const keyText = want ? JSON.stringify(want.specs) : '';
        const old = this.agents.get(key);
        if (old?.key === keyText) return;
        if (old) {
          await stopDaemon(old.daemon);
          this.agents.delete(key);
        }
        if (!want) return;
        const daemon = await this.startAgent(key, want.netns, want.specs, want.spec);
        this.agents.set(key, { daemon, key: keyText });
        restarted++;
      }),
    );
    this.saveState();
    return restarted;
  }

  private async syncControllers(): Promise<void> {
    const entry = this.opts.proxyEntry;
    if (!entry) return;
    if (this.controllers?.sameControllers(this.current)) {
      await this.controllers.apply(this.current);
      return;
    }
    await this.controllers?.stop();
    this.controllers = undefined;
    if (controllerPods(this.current).length === 0) return;
    this.controllers = await ControllerProxies.start(this.current, { entry, dir: this.dir, names: this.names, logger: this.logger, ...(this.opts.proxyLimits ? { limits: this.opts.proxyLimits } : {}) });
    if (this.certificates.size > 0) this.controllers.setCertificates([...this.certificates.values()]);
    if (this.http01) this.controllers.setHttp01Responder(this.http01);
    this.saveState();
  }

  /** The outside world's router (FRR), started, restarted on a new configuration, or stopped. */
  private async syncRouter(): Promise<void> {
    // Every node that may peer is the router's neighbour, stopped or not: a stopped node's session just goes down.
    const plan = planRouter(this.current, speakerSessions(this.current, false));
    if (plan && this.bgpReason === undefined) this.bgpReason = (await bgpAvailable()) ?? '';
    if (plan && this.bgpReason) {
      this.logger.warn(`BGP: ${this.bgpReason}; the BGPPeers are not peered with and BGP-announced addresses are unreachable`);
      return;
    }
    const frrDir = join(this.dir, 'frr');
    const text = plan ? renderFrr(plan, join(frrDir, 'bgpd.log')) : '';
    if (this.router && this.router.text === text) return;
    if (this.router) {
      for (const d of [...this.router.daemons].reverse()) await stopDaemon(d);
      removeFrrScratch(this.router.daemons.map((d) => d.pid));
      const gone = this.router.plan.addresses.filter((a) => !plan?.addresses.includes(a));
      await ipBatch(this.names.external, gone.map((a) => `address del ${a} dev eth0`)).catch(() => undefined);
      this.router = undefined;
    }
    if (!plan) return;
    const fresh = plan.addresses.filter((a) => !this.externalAddresses.has(a) && a.split('/')[0] !== externalFabricIp(this.current.cluster.nodeCIDR));
    await ipBatch(this.names.external, fresh.map((a) => `address replace ${a} dev eth0`));
    for (const a of fresh) this.externalAddresses.add(a);
    const sock = join(frrDir, 'sock');
    mkdirSync(sock, { recursive: true });
    writeFileSync(join(frrDir, 'zebra.conf'), renderZebra(join(frrDir, 'zebra.log'), EXTERNAL_CLIENT.ip));
    writeFileSync(join(frrDir, 'bgpd.conf'), text);
    const common = ['-u', 'root', '-g', 'frrvty', '--vty_socket', sock, '-z', join(sock, 'zserv.api'), '-P', '0'];
    const zebra = await startDaemon('zebra', this.names.external, [FRR.zebra, ...common, '-f', join(frrDir, 'zebra.conf'), '-i', join(sock, 'zebra.pid')], { log: join(frrDir, 'zebra.out') });
    await waitFor(() => existsSync(join(sock, 'zserv.api')), 5000);
    const bgpd = await startDaemon('bgpd', this.names.external, [FRR.bgpd, ...common, '-p', String(plan.port), '-f', join(frrDir, 'bgpd.conf'), '-i', join(sock, 'bgpd.pid')], { log: join(frrDir, 'bgpd.out') });
    this.router = { plan, text, daemons: [zebra, bgpd] };
    this.saveState();
  }

  /** BIRD on every node that keeps a session: started, reconfigured in place, or stopped (a Cease: the router withdraws at once). */
  private async syncSpeakers(): Promise<void> {
    if (!this.router) {
      for (const [node, s] of this.speakers) {
        await stopDaemon(s.daemon);
        this.speakers.delete(node);
      }
      return;
    }
    const sessions = speakerSessions(this.current);
    const birdDir = join(this.dir, 'bird');
    await Promise.all(
      this.current.nodes.map(async (node) => {
        const list = node.ready ? (sessions.get(node.name) ?? []) : [];
        const old = this.speakers.get(node.name);
        const file = join(birdDir, `${node.name}.conf`);
        const config = list.length > 0 ? renderBird(node, list, join(birdDir, `${node.name}.log`)) : '';
        if (old && config === old.config) return;
        if (old && config === '') {
          await stopDaemon(old.daemon);
          this.speakers.delete(node.name);
          return;
        }
        if (config === '') return;
        writeFileSync(file, config);
        if (old) {
          const r = await run(['birdc', '-s', old.ctl, 'configure']);
          if (r.code === 0) {
            this.speakers.set(node.name, { ...old, config });
            return;
          }
          await stopDaemon(old.daemon);
        }
        const ctl = join(birdDir, `${node.name}.ctl`);
        const daemon = await startDaemon(`bird ${node.name}`, this.names.node(node.name), ['bird', '-f', '-c', file, '-s', ctl, '-P', join(birdDir, `${node.name}.pid`)], { log: join(birdDir, `${node.name}.out`) });
        this.speakers.set(node.name, { daemon, config, ctl });
      }),
    );
    this.saveState();
  }

  bgpConverged = async (timeoutMs = 8000): Promise<boolean> => {
    if (!this.router) return true;
    const want = new Map<string, Set<string>>();
    for (const r of this.current.metallb?.announcements.routes ?? []) {
      if (!this.speakers.has(r.node) || !this.router.plan.neighbors.some((n) => n.node === r.node)) continue;
      const set = want.get(r.prefix) ?? new Set<string>();
      set.add(r.nextHop);
      want.set(r.prefix, set);
    }
    return waitFor(async () => {
      // Any birdc call wakes BIRD's event loop, which otherwise holds its first UPDATE for a while.
      await Promise.all([...this.speakers.values()].map((s) => run(['birdc', '-s', s.ctl, 'show', 'protocols'])));
      const have = await routerRoutes(this.names.external);
      return [...want].every(([prefix, hops]) => {
        const got = have.get(prefix);
        return got !== undefined && got.size === hops.size && [...hops].every((h) => got.has(h));
      });
    }, timeoutMs, 50);
  };

  /** Takes stopped nodes' links down (their speakers stop first, with a Cease) and started ones' up. */
  private async syncLinks(next: NetworkState): Promise<{ stopped: string[]; started: string[] }> {
    const stopped: string[] = [];
    const started: string[] = [];
    for (const node of next.nodes) {
      const down = !node.ready;
      if (down === this.linksDown.has(node.name)) continue;
      const uplink = nodeUplinkName(node.name);
      if (down) {
        const speaker = this.speakers.get(node.name);
        if (speaker) {
          await stopDaemon(speaker.daemon);
          this.speakers.delete(node.name);
        }
        await ipBatch(this.names.fabric, [`link set ${uplink} down`]);
        await ipBatch(this.names.node(node.name), ['link set eth0 down']);
        this.linksDown.add(node.name);
        stopped.push(node.name);
      } else {
        await ipBatch(this.names.fabric, [`link set ${uplink} up`]);
        await ipBatch(this.names.node(node.name), ['link set eth0 up', ...uplinkRouteLines(next, node)]);
        this.linksDown.delete(node.name);
        started.push(node.name);
      }
    }
    return { stopped, started };
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
      this.outsideText = '';
      this.addresses = undefined;
      this.externalAddresses.clear();
      this.linksDown.clear();
      this.pods = new Map();
      await this.build();
      return { rebuilt: true, podsAdded: this.pods.size, podsRemoved: 0, nftNodes: next.nodes.length, agentsRestarted: this.agents.size, nodesStopped: [], nodesStarted: [], addressesMoved: 0, ms: performance.now() - t0 };
    }
    this.current = next;
    const links = await this.syncLinks(next);
    const wanted = new Map(wiredPods(next).map((p) => [`${p.namespace}/${p.name}`, planPod(this.names, p)]));
    const removed = [...this.pods.values()].filter((p) => wanted.get(p.key)?.pod.ip !== p.pod.ip || wanted.get(p.key)?.pod.node !== p.pod.node);
    const added = [...wanted.values()].filter((p) => this.pods.get(p.key)?.pod.ip !== p.pod.ip || this.pods.get(p.key)?.pod.node !== p.pod.node);
    if (removed.length > 0) {
      // A process inside a pod's namespace keeps it (and its veth) alive after `netns del`: stop them first.
      const gone = new Set(removed.map((p) => p.key));
      if (this.controllers?.pods.some((p) => gone.has(`${p.namespace}/${p.name}`))) {
        await this.controllers.stop();
        this.controllers = undefined;
      }
      for (const p of removed) {
        const agent = this.agents.get(`node-${p.pod.node}`);
        if (agent) {
          await stopDaemon(agent.daemon);
          this.agents.delete(`node-${p.pod.node}`);
        }
        this.pods.delete(p.key);
      }
      // The veth goes with its namespace only asynchronously: delete it first, so that a pod coming
      // back under the same name (a new address) finds its veth name free.
      const byNode = new Map<string, string[]>();
      for (const p of removed) byNode.set(p.nodeNetns, [...(byNode.get(p.nodeNetns) ?? []), `link del ${p.veth}`]);
      await Promise.all([...byNode].map(([netns, lines]) => ipBatch(netns, lines).catch(() => undefined)));
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
    const phases: Record<string, number> = {};
    const timed = async <T>(phase: string, f: () => Promise<T>): Promise<T> => {
      const p0 = performance.now();
      const out = await f();
      phases[phase] = Math.round((performance.now() - p0) * 10) / 10;
      return out;
    };
    const nftNodes = await timed('nftables', () => this.syncNft());
    const addressesMoved = await timed('addresses', () => this.syncAddresses(true));
    const agentsRestarted = await timed('agents', () => this.syncAgents());
    await timed('controllers', () => this.syncControllers());
    await timed('bgp', async () => {
      await this.syncRouter();
      await this.syncSpeakers();
    });
    return { rebuilt: false, podsAdded: added.length, podsRemoved: removed.length, nftNodes, agentsRestarted, nodesStopped: links.stopped, nodesStarted: links.started, addressesMoved, phases, ms: performance.now() - t0 };
  };

  /** Runs agent probes from their namespaces (one agent process per batch). */
  private async runAgent(probes: readonly AgentProbe[], specs: readonly SocketSpec[]): Promise<ProbeOutcome[]> {
    if (probes.length === 0) return [];
    await this.ensureExternalAddresses(specs);
    const file = join(this.dir, `probes-${String(process.pid)}-${String(Date.now())}-${String(Math.random()).slice(2, 8)}.json`);
    writeFileSync(file, JSON.stringify(probes));
    try {
      const out = await runChecked(['ip', 'netns', 'exec', this.names.external, ...binderArgv(specs, [process.execPath, join(this.agentDir, 'probe-agent.js'), file])]);
      return JSON.parse(out) as ProbeOutcome[];
    } finally {
      rmSync(file, { force: true });
    }
  }

  /** Outside clients other than the default one get their address in the `external` namespace. */
  private async ensureExternalAddresses(specs: readonly SocketSpec[]): Promise<void> {
    const fresh = [...new Set(specs.filter((s) => s.netns === this.names.external && s.address && !this.externalAddresses.has(`${s.address}/32`)).map((s) => s.address ?? ''))];
    if (fresh.length === 0) return;
    await ipBatch(this.names.external, fresh.map((a) => `address replace ${a}/32 dev eth0`));
    for (const a of fresh) this.externalAddresses.add(`${a}/32`);
  }

  rawProbe = async (probes: readonly Probe[]): Promise<ProbeOutcome[]> => {
    const runnable = probes.map((p, i) => ({ p, i })).filter(({ p }) => p.protocol !== 'SCTP');
    const results: ProbeOutcome[] = probes.map(() => ({ connected: false, error: 'SCTP: not served by the pod agent (Node has no SCTP sockets)' }));
    const netnsOf = (from: Probe['from']): string => (from === 'external' ? this.names.external : 'pod' in from ? this.names.pod(...(from.pod.split('/') as [string, string])) : this.names.node(from.node));
    const specs: SocketSpec[] = runnable.map(({ p }) => ({ netns: netnsOf(p.from), protocol: p.protocol === 'TCP' ? 'tcp' : 'udp', port: 0, listen: false }));
    const agentProbes: AgentProbe[] = runnable.map(({ p }) => ({ protocol: p.protocol === 'TCP' ? 'tcp' : 'udp', host: p.to, port: p.port, timeoutMs: p.timeoutMs ?? 400, send: p.send ?? 'hostname' }));
    const outcomes = await this.runAgent(agentProbes, specs);
    runnable.forEach(({ i }, k) => {
      results[i] = outcomes[k] ?? { connected: false, error: 'no result' };
    });
    return results;
  };

  probe = async (connections: readonly Connection[], timeoutMs = 1500): Promise<Probed[]> => {
    const planned: Planned[] = connections.map((c) => planProbe(this.current, this.names, c, timeoutMs));
    const results: Probed[] = planned.map((p) => ({ plane: 'linux', skipped: 'skipped' in p ? p.skipped : 'not run', hops: [] }));
    const runnable = planned.flatMap((p, i) => ('probe' in p ? [{ p, i }] : []));
    for (let at = 0; at < runnable.length; at += 200) {
      const batch = runnable.slice(at, at + 200);
      const outcomes = await this.runAgent(batch.map(({ p }) => p.probe), batch.flatMap(({ p }) => p.sockets));
      batch.forEach(({ p, i }, k) => {
        results[i] = observed(p, outcomes[k] ?? { connected: false, error: 'no result' });
      });
    }
    return results;
  };

  fetchFromOutside = async (domain: string, path: string, timeoutMs: number): Promise<{ status: number; body: string; via: string } | { error: string }> => {
    const p = planProbe(this.current, this.names, { from: { kind: 'external' }, to: { kind: 'url', scheme: 'http', host: domain, port: 80, path } }, timeoutMs);
    if (!('probe' in p)) return { error: p.skipped };
    const [o] = await this.runAgent([{ ...p.probe, resolver: outsideResolver(false, this.current.cluster.nodeCIDR) }], p.sockets);
    if (!o?.http) return { error: o?.error ? `from the outside world: ${o.error}` : 'no response' };
    return { status: o.http.status, body: o.http.body, via: `${o.resolved ?? domain}:80 from the external namespace` };
  };

  setCertificates = (secrets: readonly TlsSecret[]): void => {
    for (const s of secrets) this.certificates.set(`${s.namespace}/${s.name}`, s);
    this.controllers?.setCertificates(secrets);
  };

  setHttp01Responder = (responder: Http01Responder | undefined): void => {
    this.http01 = responder;
    this.controllers?.setHttp01Responder(responder);
  };

  settled = async (): Promise<void> => {
    await this.controllers?.settled();
  };

  private async teardown(): Promise<void> {
    await this.controllers?.stop().catch(() => undefined);
    this.controllers = undefined;
    const daemons = [...[...this.agents.values()].map((a) => a.daemon), ...[...this.speakers.values()].map((s) => s.daemon)];
    await Promise.all(daemons.map((d) => stopDaemon(d)));
    if (this.router) {
      for (const d of [...this.router.daemons].reverse()) await stopDaemon(d);
      removeFrrScratch(this.router.daemons.map((d) => d.pid));
    }
    this.router = undefined;
    this.agents.clear();
    this.speakers.clear();
    await deleteNetns(await listNetns(this.names.prefix));
  }

  down = async (): Promise<void> => {
    await this.teardown();
    for (const f of ['linux.json', 'dns.json', 'outside.json']) rmSync(join(this.dir, f), { force: true });
    for (const sub of ['frr', 'bird', 'agents']) rmSync(join(this.dir, sub), { recursive: true, force: true });
  };
}

/** Polls `check` every `everyMs` until it is true or `timeoutMs` passed. */
async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The BGP routes in the router's kernel table: prefix → next hops. */
async function routerRoutes(netns: string): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  const r = await run(['ip', '-n', netns, '-j', 'route', 'show', 'proto', 'bgp']);
  if (r.code !== 0 || r.stdout.trim() === '') return out;
  const routes = JSON.parse(r.stdout) as { dst: string; gateway?: string; nexthops?: { gateway?: string }[] }[];
  for (const route of routes) {
    const prefix = route.dst.includes('/') ? route.dst : `${route.dst}/32`;
    out.set(prefix, new Set([route.gateway, ...(route.nexthops ?? []).map((n) => n.gateway)].filter((g): g is string => g !== undefined)));
  }
  return out;
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
  return plane;
}

