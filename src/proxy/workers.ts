/**
 * The L7 plane with the proxy data path in `node:cluster` workers: the primary runs the pods'
 * echo programs, the admin endpoint and the ACME HTTP-01 responder; every worker serves the
 * same listeners (the primary hands connections out) with the same compiled snapshot. States
 * and certificates go to the workers over IPC when they start and on every change; `/metrics`
 * sums the workers' counters.
 */
import cluster, { type Worker } from 'node:cluster';
import type { NetworkState, ReconciledState } from '../model/types.js';
import { plainState } from '../model/state.js';
import { accessLogWriter } from './access-log.js';
import { startAdmin, type AdminEndpoint } from './admin.js';
import type { L7Plane } from './cluster.js';
import { PodPrograms } from './echo.js';
import type { MetricsSnapshot } from './metrics.js';
import { IngressProxy } from './proxy.js';
import { Snapshot, type PodNetwork } from './snapshot.js';
import { makeDefaultCertificate, type PemPair } from './tls.js';
import { DEFAULT_LIMITS, type Http01Responder, type ListenerAddress, type Logger, type ProxyLimits, type TlsSecret } from './types.js';

/** Options of the L7 plane with proxy workers. */
export interface ProxyWorkersOptions {
  /** Number of proxy worker processes (at least 1). */
  readonly workers: number;
  /** @default '127.0.0.1' */
  readonly address?: string;
  /** First HTTP port (0: ephemeral, shared by every worker). @default 8080 */
  readonly httpPort?: number;
  /** @default 8443 */
  readonly httpsPort?: number;
  /** Port of the admin endpoint; undefined: none, 0: ephemeral. */
  readonly adminPort?: number;
  readonly limits?: Partial<ProxyLimits>;
  /** Backend overrides: `namespace/name` of a Service → the local URL that serves it instead. */
  readonly backends?: ReadonlyMap<string, URL>;
  /** Access log target of every worker: a file (appended), `-` for stderr; undefined: none. */
  readonly accessLog?: string;
  readonly defaultCertificate?: PemPair;
  readonly logger: Logger;
  /** The worker program: a script that calls `serveAsWorker` (kwire's is `cli/up/proxy-worker.js`). */
  readonly workerEntry: string;
}

/** What a worker needs to serve, sent once at start. */
export interface WorkerConfig {
  readonly address: string;
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly limits: ProxyLimits;
  readonly backends: readonly (readonly [string, string])[];
  readonly accessLog?: string;
  readonly defaultCertificate: PemPair;
  /** Serve only this controller, on exactly the HTTP and HTTPS ports (a controller pod's own proxy). */
  readonly controller?: string;
}

/** The pod network as it travels to a worker. */
export type WireNetwork = { readonly kind: 'loopback'; readonly pods: readonly (readonly [string, number])[] } | { readonly kind: 'kernel' };

function networkOf(wire: WireNetwork): PodNetwork {
  return wire.kind === 'kernel' ? wire : { kind: 'loopback', pods: new Map(wire.pods) };
}

/** Messages from the primary to a worker. */
export type ToWorker =
  | { readonly kind: 'init'; readonly config: WorkerConfig; readonly state: ReconciledState; readonly network: WireNetwork; readonly certificates: readonly TlsSecret[]; readonly http01: boolean }
  | { readonly kind: 'state'; readonly id: number; readonly state: ReconciledState; readonly network: WireNetwork }
  | { readonly kind: 'certificates'; readonly id: number; readonly secrets: readonly TlsSecret[] }
  | { readonly kind: 'http01'; readonly id: number; readonly enabled: boolean }
  | { readonly kind: 'http01-key'; readonly id: number; readonly key: string | undefined }
  | { readonly kind: 'metrics'; readonly id: number }
  | { readonly kind: 'stop'; readonly id: number };

/** Messages from a worker to the primary. */
export type FromWorker =
  | { readonly kind: 'hello' }
  | { readonly kind: 'listening'; readonly addresses: readonly ListenerAddress[] }
  | { readonly kind: 'failed'; readonly code?: string; readonly message: string }
  | { readonly kind: 'ack'; readonly id: number }
  | { readonly kind: 'metrics'; readonly id: number; readonly snapshot: MetricsSnapshot }
  | { readonly kind: 'http01-token'; readonly id: number; readonly token: string };

/** An error a worker reported while starting (e.g. EADDRINUSE), with its code kept. */
export class WorkerStartError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** One worker process as the pool drives it: a `node:cluster` worker or a spawned child with IPC. */
export interface WorkerProcess {
  readonly pid: number | undefined;
  send(message: ToWorker, done: (err: Error | null) => void): void;
  connected(): boolean;
  dead(): boolean;
  kill(signal: NodeJS.Signals): void;
  onMessage(fn: (message: FromWorker) => void): void;
  onError(fn: (err: Error) => void): void;
  onExit(fn: (code: number | null, signal: string | null) => void): void;
}

/** Starts worker `index` of a pool. */
export type WorkerSpawner = (index: number) => WorkerProcess;

/** A `node:cluster` worker as a pool's worker process. */
export function clusterWorker(worker: Worker): WorkerProcess {
  return {
    pid: worker.process.pid,
    send: (message, done) => worker.send(message, undefined, undefined, done),
    connected: () => worker.isConnected(),
    dead: () => worker.isDead(),
    kill: (signal) => worker.process.kill(signal),
    onMessage: (fn) => worker.on('message', fn),
    onError: (fn) => worker.on('error', fn),
    onExit: (fn) => worker.on('exit', fn),
  };
}

interface Pending {
  readonly worker: WorkerProcess;
  readonly resolve: (value: unknown) => void;
}

/** What a pool hands its workers: their configuration and the pod network of each state. */
export interface PoolOptions {
  readonly logger: Logger;
  /** The configuration of worker `index`. */
  readonly config: (index: number) => WorkerConfig;
  /** The pod network the workers' snapshots are built over. */
  readonly network: () => WireNetwork;
  /** What the log calls a worker. @default 'proxy worker' */
  readonly label?: string;
}

/**
 * Proxy worker processes serving one state: started with the running configuration, sent every
 * new state, certificate and HTTP-01 change, restarted when one dies, stopped on request. The
 * L7 plane's workers are `node:cluster` workers; the Linux plane's are one process per ingress
 * controller pod, started in the pod's network namespace.
 */
export class WorkerPool {
  private readonly workers = new Set<WorkerProcess>();
  private readonly requests = new Map<number, Pending>();
  private nextId = 1;
  private certificates = new Map<string, TlsSecret>();
  private http01: Http01Responder | undefined;
  private stopping = false;

  constructor(
    private state: NetworkState,
    private readonly spawn: WorkerSpawner,
    private readonly options: PoolOptions,
  ) {}

  private get label(): string {
    return this.options.label ?? 'proxy worker';
  }

  /** Starts worker `index`, hands it the running configuration, and resolves with its listeners. */
  start(index: number): Promise<readonly ListenerAddress[]> {
    const worker = this.spawn(index);
    this.workers.add(worker);
    return new Promise((resolve, reject) => {
      let started = false;
      worker.onMessage((m) => {
        switch (m.kind) {
          case 'hello':
            if (this.stopping) return;
            this.send(worker, { kind: 'init', config: this.options.config(index), state: plainState(this.state), network: this.options.network(), certificates: [...this.certificates.values()], http01: this.http01 !== undefined });
            return;
          case 'listening':
            started = true;
            resolve(m.addresses);
            return;
          case 'failed':
            reject(new WorkerStartError(m.message, m.code));
            return;
          case 'ack':
          case 'metrics':
            this.settle(m.id, m.kind === 'metrics' ? m.snapshot : undefined);
            return;
          case 'http01-token':
            this.answerChallenge(worker, m.id, m.token);
            return;
        }
      });
      worker.onError((err) => {
        if (!this.stopping) this.options.logger.warn(`${this.label} ${worker.pid ?? '?'}: ${err.message}`);
      });
      worker.onExit((code, signal) => {
        this.workers.delete(worker);
        for (const [id, r] of this.requests) if (r.worker === worker) this.settle(id, undefined);
        if (!started) {
          reject(new Error(`${this.label} ${worker.pid ?? '?'} exited (${signal ?? String(code)}) before it listened`));
          return;
        }
        if (this.stopping) return;
        this.options.logger.warn(`${this.label} ${worker.pid ?? '?'} exited (${signal ?? String(code)}); starting another`);
        this.start(index).catch((err: unknown) => {
          this.options.logger.warn(`${this.label} did not restart: ${err instanceof Error ? err.message : String(err)}`);
        });
      });
    });
  }

  /** PIDs of the running workers. */
  get pids(): number[] {
    return [...this.workers].flatMap((w) => (w.pid === undefined ? [] : [w.pid]));
  }

  private send(worker: WorkerProcess, message: ToWorker): void {
    if (!worker.connected()) return;
    worker.send(message, (err) => {
      if (err && !this.stopping) this.options.logger.warn(`${this.label} ${worker.pid ?? '?'}: ${err.message}`);
    });
  }

  private settle(id: number, value: unknown): void {
    const r = this.requests.get(id);
    this.requests.delete(id);
    r?.resolve(value);
  }

  /** Sends a message carrying a fresh id to every worker; resolves with their replies. */
  private broadcast<T>(make: (id: number) => ToWorker): Promise<T[]> {
    return Promise.all(
      [...this.workers].filter((w) => w.connected()).map(
        (w) =>
          new Promise<T>((resolve) => {
            const id = this.nextId++;
            this.requests.set(id, { worker: w, resolve: resolve as (v: unknown) => void });
            this.send(w, make(id));
          }),
      ),
    );
  }

  private answerChallenge(worker: WorkerProcess, id: number, token: string): void {
    const reply = (key: string | undefined): void => {
      this.send(worker, { kind: 'http01-key', id, key });
    };
    try {
      const got = this.http01?.get(token);
      if (got instanceof Promise) got.then(reply, () => { reply(undefined); });
      else reply(got);
    } catch {
      reply(undefined);
    }
  }

  /** Every worker's metrics. */
  async metrics(): Promise<MetricsSnapshot[]> {
    const all = await this.broadcast<MetricsSnapshot | undefined>((id) => ({ kind: 'metrics', id }));
    return all.filter((s): s is MetricsSnapshot => s !== undefined);
  }

  /** Sends a new state to every worker; resolves once all swapped their snapshot. */
  async apply(state: NetworkState): Promise<void> {
    this.state = state;
    const network = this.options.network();
    const plain = plainState(state);
    await this.broadcast((id) => ({ kind: 'state', id, state: plain, network }));
  }

  /** Hot-swaps certificates in every worker (and in workers started later). */
  setCertificates(secrets: readonly TlsSecret[]): void {
    for (const s of secrets) this.certificates.set(`${s.namespace}/${s.name}`, s);
    void this.broadcast((id) => ({ kind: 'certificates', id, secrets }));
  }

  /** Resolves once every worker has the certificates handed over so far. */
  async settled(): Promise<void> {
    await this.broadcast((id) => ({ kind: 'certificates', id, secrets: [] }));
  }

  /** Plugs in (or removes) the HTTP-01 responder; workers ask the pool for each token. */
  setHttp01Responder(responder: Http01Responder | undefined): void {
    this.http01 = responder;
    void this.broadcast((id) => ({ kind: 'http01', id, enabled: responder !== undefined }));
  }

  /** Stops the workers; each lets its in-flight requests end, SIGKILL after 5 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    const exited = [...this.workers].map((w) => new Promise<void>((done) => {
      if (w.dead()) { done(); return; }
      w.onExit(() => { done(); });
    }));
    const kill = setTimeout(() => {
      for (const w of this.workers) w.kill('SIGKILL');
    }, 5000);
    await this.broadcast((id) => ({ kind: 'stop', id }));
    await Promise.all(exited);
    clearTimeout(kill);
  }
}

/** The L7 plane of one cluster with proxy workers, running. */
export class ProxyWorkers implements L7Plane {
  private admin?: AdminEndpoint;
  addresses: readonly ListenerAddress[] = [];
  adminAddress?: string;

  private constructor(
    readonly pods: PodPrograms,
    private readonly pool: WorkerPool,
  ) {}

  /** Starts the pods, then the workers; resolves once every worker listens. */
  static async start(state: NetworkState, options: ProxyWorkersOptions): Promise<ProxyWorkers> {
    if (!cluster.isPrimary) throw new Error('proxy workers are started from the primary process');
    const pods = new PodPrograms();
    await pods.sync(state);
    const config: WorkerConfig = {
      address: options.address ?? '127.0.0.1',
      httpPort: options.httpPort ?? 8080,
      httpsPort: options.httpsPort ?? 8443,
      limits: { ...DEFAULT_LIMITS, ...options.limits },
      backends: [...(options.backends ?? new Map<string, URL>())].map(([k, u]) => [k, u.href] as const),
      ...(options.accessLog !== undefined ? { accessLog: options.accessLog } : {}),
      defaultCertificate: options.defaultCertificate ?? (await makeDefaultCertificate()),
    };
    cluster.setupPrimary({ exec: options.workerEntry, serialization: 'advanced' });
    const pool = new WorkerPool(state, () => clusterWorker(cluster.fork()), { logger: options.logger, config: () => config, network: () => ({ kind: 'loopback', pods: [...pods.ports] }) });
    const plane = new ProxyWorkers(pods, pool);
    try {
      const listening = await Promise.all(Array.from({ length: Math.max(1, options.workers) }, (_, i) => pool.start(i)));
      plane.addresses = listening[0] ?? [];
      if (options.adminPort !== undefined) {
        plane.admin = await startAdmin(config.address, options.adminPort, () => pool.metrics());
        plane.adminAddress = plane.admin.url;
      }
    } catch (err) {
      await plane.stop();
      throw err;
    }
    return plane;
  }

  /** Applies a new state: pods synced, then every worker swaps its snapshot (resolves once all have). */
  async apply(state: NetworkState): Promise<void> {
    await this.pods.sync(state);
    await this.pool.apply(state);
  }

  /** Hot-swaps certificates in every worker (and in workers started later). */
  setCertificates(secrets: readonly TlsSecret[]): void {
    this.pool.setCertificates(secrets);
  }

  /** Resolves once every worker has the certificates handed over so far. */
  async settled(): Promise<void> {
    await this.pool.settled();
  }

  /** Plugs in (or removes) the HTTP-01 responder; workers ask the primary for each token. */
  setHttp01Responder(responder: Http01Responder | undefined): void {
    this.pool.setHttp01Responder(responder);
  }

  /** Stops the workers (each lets its in-flight requests end), then the admin endpoint and the pods. */
  async stop(): Promise<void> {
    await this.pool.stop();
    await this.admin?.close();
    await this.pods.close();
  }
}

/** The IPC channel of a worker process (`process` in a `node:cluster` worker). */
export interface WorkerChannel {
  send(message: FromWorker): unknown;
  on(event: 'message', fn: (message: ToWorker) => void): unknown;
}



/**
 * Serves as a proxy worker: waits for the primary's configuration, listens, and follows states,
 * certificates and HTTP-01 updates until told to stop; resolves when stopped.
 */
export function serveAsWorker(channel: WorkerChannel, logger: Logger, stderr: NodeJS.WritableStream, compile: (state: ReconciledState) => NetworkState): Promise<void> {
  const snapshotOf = (state: ReconciledState, network: WireNetwork, backends: ReadonlyMap<string, URL>): Snapshot => new Snapshot(compile(state), networkOf(network), backends);
  return new Promise((finished) => {
    let proxy: IngressProxy | undefined;
    let log: ReturnType<typeof accessLogWriter> | undefined;
    let backends: ReadonlyMap<string, URL> = new Map();
    let nextId = 1;
    // Updates that arrive while the listeners are still starting, applied once they listen.
    const pending: { snapshot?: ReturnType<typeof snapshotOf>; certificates?: Extract<ToWorker, { kind: 'certificates' }>['secrets']; http01?: boolean } = {};
    const asked = new Map<number, (key: string | undefined) => void>();
    const responder: Http01Responder = {
      get: (token) =>
        new Promise((resolve) => {
          const id = nextId++;
          asked.set(id, resolve);
          channel.send({ kind: 'http01-token', id, token });
        }),
    };
    const start = async (m: Extract<ToWorker, { kind: 'init' }>): Promise<void> => {
      backends = new Map(m.config.backends.map(([k, href]) => [k, new URL(href)]));
      log = m.config.accessLog === undefined ? undefined : accessLogWriter(m.config.accessLog === '-' ? stderr : m.config.accessLog);
      try {
        proxy = await IngressProxy.start(snapshotOf(m.state, m.network, backends), {
          address: m.config.address,
          httpPort: m.config.httpPort,
          httpsPort: m.config.httpsPort,
          limits: m.config.limits,
          logger,
          defaultCertificate: m.config.defaultCertificate,
          ...(log ? { accessLog: log.write } : {}),
          ...(m.http01 ? { http01: responder } : {}),
          ...(m.config.controller ? { only: m.config.controller } : {}),
        });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        channel.send({ kind: 'failed', message: e.message, ...(e.code ? { code: e.code } : {}) });
        return;
      }
      proxy.setCertificates(pending.certificates ?? m.certificates);
      if (pending.snapshot) proxy.setSnapshot(pending.snapshot);
      if (pending.http01 !== undefined) proxy.setHttp01Responder(pending.http01 ? responder : undefined);
      channel.send({ kind: 'listening', addresses: proxy.addresses });
    };
    const stop = async (id: number): Promise<void> => {
      await proxy?.close();
      await log?.close();
      channel.send({ kind: 'ack', id });
      finished();
    };
    channel.on('message', (m) => {
      switch (m.kind) {
        case 'init':
          void start(m);
          return;
        case 'state': {
          const snapshot = snapshotOf(m.state, m.network, backends);
          if (proxy) proxy.setSnapshot(snapshot);
          else pending.snapshot = snapshot;
          channel.send({ kind: 'ack', id: m.id });
          return;
        }
        case 'certificates':
          if (proxy) proxy.setCertificates(m.secrets);
          else pending.certificates = m.secrets;
          channel.send({ kind: 'ack', id: m.id });
          return;
        case 'http01':
          if (proxy) proxy.setHttp01Responder(m.enabled ? responder : undefined);
          else pending.http01 = m.enabled;
          channel.send({ kind: 'ack', id: m.id });
          return;
        case 'http01-key':
          asked.get(m.id)?.(m.key);
          asked.delete(m.id);
          return;
        case 'metrics':
          channel.send({ kind: 'metrics', id: m.id, snapshot: proxy?.metrics.snapshot() ?? { requests: [], latency: [] } });
          return;
        case 'stop':
          void stop(m.id);
          return;
      }
    });
    channel.send({ kind: 'hello' });
  });
}
