/** The `Reachability` document (DESIGN.md's `kwire reach -o json` contract) and reach options. */
import type { Protocol } from '../../api/types.js';
import type { ConnsJson } from '../../model/policy/index.js';

/** Pod or workload granularity. */
export type Granularity = 'workload' | 'pod';

/** Options of `computeReach`. */
export interface ReachOptions {
  readonly granularity: Granularity;
  /** Only sources matching: a peer id, `ns/name`, `ns/*`, or an IP/CIDR for external peers. @default every peer */
  readonly from?: string;
  /** Only destinations matching, as `from`. @default every peer */
  readonly to?: string;
  /** Only this port (of every protocol, or of the one given); conns are cut to it. @default every port */
  readonly port?: number | { readonly protocol?: Protocol; readonly port: number };
  /** Only pairs with a side in this namespace. @default every namespace */
  readonly namespace?: string;
  /** Include the pods kwire adds itself (ingress controllers, DNS). @default false */
  readonly addons?: boolean;
  /** Carry, for each pair, the policies and rules that allowed or denied each direction. @default false */
  readonly explain?: boolean;
}

/** A peer: a workload, a pod, or an external address range. */
export interface ReachPeer {
  readonly id: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name?: string;
  /** External peers: the exact set of addresses. */
  readonly cidrs?: readonly string[];
}

/** One rule allowing part of a direction. */
export interface RuleExplain {
  /** `ns/name` of the policy. */
  readonly policy: string;
  /** `spec.ingress[0]` */
  readonly field: string;
  readonly conns: ConnsJson;
}

/** Why one direction of a pair allows what it allows. */
export interface DirectionExplain {
  /** False when no policy of this direction selects the pod (or the side is external, or not enforced). */
  readonly isolated: boolean;
  /** `ns/name` of every policy that isolates the pod for this direction. */
  readonly isolatedBy: readonly string[];
  readonly allowedBy: readonly RuleExplain[];
}

/** Explanation of one pair (only with `explain`). */
export interface PairExplain {
  /** Egress at the source. */
  readonly egress: DirectionExplain;
  /** Ingress at the destination. */
  readonly ingress: DirectionExplain;
  /** Set when the pods of a workload pair differ: what the union of its pod pairs allows. */
  readonly union?: ConnsJson;
}

/** One allowed pair. */
export interface ReachConnection {
  readonly src: string;
  readonly dst: string;
  readonly conns: ConnsJson;
  readonly explain?: PairExplain;
}

/** A pair with no allowed connection (listed only with `explain`). */
export interface ReachDenied {
  readonly src: string;
  readonly dst: string;
  readonly explain: PairExplain;
}

/** `kind: Reachability`. */
export interface Reachability {
  readonly apiVersion: 'kwire.dev/v1alpha1';
  readonly kind: 'Reachability';
  readonly granularity: Granularity;
  readonly peers: readonly ReachPeer[];
  readonly connections: readonly ReachConnection[];
  /** Only with `explain`: pairs with no connection and why. */
  readonly denied?: readonly ReachDenied[];
}
