/**
 * The running L7 plane of one cluster: the pods' echo programs, the ingress proxy of every
 * controller, and the admin endpoint (`/metrics`, `/healthz`). A new state is applied by syncing
 * the pods and swapping the compiled snapshot, without a restart.
 */
import type { NetworkState, PodState } from '../model/types.js';
import { chooseEndpoint, selectEndpoints, servicePort } from '../model/endpoints.js';
import { masqueradeAddress } from '../model/entry.js';
import { evaluateConnection } from '../model/policy/index.js';
import { PodPrograms, podKey } from './echo.js';
import { startAdmin, type AdminEndpoint } from './admin.js';
import type { MetricsSnapshot } from './metrics.js';
import { IngressProxy, type ProxyOptions } from './proxy.js';
import { deniedDirection, deniedReason, Snapshot, type BackendOverrides } from './snapshot.js';
import { makeDefaultCertificate, type PemPair } from './tls.js';
import { DEFAULT_LIMITS, type Http01Responder, type ListenerAddress, type ProxyLimits, type TlsSecret } from './types.js';

/** Options of a running cluster. */
export interface ClusterOptions extends Omit<ProxyOptions, 'defaultCertificate' | 'limits'> {
  readonly limits?: Partial<ProxyLimits>;
  readonly backends?: BackendOverrides;
  /** Port of the admin endpoint (`/metrics`); undefined: none, 0: ephemeral. */
  readonly adminPort?: number;
  readonly defaultCertificate?: PemPair;
  /** Extra metrics sources (proxy workers). */
  readonly extraMetrics?: () => Promise<readonly MetricsSnapshot[]>;
}

/** What a pod's connection to an address meets: the local port to dial, or the policy that drops it. */
export type PodConnection =
  | { readonly kind: 'connect'; readonly localPort: number; readonly pod: PodState; readonly detail: string; /** The source address the pod sees. */ readonly client: string }
  | { readonly kind: 'denied'; readonly pod: PodState; readonly reason: string }
  | { readonly kind: 'unreachable'; readonly reason: string };

/**
 * A running L7 plane as `kwire up` drives it: in one process ({@link RunningCluster}) or with the
 * proxy data path in `node:cluster` workers (`ProxyWorkers`).
 */
export interface L7Plane {
  readonly addresses: readonly ListenerAddress[];
  readonly adminAddress?: string;
  /** Applies a new state; resolves once every process serves it. */
  apply(state: NetworkState): Promise<void>;
  /** Hot-swaps certificates issued or renewed at runtime. */
  setCertificates(secrets: readonly TlsSecret[]): void;
  /** Plugs in (or removes) the ACME HTTP-01 responder. */
  setHttp01Responder(responder: Http01Responder | undefined): void;
  /** Stops listeners, workers and pods. */
  stop(): Promise<void>;
}

/** The L7 plane of one cluster, running in this process. */
export class RunningCluster implements L7Plane {
  private admin?: AdminEndpoint;
  adminAddress?: string;

  private constructor(
    readonly pods: PodPrograms,
    readonly proxy: IngressProxy,
    private readonly options: ClusterOptions,
  ) {}

  /** Starts the pods' programs, the proxy listeners and the admin endpoint. */
  static async start(state: NetworkState, options: ClusterOptions): Promise<RunningCluster> {
    const pods = new PodPrograms();
    await pods.sync(state);
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    const defaultCertificate = options.defaultCertificate ?? (await makeDefaultCertificate());
    const snapshot = new Snapshot(state, { kind: 'loopback', pods: pods.ports }, options.backends);
    let proxy: IngressProxy;
    try {
      proxy = await IngressProxy.start(snapshot, { ...options, limits, defaultCertificate });
    } catch (err) {
      await pods.close();
      throw err;
    }
    const cluster = new RunningCluster(pods, proxy, options);
    if (options.adminPort !== undefined) {
      try {
        await cluster.startAdmin(options.adminPort);
      } catch (err) {
        await cluster.stop();
        throw err;
      }
    }
    return cluster;
  }

  /** Listening addresses of every controller. */
  get addresses(): readonly ListenerAddress[] {
    return this.proxy.addresses;
  }

  /** The running state. */
  get state(): NetworkState {
    return this.proxy.current.state;
  }

  /** Applies a new state: pods started/stopped, then the compiled snapshot swapped atomically. */
  async apply(state: NetworkState): Promise<void> {
    await this.pods.sync(state);
    this.proxy.setSnapshot(new Snapshot(state, { kind: 'loopback', pods: this.pods.ports }, this.options.backends));
  }

  /** Hot-swaps TLS certificates (issued or renewed at runtime). */
  setCertificates(secrets: readonly TlsSecret[]): void {
    this.proxy.setCertificates(secrets);
  }

  /** Plugs in the ACME HTTP-01 responder answering `/.well-known/acme-challenge/<token>`. */
  setHttp01Responder(responder: Http01Responder | undefined): void {
    this.proxy.setHttp01Responder(responder);
  }

  /**
   * A pod's connection to `ip:port` as the pod network carries it: a ClusterIP goes through the
   * model's endpoint choice, then NetworkPolicy judges the pod-to-pod hop.
   */
  podConnection(src: PodState, ip: string, port: number): PodConnection {
    const snapshot = this.proxy.current;
    const state = snapshot.state;
    let dst = state.pods.find((p) => p.ip === ip && !p.hostNetwork);
    let dstPort = port;
    let detail = `pod ${ip}:${port}`;
    let client = src.ip;
    const svc = state.services.find((s) => s.clusterIP === ip);
    if (svc) {
      const sp = servicePort(svc, port, 'TCP');
      if (!sp) return { kind: 'unreachable', reason: `Service ${svc.namespace}/${svc.name} has no port ${port}/TCP` };
      const sel = selectEndpoints(state, svc, sp, { kind: 'cluster', fromNode: src.node });
      const { chosen, why } = chooseEndpoint(svc, sel.candidates, src.ip, `${src.ip}>${ip}:${port}/TCP`);
      if (!chosen?.pod) return { kind: 'unreachable', reason: sel.detail };
      dst = chosen.pod;
      dstPort = chosen.port;
      detail = `ClusterIP ${ip}:${port} → ${chosen.ip}:${chosen.port} (${why})`;
      // Hairpin: kube-proxy masquerades a pod's connection to itself through its Service.
      const node = state.nodes.find((n) => n.name === src.node);
      if (chosen.pod === src && node) client = masqueradeAddress(state, node, node.name);
    }
    if (!dst) return { kind: 'unreachable', reason: `no pod or Service has address ${ip}` };
    const v = evaluateConnection(snapshot.policies, src, dst, 'TCP', dstPort);
    const denied = deniedDirection(v);
    if (denied) return { kind: 'denied', pod: dst, reason: deniedReason(denied, dst) };
    const localPort = this.pods.ports.get(podKey(dst.ip, dstPort, 'TCP'));
    if (localPort === undefined) return { kind: 'unreachable', reason: `nothing listens on ${dst.ip}:${dstPort}` };
    return { kind: 'connect', localPort, pod: dst, detail, client };
  }

  private async startAdmin(port: number): Promise<void> {
    this.admin = await startAdmin(this.options.address ?? '127.0.0.1', port, async () => {
      const extra = this.options.extraMetrics ? await this.options.extraMetrics() : [];
      return [this.proxy.metrics.snapshot(), ...extra];
    });
    this.adminAddress = this.admin.url;
  }

  /** Stops everything: listeners first (in-flight requests end), then the pods. */
  async stop(): Promise<void> {
    await Promise.all([this.proxy.close(), this.admin?.close()]);
    await this.pods.close();
  }
}
