/**
 * The seams of the L7 plane: the logger it is given, the HTTP-01 responder the ACME issuer plugs
 * in, the certificates it can be handed at runtime, and its options (all defaults in one place).
 */
import type { SecretState } from '../model/certmanager.js';

/** Diagnostics sink (stderr at the CLI edge). */
export interface Logger {
  readonly info: (message: string) => void;
  readonly warn: (message: string) => void;
}

/**
 * Answers ACME HTTP-01 challenges as cert-manager's solver does: the key authorization for a
 * token, or undefined (the proxy then answers 404).
 */
export interface Http01Responder {
  readonly get: (token: string) => string | undefined | Promise<string | undefined>;
}

/** A TLS certificate and key (PEM) to serve for a Secret, as cert-manager writes it. */
export interface TlsSecret {
  readonly namespace: string;
  readonly name: string;
  readonly data: SecretState['data'];
}

/** Timeouts and limits of the data path. */
export interface ProxyLimits {
  /** Time to connect to an upstream; a hop a NetworkPolicy drops ends after it with 504. @default 5000 */
  readonly connectTimeoutMs: number;
  /** Time a dropped (policy-denied) hop waits before 504. @default connectTimeoutMs */
  readonly deniedTimeoutMs: number;
  /** Time to wait for upstream response headers (nginx proxy_read_timeout). @default 60000 */
  readonly upstreamTimeoutMs: number;
  /** Largest request line plus headers, in bytes (431 beyond). @default 16384 */
  readonly maxHeaderBytes: number;
  /** A client must send its whole header block within this (slowloris). @default 10000 */
  readonly headersTimeoutMs: number;
  /** A client must send its whole request within this. @default 60000 */
  readonly requestTimeoutMs: number;
  /** Idle keep-alive connections are closed after this (nginx keepalive_timeout). @default 75000 */
  readonly keepAliveTimeoutMs: number;
}

/** Default limits, like ingress-nginx's where it has one. */
export const DEFAULT_LIMITS: ProxyLimits = {
  connectTimeoutMs: 5000,
  deniedTimeoutMs: 5000,
  upstreamTimeoutMs: 60_000,
  maxHeaderBytes: 16_384,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 75_000,
};

/** Where a controller listens. */
export interface ListenerAddress {
  readonly controller: string;
  readonly http: string;
  readonly https: string;
}

/** One line of the access log. */
export interface AccessRecord {
  readonly time: string;
  /** The client address the controller sees (a node's, when kube-proxy masqueraded the connection). */
  readonly client: string;
  /** The socket's peer, when it differs from `client` (the L7 plane plays the entry node's masquerade). */
  readonly peer?: string;
  readonly controller: string;
  readonly scheme: 'http' | 'https';
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly status: number;
  readonly ingress?: string;
  readonly service?: string;
  /** `namespace/name` of the pod that answered, or the backend override URL. */
  readonly upstream?: string;
  readonly bytes: number;
  readonly durationMs: number;
  readonly requestId: string;
  /** Why the controller answered by itself (no route, redirect, policy…). */
  readonly reason?: string;
}
