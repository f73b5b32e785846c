/**
 * One running configuration: the state's compiled routes and policies, and per-request lookups
 * memoized over them (a Service port's eligible endpoints, a hop's NetworkPolicy verdict). Built
 * once per reconcile and swapped atomically; in-flight requests keep the one they started with.
 */
import { type IngressRouting, type BackendDecision } from '../model/routing/index.js';
import { evaluateConnection, type CompiledPolicies, type ConnectionVerdict, type DirectionVerdict } from '../model/policy/index.js';
import { chooseEndpoint, selectEndpoints, servicePort, type Candidate } from '../model/endpoints.js';
import { EXTERNAL_CLIENT_IP } from '../model/dataplane.js';
import { controllerEntry } from '../model/entry.js';
import type { NetworkState, PodState, ServiceState } from '../model/types.js';
import { podKey, type PodPortTable } from './echo.js';

/** The direction that denies a connection, if one does (egress at the source first). */
export function deniedDirection(v: ConnectionVerdict): DirectionVerdict | undefined {
  return !v.egress.allowed ? v.egress : !v.ingress.allowed ? v.ingress : undefined;
}

/** How the proxy's log and the demo say which policy dropped a hop. */
export function deniedReason(d: DirectionVerdict, dst: PodState): string {
  return `NetworkPolicy ${d.isolatedBy.map((p) => `${p.namespace}/${p.name}`).join(', ')} drops ${d.direction} at ${d.pod ?? dst.name}: ${d.detail}`;
}

/** A controller as the proxy plays it: its name and the pod it acts as (the NetworkPolicy source). */
export interface ControllerView {
  readonly name: string;
  readonly flavour: string;
  readonly className: string;
  readonly pod?: PodState;
}

/** Where a request that routed to a Service goes. */
export type UpstreamChoice =
  | { readonly kind: 'unavailable'; readonly status: 503; readonly reason: string; readonly service: string }
  | { readonly kind: 'denied'; readonly status: 504; readonly reason: string; readonly service: string; readonly pod: PodState; readonly policies: readonly string[] }
  | { readonly kind: 'refused'; readonly status: 502; readonly reason: string; readonly service: string; readonly pod?: PodState }
  | {
      readonly kind: 'upstream';
      readonly service: string;
      readonly servicePort: number;
      readonly url: { readonly protocol: 'http:' | 'https:'; readonly hostname: string; readonly port: number };
      /** `namespace/name` of the pod, or the override URL. */
      readonly upstream: string;
      readonly pod?: PodState;
    };

/** Backend overrides: `namespace/name` of a Service → the local URL that serves it instead. */
export type BackendOverrides = ReadonlyMap<string, URL>;

/**
 * What carries the proxy's traffic. `loopback` (the L7 plane): pods are local programs, so the
 * proxy plays the network itself — the entry's masquerade, NetworkPolicy verdicts, the pods'
 * local ports. `kernel` (the Linux plane): the proxy runs in the controller pod's own network
 * namespace and the kernel does all of that; upstreams are the endpoints' real addresses.
 */
export type PodNetwork = { readonly kind: 'loopback'; readonly pods: PodPortTable } | { readonly kind: 'kernel' };

interface PortEntry {
  readonly svc: ServiceState;
  readonly port: number;
  readonly candidates: readonly Candidate[];
  readonly detail: string;
}

/** The compiled configuration of one state. */
export class Snapshot {
  readonly routing: IngressRouting;
  readonly policies: CompiledPolicies;
  readonly controllers: readonly ControllerView[];
  private readonly byName: ReadonlyMap<string, ControllerView>;
  private readonly ports = new Map<string, PortEntry | string>();
  private readonly choices = new Map<string, Map<Candidate, UpstreamChoice>>();
  private readonly overrides = new Map<string, UpstreamChoice>();
  private readonly verdicts = new Map<string, { allowed: boolean; reason: string; policies: string[] }>();

  private readonly entries = new Map<string, ReturnType<typeof controllerEntry>>();

  constructor(
    readonly state: NetworkState,
    readonly network: PodNetwork,
    readonly backends: BackendOverrides = new Map(),
  ) {
    this.routing = state.routing;
    this.policies = state.policies;
    this.controllers = state.cluster.ingressControllers.map((c) => {
      const pod = state.pods
        .filter((p) => p.addon && p.labels['app.kubernetes.io/instance'] === c.name)
        .sort((a, b) => Number(b.ready) - Number(a.ready) || (a.name < b.name ? -1 : 1))[0];
      return { name: c.name, flavour: c.flavour, className: c.className, ...(pod ? { pod } : {}) };
    });
    this.byName = new Map(this.controllers.map((c) => [c.name, c]));
    if (network.kind === 'loopback') for (const c of this.controllers) this.entries.set(c.name, controllerEntry(state, c.name));
  }

  /**
   * The client address the controller sees for a connection from `socketAddress`. In the kernel
   * that is the socket's peer; on loopback, the model's answer for an outside client entering
   * through the controller's LoadBalancer or NodePort (the entry node's, unless
   * `externalTrafficPolicy: Local` keeps the client's).
   */
  clientOf(controller: string, socketAddress: string): string {
    const entry = this.entries.get(controller);
    if (!entry) return socketAddress;
    // On loopback, a local client stands for the outside world's default client.
    return entry.seen(socketAddress.startsWith('127.') ? EXTERNAL_CLIENT_IP : socketAddress);
  }

  /** The controller of a name, if the state still installs it. */
  controller(name: string): ControllerView | undefined {
    return this.byName.get(name);
  }

  private portEntry(controller: ControllerView, d: BackendDecision): PortEntry | string {
    const key = `${controller.name}|${d.service.namespace}/${d.service.name}|${String(d.service.port)}`;
    const cached = this.ports.get(key);
    if (cached !== undefined) return cached;
    const svc = this.state.services.find((s) => s.namespace === d.service.namespace && s.name === d.service.name);
    let entry: PortEntry | string;
    const sp = svc ? servicePort(svc, d.service.port) : undefined;
    if (!svc) entry = `Service ${d.service.namespace}/${d.service.name} does not exist`;
    else if (!sp) entry = `Service ${svc.namespace}/${svc.name} has no port ${String(d.service.port)}`;
    else {
      const sel = selectEndpoints(this.state, svc, sp, { kind: 'cluster', ...(controller.pod ? { fromNode: controller.pod.node } : {}) });
      entry = { svc, port: sp.port, candidates: sel.candidates, detail: sel.detail };
    }
    this.ports.set(key, entry);
    return entry;
  }

  private verdict(controller: ControllerView, pod: PodState, port: number): { allowed: boolean; reason: string; policies: string[] } {
    const key = `${controller.name}|${pod.ip}|${port}`;
    const cached = this.verdicts.get(key);
    if (cached) return cached;
    if (!controller.pod) {
      const none = { allowed: true, reason: `the controller ${controller.name} has no pod in the model, so no NetworkPolicy can judge its traffic`, policies: [] };
      this.verdicts.set(key, none);
      return none;
    }
    const v = evaluateConnection(this.policies, controller.pod, pod, 'TCP', port);
    const denied = deniedDirection(v);
    const policies = denied ? denied.isolatedBy.map((p) => `${p.namespace}/${p.name}`) : [];
    const out = { allowed: v.allowed, reason: denied ? deniedReason(denied, pod) : v.detail, policies };
    this.verdicts.set(key, out);
    return out;
  }

  /**
   * The endpoint a routed request goes to, chosen by the model's kube-proxy rule with the same
   * connection key `trace` uses, so the real request and the trace agree on the pod.
   */
  upstreamFor(controller: ControllerView, d: BackendDecision, clientIP: string, host: string, path: string): UpstreamChoice {
    const service = `${d.service.namespace}/${d.service.name}`;
    const entry = this.portEntry(controller, d);
    const override = this.backends.get(service);
    if (typeof entry === 'string') {
      if (override) return overrideChoice(service, typeof d.service.port === 'number' ? d.service.port : 0, override);
      return { kind: 'unavailable', status: 503, reason: entry, service };
    }
    if (override) {
      let choice = this.overrides.get(service);
      if (!choice) {
        choice = overrideChoice(service, entry.port, override);
        this.overrides.set(service, choice);
      }
      return choice;
    }
    const { chosen } = chooseEndpoint(entry.svc, entry.candidates, clientIP, `${clientIP}>${host}${path}`);
    if (!chosen) return { kind: 'unavailable', status: 503, reason: entry.detail, service };
    let byCandidate = this.choices.get(controller.name);
    if (!byCandidate) {
      byCandidate = new Map();
      this.choices.set(controller.name, byCandidate);
    }
    let choice = byCandidate.get(chosen);
    if (!choice) {
      choice = this.choiceFor(controller, service, entry, chosen);
      byCandidate.set(chosen, choice);
    }
    return choice;
  }

  private choiceFor(controller: ControllerView, service: string, entry: PortEntry, chosen: Candidate): UpstreamChoice {
    const pod = chosen.pod;
    const upstream = pod ? `${pod.namespace}/${pod.name}` : chosen.ip;
    if (this.network.kind === 'kernel') {
      return { kind: 'upstream', service, servicePort: entry.port, url: { protocol: 'http:', hostname: chosen.ip, port: chosen.port }, upstream, ...(pod ? { pod } : {}) };
    }
    if (pod) {
      const v = this.verdict(controller, pod, chosen.port);
      if (!v.allowed) return { kind: 'denied', status: 504, reason: v.reason, service, pod, policies: v.policies };
    }
    const local = this.network.pods.get(podKey(chosen.ip, chosen.port, 'TCP'));
    if (local === undefined) {
      return { kind: 'refused', status: 502, reason: `nothing listens on ${chosen.ip}:${chosen.port} (no container declares the port)`, service, ...(pod ? { pod } : {}) };
    }
    return {
      kind: 'upstream',
      service,
      servicePort: entry.port,
      url: { protocol: 'http:', hostname: '127.0.0.1', port: local },
      upstream,
      ...(pod ? { pod } : {}),
    };
  }
}

function overrideChoice(service: string, servicePort: number, url: URL): UpstreamChoice {
  const protocol = url.protocol === 'https:' ? 'https:' : 'http:';
  return {
    kind: 'upstream',
    service,
    servicePort,
    url: { protocol, hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : protocol === 'https:' ? 443 : 80 },
    upstream: url.origin,
  };
}
