/**
 * The contract every plane answers (DESIGN.md "Agreement between planes"): a connection or request
 * described as data, and what happened to it hop by hop. The simulator traces it, the L7 plane and
 * the Linux plane make it for real; the conformance runners and the differential suite ask each
 * plane the same questions through this one interface.
 */
import type { Protocol } from '../api/types.js';

/** The address of "a client outside the cluster" unless a connection names another. */
export const EXTERNAL_CLIENT_IP = '203.0.113.100';

/** Where a connection starts. */
export type ConnectionSource =
  | { readonly kind: 'pod'; readonly namespace: string; readonly name: string }
  /** A pod of a workload: the first ready one by name. */
  | { readonly kind: 'workload'; readonly workloadKind: 'Deployment' | 'StatefulSet' | 'DaemonSet'; readonly namespace: string; readonly name: string }
  /** A client outside the cluster. @default ip 203.0.113.100 */
  | { readonly kind: 'external'; readonly ip?: string }
  /** A process on a node (its own network namespace, not a pod). */
  | { readonly kind: 'node'; readonly name: string }
  /** Whoever has this address: a pod with it, else a client outside the cluster. */
  | { readonly kind: 'ip'; readonly ip: string };

/** Where a connection goes. */
export type ConnectionTarget =
  | { readonly kind: 'url'; readonly scheme: 'http' | 'https'; readonly host: string; readonly port: number; readonly path: string }
  | { readonly kind: 'service'; readonly namespace: string; readonly name: string; readonly port: number | string }
  | { readonly kind: 'pod'; readonly namespace: string; readonly name: string; readonly port: number | string }
  | { readonly kind: 'ip'; readonly ip: string; readonly port: number }
  /** A DNS name: cluster DNS from a pod, the outside world's DNS otherwise. */
  | { readonly kind: 'name'; readonly name: string; readonly port: number | string };

/** `curl --resolve NAME[:PORT]:ADDR`: the outside world's DNS answers ADDR for NAME. */
export interface ResolveOverride {
  readonly name: string;
  readonly port?: number;
  readonly address: string;
}

/** One question to a plane. */
export interface Connection {
  readonly from: ConnectionSource;
  readonly to: ConnectionTarget;
  /** @default 'TCP' */
  readonly protocol?: Protocol;
  /** HTTP method of a URL target. @default 'GET' */
  readonly method?: string;
  /** Request headers of a URL target (lower-case names). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly resolve?: readonly ResolveOverride[];
}

/** An object that decided a hop. */
export interface TraceRef {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly field?: string;
}

/** The components a hop can belong to. */
export const HOP_COMPONENTS = ['dns', 'metallb', 'node', 'kube-proxy', 'networkpolicy', 'ingress-controller', 'tls', 'pod', 'external', 'client', 'kernel'] as const;

/** One hop of a connection. */
export interface Hop {
  readonly component: (typeof HOP_COMPONENTS)[number];
  readonly node?: string;
  readonly action: string;
  readonly verdict: 'pass' | 'deny' | 'answer' | 'no-route' | 'info';
  readonly refs: readonly TraceRef[];
  readonly detail: string;
}

/** How a connection ended. */
export type TraceVerdict = 'delivered' | 'denied' | 'no-route' | 'answered';

/** A pod as a trace names it. */
export interface PodTarget {
  readonly namespace: string;
  readonly name: string;
  readonly ip: string;
  readonly node: string;
}

/** Where a delivered trace ends. */
export interface TraceDestination {
  readonly pod?: PodTarget;
  /** The node whose own address answered (an API server endpoint, say). */
  readonly node?: string;
  readonly ip?: string;
  readonly port?: number;
  /**
   * The client address the destination sees: the source's own, a node's after kube-proxy's
   * masquerade, or (through an ingress controller) the client the controller saw, which it passes
   * on in X-Forwarded-For.
   */
  readonly client?: string;
  readonly backend?: { readonly service: { readonly namespace: string; readonly name: string; readonly port?: number; readonly portName?: string } };
  /**
   * Every pod the connection may end at (`ns/name`), when a random draw on the way (kube-proxy's
   * `numgen`, a router's ECMP hash) decides between several; `pod` is the one drawn for this trace.
   */
  readonly possible?: readonly string[];
}

/** The certificate served for an HTTPS request's SNI. */
export interface ServedCertificateRef {
  readonly secretName?: string;
  readonly namespace: string;
  readonly dnsNames: readonly string[];
  readonly issuer?: string;
  readonly covers: boolean;
  readonly notAfter?: string;
  /** The controller's own default certificate (no TLS Secret for the host, or the Secret is missing). */
  readonly fallback?: boolean;
  /** The subject CN of a fallback certificate, e.g. `Kubernetes Ingress Controller Fake Certificate`. */
  readonly subject?: string;
}

/** A trace, as `kwire trace -o json` prints it. */
export interface Trace {
  readonly apiVersion: 'kwire.dev/v1alpha1';
  readonly kind: 'Trace';
  readonly verdict: TraceVerdict;
  readonly response?: { readonly status: number; readonly by: string; readonly location?: string };
  readonly hops: readonly Hop[];
  readonly destination?: TraceDestination;
  readonly certificate?: ServedCertificateRef;
  /** For a denial: what would allow the connection. */
  readonly hint?: string;
}

/** The pod a workload source stands for: its first ready pod by name (else its first). */
export function workloadPod<P extends { readonly namespace: string; readonly name: string; readonly ready: boolean; readonly workload: { readonly kind: string; readonly name: string } }>(pods: readonly P[], src: ConnectionSource & { kind: 'workload' }): P | undefined {
  const mine = pods.filter((p) => p.namespace === src.namespace && p.workload.kind === src.workloadKind && p.workload.name === src.name).sort((a, b) => a.name.localeCompare(b.name));
  return mine.find((p) => p.ready) ?? mine[0];
}

/** The name of a plane. */
export type PlaneName = 'sim' | 'l7' | 'linux';

/** What a plane saw of one connection. */
export interface Probed {
  readonly plane: PlaneName;
  /** Why this plane cannot answer the question (a documented limit), when it cannot. */
  readonly skipped?: string;
  /** What happened, when the plane can tell (a real plane cannot tell a drop from a missing route). */
  readonly verdict?: TraceVerdict;
  /** How a real connection failed: no answer in time, refused (a reject), no route, or the name did not resolve. */
  readonly failure?: 'timeout' | 'refused' | 'unreachable' | 'nxdomain' | 'error';
  /** The pod that answered (`ns/name`), or `node/NAME` for a node's own listener. */
  readonly answeredBy?: string;
  /** The client address the destination saw. */
  readonly seenClient?: string;
  readonly status?: number;
  readonly location?: string;
  /** DNS names of the certificate served (HTTPS). */
  readonly certificateNames?: readonly string[];
  readonly certificateSubject?: string;
  /** What the plane observed, hop by hop (the simulator's full trace; a real plane's observations). */
  readonly hops: readonly Hop[];
  /** The simulator's trace, when this is the simulator. */
  readonly trace?: Trace;
  /** Every outcome the simulator allows (one per combination of random draws), when this is the simulator. */
  readonly outcomes?: readonly Trace[];
}

/** A plane: asked connections, it says what happened to each. */
export interface Dataplane {
  readonly name: PlaneName;
  /** Makes (or traces) the connections, in order; one result per connection. */
  probe(connections: readonly Connection[]): Promise<Probed[]>;
}
