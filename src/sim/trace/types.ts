/**
 * The Trace contract of DESIGN.md: one connection or request, hop by hop.
 */

/** An object that decided a hop. */
export interface TraceRef {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly field?: string;
}

/** One hop of a trace. */
export interface Hop {
  readonly component: 'dns' | 'metallb' | 'node' | 'kube-proxy' | 'networkpolicy' | 'ingress-controller' | 'tls' | 'pod' | 'external' | 'client';
  readonly node?: string;
  readonly action: string;
  readonly verdict: 'pass' | 'deny' | 'answer' | 'no-route' | 'info';
  readonly refs: readonly TraceRef[];
  readonly detail: string;
}

/** The end of a trace. */
export type TraceVerdict = 'delivered' | 'denied' | 'no-route' | 'answered';

/** Where a delivered trace ends. */
export interface TraceDestination {
  readonly pod?: { readonly namespace: string; readonly name: string; readonly ip: string; readonly node: string };
  readonly ip?: string;
  readonly port?: number;
  readonly backend?: { readonly service: { readonly namespace: string; readonly name: string; readonly port?: number; readonly portName?: string } };
}

/** A trace, as `kwire trace -o json` prints it. */
export interface Trace {
  readonly apiVersion: 'kwire.dev/v1alpha1';
  readonly kind: 'Trace';
  readonly verdict: TraceVerdict;
  readonly response?: { readonly status: number; readonly by: string; readonly location?: string };
  readonly hops: readonly Hop[];
  readonly destination?: TraceDestination;
  /** The certificate served for the request's SNI (HTTPS through an ingress controller). */
  readonly certificate?: {
    readonly secretName?: string;
    readonly namespace: string;
    readonly dnsNames: readonly string[];
    readonly issuer?: string;
    readonly covers: boolean;
    readonly notAfter?: string;
  };
  /** For a denial: what would allow the connection. */
  readonly hint?: string;
}
