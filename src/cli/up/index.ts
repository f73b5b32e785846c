/**
 * `kwire up`: runs the cluster — on loopback (the L7 plane: every pod's echo program, the ingress
 * proxy of every controller, the admin endpoint) or as root in network namespaces (`--dataplane
 * linux`) — prints one `ready` line, follows edits of the inputs live, serves `kwire node
 * stop|start` on its control socket, and stops on SIGINT/SIGTERM. The cluster's lock is taken
 * before anything is touched. `--detach` returns once the detached copy is ready.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdirSync, openSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { formatProblem, InputError } from '../../api/problems.js';
import { availableParallelism } from 'node:os';
import { accessLogWriter, ProxyWorkers, RunningCluster, type BackendOverrides, type L7Plane, type ListenerAddress, type Logger } from '../../proxy/index.js';
import { EnvironmentError, inputOptions, loadState, type InputFlags, type Io } from '../context.js';
import { acquireLock, clusterDir, removeUpState, ROOT_RUNTIME, runtimeRoot, writeUpState, type UpState } from './runtime.js';
import { startAcme, type AcmeRun } from './acme.js';
import { serveControl, type ControlReply, type ControlRequest } from './control.js';
import { resolverFetch } from '../../acme/index.js';
import { ensureLinuxEnvironment, linuxUp, type LinuxPlane } from '../../linux/index.js';
import type { NetworkState } from '../../model/types.js';

/** Flags of `up`. */
export interface UpFlags extends InputFlags {
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly adminPort: number;
  readonly address: string;
  readonly backend: string[];
  readonly accessLog?: string;
  readonly detach?: boolean;
  readonly dataplane: 'sim' | 'linux';
  readonly deniedTimeout: number;
  readonly upstreamTimeout: number;
  readonly kwireUpChild?: boolean;
  readonly acme: 'lab' | 'live' | 'off';
  /** Proxy worker processes; 1 runs the proxy in the primary process. */
  readonly workers: number;
}

/** What `up` needs from the process, read once at the CLI edge. */
export interface UpEnvironment {
  readonly runtimeRoot: string;
  /** The command that runs kwire again (node and the entry script) for `--detach`. */
  readonly self: readonly string[];
  /** The arguments `up` was called with (repeated to the detached copy). */
  readonly argv: readonly string[];
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  readonly stopSignal: () => Promise<string>;
  /** Reports readiness to a parent waiting for a detached copy. */
  readonly notifyParent?: (message: unknown) => void;
  /** The log a detached copy writes to (recorded for `status`). */
  readonly upLog?: string;
}


function usage(message: string, hint?: string): InputError {
  return new InputError([{ code: 'KW-USAGE', severity: 'error', message, hint }]);
}

/** Parses `--backend svc/NS/NAME=URL` flags. */
export function parseBackends(values: readonly string[]): BackendOverrides {
  const out = new Map<string, URL>();
  for (const v of values) {
    const m = /^(?:svc|service)\/([^/=]+)\/([^/=]+)=(.+)$/.exec(v);
    if (!m) throw usage(`--backend "${v}": expected svc/NAMESPACE/NAME=URL`, 'e.g. --backend svc/default/service1=http://127.0.0.1:3000');
    let url: URL;
    try {
      url = new URL(m[3] ?? '');
    } catch {
      throw usage(`--backend "${v}": "${m[3] ?? ''}" is not a URL`, 'e.g. http://127.0.0.1:3000');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usage(`--backend "${v}": only http:// and https:// backends are supported (got "${url.protocol}")`);
    out.set(`${m[1] ?? ''}/${m[2] ?? ''}`, url);
  }
  return out;
}

/** The one `ready` line. */
export function readyLine(addresses: readonly ListenerAddress[], admin: string | undefined): string {
  const parts = addresses.map((a) => `${a.controller} ${a.http} ${a.https}`);
  return `ready ${parts.join(' ') || '(no ingress controller installed)'}${admin ? ` metrics ${admin}/metrics` : ''}`;
}

function stderrLogger(io: Io): Logger {
  return { info: (m) => { io.err(`kwire: ${m}`); }, warn: (m) => { io.err(`warning: ${m}`); } };
}

/** Watches the inputs; calls `onChange` once per burst of edits, never after `close`. */
function watchInputs(files: readonly string[], cwd: string, recursive: boolean, onChange: () => void): { close: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const fire = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      if (!closed) onChange();
    }, 150);
  };
  const watchers: FSWatcher[] = [];
  for (const f of files) {
    if (f === '-') continue;
    try {
      watchers.push(watch(resolve(cwd, f), { recursive, persistent: false }, fire));
    } catch {
      continue;
    }
  }
  return {
    close: () => {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}

async function detach(io: Io, env: UpEnvironment): Promise<number> {
  mkdirSync(env.runtimeRoot, { recursive: true, mode: 0o700 });
  const logFile = join(env.runtimeRoot, `up-${String(Date.now())}-${String(process.pid)}.log`);
  const fd = openSync(logFile, 'a');
  const args = [...env.self.slice(1), ...env.argv.filter((a) => a !== '--detach'), '--kwire-up-child'];
  const child = spawn(env.self[0] ?? process.execPath, args, { cwd: io.cwd, detached: true, stdio: ['ignore', fd, fd, 'ipc'], env: { ...process.env, KWIRE_UP_LOG: logFile } });
  return new Promise((done) => {
    child.once('message', (m: { ready?: string }) => {
      if (m.ready) io.out(m.ready);
      io.err(`kwire: running detached as pid ${child.pid ?? '?'} (log ${logFile}); stop it with: kwire down`);
      child.disconnect();
      child.unref();
      done(0);
    });
    child.once('exit', (code) => {
      const lines = readFileSync(logFile, 'utf8').trim().split('\n').filter((l) => l.startsWith('error') || l.startsWith('warning'));
      for (const l of lines.slice(-10)) io.err(l);
      io.err(`error: kwire up exited with code ${code ?? '?'} before it was ready; see ${logFile}`);
      done(code && code > 0 ? code : 4);
    });
  });
}

/** A signal that stopped `up` while the cluster was being built: exit 128 + its number, quietly. */
function signalExit(signal: string): number {
  return signal === 'SIGINT' ? 130 : 143;
}

/** What `up` keeps while it runs, for the edits it follows and the control socket. */
interface Running {
  readonly flags: UpFlags;
  readonly io: Io;
  readonly stopped: Set<string>;
  /** Reconciles the inputs with the stopped nodes. */
  readonly load: () => Promise<NetworkState>;
}

/** Runs `up`; resolves to the exit code once stopped. */
export async function runUp(flags: UpFlags, io: Io, env: UpEnvironment): Promise<number> {
  if (flags.dataplane === 'linux') await ensureLinuxEnvironment();
  if (flags.detach && !flags.kwireUpChild) return detach(io, env);
  const backends = parseBackends(flags.backend);
  const stopped = new Set<string>();
  const load = async (): Promise<NetworkState> => (await loadState({ ...flags, stoppedNodes: [...stopped] }, io)).state;
  const state = await load();
  const cluster = state.cluster.name;
  const root = flags.dataplane === 'linux' ? ROOT_RUNTIME : env.runtimeRoot;
  const dir = clusterDir(root, cluster);
  const lock = acquireLock(dir, cluster);
  try {
    const logger = stderrLogger(io);
    // Handle SIGINT/SIGTERM from here on, so that a stop while the cluster is being built still
    // ends with everything removed rather than with the process killed half-way.
    const stopping = env.stopSignal();
    const running: Running = { flags, io, stopped, load };
    if (flags.dataplane === 'linux') return await runLinux(state, running, { ...env, runtimeRoot: ROOT_RUNTIME }, logger, stopping);
    return await runSim(state, running, env, logger, stopping, backends, dir);
  } finally {
    lock.release();
  }
}

/** The record `status` and `down` read. */
function upRecord(state: NetworkState, running: Running, env: UpEnvironment, dir: string, extra: Partial<UpState>): UpState {
  return {
    apiVersion: 'kwire.dev/v1alpha1',
    kind: 'Up',
    cluster: state.cluster.name,
    pid: process.pid,
    uid: process.getuid?.() ?? 0,
    startedAt: new Date().toISOString(),
    dataplane: running.flags.dataplane,
    files: running.flags.filename.map((f) => (f === '-' ? f : resolve(running.io.cwd, f))),
    addresses: [],
    control: join(dir, 'control.sock'),
    ...(env.upLog ? { log: env.upLog } : {}),
    ...extra,
  };
}

/** Serves `kwire node stop|start`: the node's readiness changes and the new state is applied. */
function controlHandler(running: Running, apply: (next: NetworkState) => Promise<string>, record: () => void): (r: ControlRequest) => Promise<ControlReply> {
  return async (r) => {
    if (r.op !== 'node') return { ok: false, error: `unknown request ${JSON.stringify(r)}` };
    const before = new Set(running.stopped);
    if (r.action === 'stop') running.stopped.add(r.node);
    else running.stopped.delete(r.node);
    let next: NetworkState;
    try {
      next = await running.load();
    } catch (err) {
      running.stopped.clear();
      for (const n of before) running.stopped.add(n);
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    if (!next.nodes.some((n) => n.name === r.node)) {
      running.stopped.delete(r.node);
      return { ok: false, error: `node "${r.node}" does not exist; nodes: ${next.nodes.map((n) => n.name).join(', ')}` };
    }
    const t0 = performance.now();
    const summary = await apply(next);
    record();
    running.io.err(`kwire: node ${r.node} ${r.action === 'stop' ? 'stopped' : 'started'} (${summary})`);
    return { ok: true, message: `node ${r.node} ${r.action === 'stop' ? 'stopped: its links are down, MetalLB moved or withdrew its addresses' : 'started: its links are up and its speakers announce again'} (${Math.round(performance.now() - t0)} ms)` };
  };
}

async function runSim(state: NetworkState, running: Running, env: UpEnvironment, logger: Logger, stopping: Promise<string>, backends: BackendOverrides, dir: string): Promise<number> {
  const { flags, io } = running;
  const cluster = state.cluster.name;
  const accessPath = flags.accessLog ?? join(dir, 'access.log');
  const workers = flags.workers > 1 ? flags.workers : 0;
  const log = accessPath === 'none' || workers ? undefined : accessLogWriter(accessPath === '-' ? process.stderr : accessPath);
  io.err(`kwire: cluster "${cluster}": ${state.pods.length} pods, ${state.services.length} services, ${state.ingresses.length} ingresses; starting pods and ${state.cluster.ingressControllers.length} ingress controller(s)${workers ? ` in ${workers} proxy workers` : ''}…`);
  const limits = { deniedTimeoutMs: flags.deniedTimeout, connectTimeoutMs: flags.deniedTimeout, upstreamTimeoutMs: flags.upstreamTimeout };
  const listen = { address: flags.address, httpPort: flags.httpPort, httpsPort: flags.httpsPort, adminPort: flags.adminPort, backends, logger, limits };
  let up: L7Plane;
  try {
    up = workers
      ? await ProxyWorkers.start(state, { ...listen, workers, workerEntry: fileURLToPath(new URL('./proxy-worker.js', import.meta.url)), ...(accessPath === 'none' ? {} : { accessLog: accessPath }) })
      : await RunningCluster.start(state, { ...listen, ...(log ? { accessLog: log.write } : {}) });
  } catch (err) {
    await log?.close();
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES') throw new EnvironmentError(`cannot listen: ${e.message}; choose other ports with --http-port/--https-port/--admin-port`);
    throw err;
  }
  const extra = { addresses: up.addresses, ...(up.adminAddress ? { admin: up.adminAddress } : {}), ...(accessPath !== 'none' && accessPath !== '-' ? { accessLog: accessPath } : {}) };
  const record = (): void => {
    writeUpState(env.runtimeRoot, upRecord(state, running, env, dir, { ...extra, stoppedNodes: [...running.stopped] }));
  };
  record();
  let acme: AcmeRun | undefined;
  if (flags.acme !== 'off' && state.certManager?.issuers.some((i) => i.type === 'ACME')) {
    try {
      const first = up.addresses[0];
      acme = await startAcme(state, { target: up, fetch: resolverFetch(() => ({ host: '127.0.0.1', port: first ? Number(new URL(first.http).port) : 80 })) }, flags.acme, logger);
    } catch (err) {
      await up.stop();
      await log?.close();
      removeUpState(env.runtimeRoot, cluster, process.pid);
      throw err;
    }
  }
  const apply = async (next: NetworkState): Promise<string> => {
    await up.apply(next);
    if (acme && next.certManager) await acme.sync(next.certManager);
    return `${next.pods.length} pods, ${next.ingresses.length} ingresses`;
  };
  const control = await serveControl(join(dir, 'control.sock'), controlHandler(running, apply, record));
  const ready = readyLine(up.addresses, up.adminAddress);
  io.out(ready);
  env.notifyParent?.({ ready });
  const edits = followEdits(running, apply);
  const signal = await stopping;
  io.err(`kwire: ${signal}: stopping`);
  await control.close();
  await edits.close();
  await acme?.stop();
  await up.stop();
  await log?.close();
  removeUpState(env.runtimeRoot, cluster, process.pid);
  return 0;
}

/** Follows edits of the inputs: reloads the state and hands it to `apply`; a broken edit is rejected. */
function followEdits(running: Running, apply: (state: NetworkState) => Promise<string>): { close: () => Promise<void> } {
  const { flags, io } = running;
  let reloading = Promise.resolve();
  const reload = (): void => {
    reloading = reloading.then(async () => {
      try {
        const next = await running.load();
        io.err(`kwire: reloaded: ${await apply(next)}`);
      } catch (err) {
        if (err instanceof InputError) {
          for (const p of err.problems) io.err(`error: ${formatProblem(p)}`);
          io.err('kwire: the edit was rejected; the running configuration stays');
        } else io.err(`kwire: reload failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  };
  const watcher = watchInputs(flags.filename, io.cwd, flags.recursive ?? false, reload);
  return {
    close: async () => {
      watcher.close();
      await reloading;
    },
  };
}

/** `up --dataplane linux`: the network built in namespaces and nftables, until stopped. */
async function runLinux(state: NetworkState, running: Running, env: UpEnvironment, logger: Logger, stopping: Promise<string>): Promise<number> {
  const { flags, io } = running;
  const cluster = state.cluster.name;
  io.err(`kwire: building cluster "${cluster}" in network namespaces: ${state.nodes.length} nodes, ${state.pods.length} pods, ${state.services.length} services…`);
  const abort = new AbortController();
  let stopSignal: string | undefined;
  void stopping.then((signal) => {
    stopSignal = signal;
    abort.abort();
  });
  let plane: LinuxPlane;
  try {
    plane = await linuxUp(state, { logger, signal: abort.signal, runtimeDir: env.runtimeRoot, proxyEntry: fileURLToPath(new URL('./proxy-worker.js', import.meta.url)), proxyLimits: { connectTimeoutMs: flags.deniedTimeout, deniedTimeoutMs: flags.deniedTimeout, upstreamTimeoutMs: flags.upstreamTimeout } });
  } catch (err) {
    if (stopSignal !== undefined) {
      io.err(`kwire: ${stopSignal} while building: the cluster's namespaces were removed`);
      return signalExit(stopSignal);
    }
    throw err;
  }
  const record = (): void => {
    writeUpState(env.runtimeRoot, upRecord(state, running, env, plane.dir, { stoppedNodes: [...running.stopped] }));
  };
  record();
  let acme: AcmeRun | undefined;
  if (flags.acme !== 'off' && state.certManager?.issuers.some((i) => i.type === 'ACME')) {
    try {
      acme = await startAcme(state, { target: plane, fetch: plane.fetchFromOutside }, flags.acme, logger);
    } catch (err) {
      await plane.down();
      removeUpState(env.runtimeRoot, cluster, process.pid);
      throw err;
    }
  }
  const apply = async (next: NetworkState): Promise<string> => {
    const report = await plane.apply(next);
    if (acme && next.certManager) await acme.sync(next.certManager);
    return `${next.pods.length} pods; ${JSON.stringify(report)}`;
  };
  const control = await serveControl(join(plane.dir, 'control.sock'), controlHandler(running, apply, record));
  const host = state.ingresses.flatMap((i) => (i.spec.rules ?? []).map((r) => r.host)).find((h) => h !== undefined && !h.startsWith('*'));
  const hints = [...(host ? [`kwire exec external -- curl http://${host}/`] : []), 'kwire exec POD -- curl http://SERVICE.NAMESPACE', ...(state.metallb?.config.bgpPeers.length ? ["kwire exec router -- vtysh -c 'show ip bgp'"] : [])];
  const ready = `ready linux cluster ${cluster}: ${state.nodes.length} nodes, ${state.pods.length} pods in namespaces ${plane.names.prefix}* (${String(plane.timings.total ?? 0)} ms); try: ${hints.join(', ')}`;
  io.out(ready);
  env.notifyParent?.({ ready });
  const edits = followEdits(running, apply);
  // The kernel holds the network; nothing of ours would keep the process alive until it is stopped.
  const keepAlive = setInterval(() => undefined, 3_600_000);
  const signal = await stopping;
  clearInterval(keepAlive);
  io.err(`kwire: ${signal}: removing the cluster's namespaces`);
  await control.close();
  await edits.close();
  await acme?.stop();
  await plane.down();
  removeUpState(env.runtimeRoot, cluster, process.pid);
  return 0;
}

function int(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw usage(`"${v}" is not a port number (0-65535)`);
  return n;
}

function ms(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw usage(`"${v}" is not a number of milliseconds`);
  return n;
}

function count(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw usage(`--workers "${v}": expected a whole number from 1 to 256`);
  return n;
}

/** The process's environment for `up`. */
export function processUpEnvironment(): UpEnvironment {
  return {
    runtimeRoot: runtimeRoot(process.getuid?.() ?? 0, process.env.KWIRE_RUNTIME_DIR),
    self: [process.execPath, process.argv[1] ?? ''],
    argv: process.argv.slice(2),
    stopSignal: () =>
      new Promise((done) => {
        process.once('SIGINT', () => {
          done('SIGINT');
        });
        process.once('SIGTERM', () => {
          done('SIGTERM');
        });
      }),
    ...(process.send ? { notifyParent: (m: unknown) => process.send?.(m) } : {}),
    ...(process.env.KWIRE_UP_LOG ? { upLog: process.env.KWIRE_UP_LOG } : {}),
  };
}

/** Registers `up` on the program. */
export function registerUp(program: Command, io: Io, done: (p: Promise<number>) => void, env: () => UpEnvironment = processUpEnvironment): void {
  const cmd = program
    .command('up')
    .description('run the cluster on this machine: pods answer, ingress controllers serve real HTTP and HTTPS')
    .option('--http-port <port>', 'first HTTP port (one per ingress controller)', int, 8080)
    .option('--https-port <port>', 'first HTTPS port (one per ingress controller)', int, 8443)
    .option('--admin-port <port>', 'port of /metrics and /healthz', int, 10254)
    .option('--address <ip>', 'address to listen on', '127.0.0.1')
    .option('--backend <svc=url>', "send a Service's traffic to a local process: svc/NS/NAME=http://127.0.0.1:3000 (repeatable)", (v: string, p: string[]) => [...p, v], [] as string[])
    .option('--access-log <file>', 'JSON-lines access log: a file, - for stderr, none (default: in the runtime directory)')
    .option('--detach', 'return once ready and keep running in the background (stop with kwire down)')
    .addOption(new Option('--dataplane <plane>', 'sim: loopback L7 plane; linux: namespaces and nftables (root)').choices(['sim', 'linux']).default('sim'))
    .option('--denied-timeout <ms>', 'how long a hop dropped by a NetworkPolicy takes to fail with 504', ms, 5000)
    .option('--upstream-timeout <ms>', 'how long to wait for an upstream response (504 after)', ms, 60_000)
    .addOption(new Option('--acme <mode>', "ACME issuers: lab (kwire's own ACME CA on loopback, HTTP-01 validated through the proxy), live (the Issuer's real directory), off (keep the model's offline certificates)").choices(['lab', 'live', 'off']).default('lab'))
    .option('--workers <n>', 'proxy worker processes (1: the proxy runs in the main process)', count, availableParallelism())
    .addOption(new Option('--kwire-up-child').hideHelp());
  inputOptions(cmd).action((flags: UpFlags) => {
    done(runUp(flags, io, env()));
  });
}
