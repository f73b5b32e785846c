/**
 * Names of everything the Linux plane makes: network namespaces under a per-cluster prefix, and
 * interface names within IFNAMSIZ (15 characters).
 */
import { join } from 'node:path';
import { fnv32a } from '../model/ip.js';

/** The namespaces and interface names of one cluster. */
export interface ClusterNames {
  /** Prefix of every network namespace of the cluster (`kw-<cluster>.<hash>-`). */
  readonly prefix: string;
  readonly fabric: string;
  readonly external: string;
  readonly node: (nodeName: string) => string;
  readonly pod: (namespace: string, name: string) => string;
}

/** A cluster name reduced to what netns names may carry. */
export function clusterSlug(clusterName: string): string {
  const slug = clusterName.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 16);
  return slug === '' ? 'cluster' : slug;
}

/**
 * The names of a cluster's namespaces. The prefix ends with a hash of the full cluster name after a
 * `.` (which a slug never contains), so no cluster's prefix is a prefix of another cluster's names:
 * `down` of cluster `kwire` can never touch the namespaces of `kwire-dev`.
 */
export function clusterNames(clusterName: string): ClusterNames {
  const prefix = `kw-${clusterSlug(clusterName)}.${shortHash(clusterName).slice(0, 4)}-`;
  return {
    prefix,
    fabric: `${prefix}fabric`,
    external: `${prefix}ext`,
    node: (nodeName) => `${prefix}node-${nodeName}`,
    pod: (namespace, name) => `${prefix}pod-${namespace}.${name}`,
  };
}

/**
 * The runtime directory of a cluster under a runtime root: everything a running cluster keeps
 * (who runs it, its lock, its programs' configurations, sockets and logs) is in it.
 */
export function clusterRuntimeDir(root: string, clusterName: string): string {
  return join(root, `${clusterSlug(clusterName)}.${shortHash(clusterName).slice(0, 4)}`);
}

/** Eight hex digits of a stable hash. */
export function shortHash(text: string): string {
  return fnv32a(text).toString(16).padStart(8, '0');
}

/** The node-side veth of a pod (`kw` + 8 hex digits, Calico's `cali…` style). */
export function podVethName(namespace: string, name: string): string {
  return `kw${shortHash(`${namespace}/${name}`)}`;
}

/** The fabric-side veth of a node. */
export function nodeUplinkName(nodeName: string): string {
  return `nd${shortHash(nodeName)}`;
}
