/** The compiled form of NetworkPolicies (made once per reconcile by the networkpolicy controller). */
import type { Protocol, SourcePos, StringMap } from '../../api/types.js';
import type { Problem } from '../../api/problems.js';
import type { NetworkPolicyState } from '../types.js';
import type { IpSet } from '../ip.js';
import type { CompiledSelector } from '../selectors.js';
import { ALL_CONNS, connsOf, MAX_PORT, MIN_PORT, unionConns, type ConnSet } from './conns.js';

/** A policy direction. */
export type Direction = 'ingress' | 'egress';

/** Names a NetworkPolicy. */
export interface PolicyRef {
  readonly namespace: string;
  readonly name: string;
}

/** Names one rule of a NetworkPolicy: `field` is its path, `spec.ingress[0]`. */
export interface RuleRef extends PolicyRef {
  readonly direction: Direction;
  readonly index: number;
  readonly field: string;
}

/** A compiled `from`/`to` peer. */
export type CompiledPeer =
  | {
      readonly kind: 'pods';
      readonly index: number;
      /** `own`: the policy's namespace (no namespaceSelector). */
      readonly namespaces: 'own' | CompiledSelector;
      readonly pods: CompiledSelector;
      readonly text: string;
    }
  | {
      readonly kind: 'ipBlock';
      readonly index: number;
      readonly cidr: string;
      readonly except: readonly string[];
      /** `cidr` minus `except`. */
      readonly set: IpSet;
      readonly text: string;
    };

/** A compiled NetworkPolicyPort. */
export interface CompiledPort {
  readonly index: number;
  readonly protocol: Protocol;
  /** `any`: no port given (every port of the protocol); `named`: resolved per destination pod. */
  readonly kind: 'any' | 'range' | 'named';
  readonly range?: readonly [number, number];
  readonly name?: string;
  readonly text: string;
}

/** One compiled ingress or egress rule. */
export interface CompiledRule {
  readonly ref: RuleRef;
  /** `any` when `from`/`to` is absent or empty: every peer, in and outside the cluster. */
  readonly peers: 'any' | readonly CompiledPeer[];
  /** `any` when `ports` is absent or empty: every protocol and port. */
  readonly ports: 'any' | readonly CompiledPort[];
  /** The ports as a set when no port is named (independent of the destination pod). */
  readonly staticConns?: ConnSet;
}

/** A compiled NetworkPolicy. */
export interface CompiledPolicy {
  readonly ref: PolicyRef;
  readonly state: NetworkPolicyState;
  readonly source?: SourcePos;
  readonly podSelector: CompiledSelector;
  /** The effective policyTypes (defaults applied). */
  readonly isolates: Readonly<Record<Direction, boolean>>;
  readonly ingress: readonly CompiledRule[];
  readonly egress: readonly CompiledRule[];
}

/** Options of the compiler. */
export interface CompileOptions {
  /**
   * Let ipBlocks select in-cluster pods by their IP, as the upstream e2e suite and Calico do.
   * @default false (DESIGN.md: an ipBlock never selects an in-cluster pod)
   */
  readonly ipBlockSelectsPods?: boolean;
}

/** Every NetworkPolicy of a state, compiled. */
export interface CompiledPolicies {
  /** False when the CNI ignores NetworkPolicies: everything is allowed. */
  readonly enforced: boolean;
  readonly cniName: string;
  readonly policies: readonly CompiledPolicy[];
  readonly byNamespace: ReadonlyMap<string, readonly CompiledPolicy[]>;
  /** Namespace labels, always with `kubernetes.io/metadata.name`. */
  readonly namespaceLabels: ReadonlyMap<string, StringMap>;
  readonly podCIDRs: IpSet;
  readonly serviceCIDRs: IpSet;
  readonly ipBlockSelectsPods: boolean;
  /** Problems met while compiling (unparsable CIDRs). */
  readonly problems: readonly Problem[];
}

/** The namespace-name label every namespace carries. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** Labels of a namespace, defaulting to the name label only. */
export function namespaceLabelsOf(compiled: CompiledPolicies, namespace: string): StringMap {
  return compiled.namespaceLabels.get(namespace) ?? { [NAMESPACE_NAME_LABEL]: namespace };
}

/** The set a list of ports allows on a destination with the given container ports. */
export function portsConns(
  ports: 'any' | readonly CompiledPort[],
  destinationPorts:
    | readonly {
        readonly name?: string;
        readonly containerPort: number;
        readonly protocol: Protocol;
      }[]
    | undefined,
): ConnSet {
  if (ports === 'any') return ALL_CONNS;
  const sets: ConnSet[] = [];
  for (const port of ports) {
    switch (port.kind) {
      case 'any':
        sets.push(connsOf(port.protocol, [[MIN_PORT, MAX_PORT]]));
        break;
      case 'range':
        if (port.range) sets.push(connsOf(port.protocol, [port.range]));
        break;
      case 'named':
        for (const cp of destinationPorts ?? []) {
          if (cp.name === port.name && cp.protocol === port.protocol) {
            sets.push(connsOf(port.protocol, [[cp.containerPort, cp.containerPort]]));
          }
        }
        break;
    }
  }
  return unionConns(connsOf('TCP', []), ...sets);
}

