/**
 * Ingress controllers in the Linux plane: kwire's proxy runs inside each controller pod's own
 * network namespace, listening on the pod's ports 80 and 443, and dials the endpoints' real
 * addresses — so outside traffic reaches it only through its LoadBalancer address or NodePort and
 * kube-proxy, and NetworkPolicies apply to every hop in the kernel. One process per controller
 * pod, driven over IPC like the L7 plane's workers (states, certificates, HTTP-01 answers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { NetworkState, PodState } from '../model/types.js';
import { DEFAULT_LIMITS, WorkerPool, makeDefaultCertificate, type FromWorker, type Http01Responder, type Logger, type PemPair, type ProxyLimits, type TlsSecret, type ToWorker, type WorkerConfig, type WorkerProcess } from '../proxy/index.js';
import type { ClusterNames } from './names.js';

/** The pods that run an ingress controller. */
export function controllerPods(state: NetworkState): PodState[] {
  const names = new Set(state.cluster.ingressControllers.map((c) => c.name));
  return state.pods.filter((p) => p.addon && p.ip !== '' && names.has(p.labels['app.kubernetes.io/instance'] ?? '')).sort((a, b) => (`${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1));
}

/** What the controllers' proxies need to start. */
export interface ControllerOptions {
  /** The proxy worker program (kwire's `cli/up/proxy-worker.js`). */
  readonly entry: string;
  /** The cluster's runtime directory (logs; named on each command line so cleanup recognises it). */
  readonly dir: string;
  readonly names: ClusterNames;
  readonly logger: Logger;
  readonly limits?: Partial<ProxyLimits>;
}

/** A child started with `ip netns exec` and an IPC channel, as a pool worker. */
function childWorker(child: ChildProcess): WorkerProcess {
  return {
    pid: child.pid,
    send: (message: ToWorker, done) => {
      if (!child.connected) return;
      child.send(message, undefined, {}, done);
    },
    connected: () => child.connected,
    dead: () => child.exitCode !== null || child.signalCode !== null,
    kill: (signal) => child.kill(signal),
    onMessage: (fn) => child.on('message', (m: FromWorker) => {
      fn(m);
    }),
    onError: (fn) => child.on('error', fn),
    onExit: (fn) => child.on('exit', fn),
  };
}

/** The running proxies of every controller pod. */
export class ControllerProxies {
  private constructor(
    private readonly pool: WorkerPool,
    readonly pods: readonly PodState[],
  ) {}

  /** Starts one proxy per controller pod; resolves once each listens on its pod's ports 80 and 443. */
  static async start(state: NetworkState, opts: ControllerOptions): Promise<ControllerProxies> {
    const pods = controllerPods(state);
    const defaultCertificate: PemPair = await makeDefaultCertificate();
    const limits: ProxyLimits = { ...DEFAULT_LIMITS, ...opts.limits };
    const config = (i: number): WorkerConfig => ({
      address: '0.0.0.0',
      httpPort: 80,
      httpsPort: 443,
      limits,
      backends: [],
      defaultCertificate,
      controller: pods[i]?.labels['app.kubernetes.io/instance'] ?? '',
    });
    const spawnOne = (i: number): WorkerProcess => {
      const pod = pods[i];
      if (!pod) throw new Error(`no controller pod ${String(i)}`);
      const log = openSync(join(opts.dir, `proxy-${pod.namespace}.${pod.name}.log`), 'a');
      const child = spawn('ip', ['netns', 'exec', opts.names.pod(pod.namespace, pod.name), process.execPath, opts.entry, '--kwire-dir', opts.dir], { detached: true, stdio: ['ignore', log, log, 'ipc'], serialization: 'advanced' });
      closeSync(log);
      return childWorker(child);
    };
    const pool = new WorkerPool(state, spawnOne, { logger: opts.logger, config, network: () => ({ kind: 'kernel' }), label: 'ingress controller proxy' });
    const proxies = new ControllerProxies(pool, pods);
    try {
      await Promise.all(pods.map((_, i) => pool.start(i)));
    } catch (err) {
      await pool.stop();
      throw err;
    }
    return proxies;
  }

  /** PIDs of the proxies. */
  get pids(): number[] {
    return this.pool.pids;
  }

  /** Whether a new state has other controller pods (then the proxies are restarted). */
  sameControllers(state: NetworkState): boolean {
    const next = controllerPods(state);
    return next.length === this.pods.length && next.every((p, i) => p.ip === this.pods[i]?.ip && p.name === this.pods[i]?.name);
  }

  /** Sends a new state to every proxy. */
  apply(state: NetworkState): Promise<void> {
    return this.pool.apply(state);
  }

  /** Hot-swaps issued certificates. */
  setCertificates(secrets: readonly TlsSecret[]): void {
    this.pool.setCertificates(secrets);
  }

  /** Resolves once every proxy has the certificates handed over so far. */
  settled(): Promise<void> {
    return this.pool.settled();
  }

  /** Plugs in the ACME HTTP-01 responder. */
  setHttp01Responder(responder: Http01Responder | undefined): void {
    this.pool.setHttp01Responder(responder);
  }

  /** Stops every proxy. */
  stop(): Promise<void> {
    return this.pool.stop();
  }
}
