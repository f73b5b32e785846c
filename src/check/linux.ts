/**
 * The Linux plane as the differential suite's kernel plane: one plane for the whole run (built on
 * the first cluster, moved by `apply`), its ingress controllers running the real proxy, and a
 * lock so two runs never build the same cluster's namespaces at once.
 */
import { mkdirSync } from 'node:fs';
import { acquireLock, type Lock } from '../cli/up/runtime.js';
import { linuxDown, linuxUp } from '../linux/index.js';
import { clusterRuntimeDir } from '../linux/names.js';
import type { DifferentialLogger, KernelPlane, PlaneStarter } from './session.js';

/** Options of the Linux plane starter. */
export interface LinuxStarterOptions {
  /** The compiled `dist/linux/` (pod and probe agents). */
  readonly agentDir: string;
  /** The compiled `dist/cli/up/proxy-worker.js` (ingress controller pods run it). */
  readonly proxyEntry: string;
  /** @default '/run/kwire' */
  readonly runtimeDir?: string;
  /** The probes' timeout: the controllers give up on a dropped upstream well before it. */
  readonly timeoutMs: number;
  readonly logger: DifferentialLogger;
}

/** The runtime root the Linux plane uses unless told otherwise. */
export const DEFAULT_RUNTIME_DIR = '/run/kwire';

/**
 * Takes the lock of a cluster name, the one `kwire up` takes, so neither builds namespaces the
 * other owns; a lock whose process is gone is taken over. Throws EnvironmentError when held.
 */
export function lockCluster(clusterName: string, runtimeDir = DEFAULT_RUNTIME_DIR): Lock {
  const dir = clusterRuntimeDir(runtimeDir, clusterName);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return acquireLock(dir, clusterName);
}

/** Starts the Linux plane on a first state; `down` removes every namespace of the cluster. */
export function linuxStarter(opts: LinuxStarterOptions): PlaneStarter {
  const upstream = Math.max(200, Math.floor(opts.timeoutMs * 0.4));
  return async (state) => {
    const runtimeDir = opts.runtimeDir ?? DEFAULT_RUNTIME_DIR;
    const plane = await linuxUp(state, { agentDir: opts.agentDir, proxyEntry: opts.proxyEntry, runtimeDir, logger: { info: () => undefined, warn: (m) => { opts.logger.warn(`  linux plane: ${m}`); } }, proxyLimits: { connectTimeoutMs: upstream, deniedTimeoutMs: upstream } });
    const kernel: KernelPlane = {
      apply: (next) => plane.apply(next),
      settle: async () => {
        await plane.settled();
        if (!(await plane.bgpConverged(8000))) opts.logger.warn('  linux plane: the router did not learn every BGP route within 8 s');
      },
      probe: (connections, timeoutMs) => plane.probe(connections, timeoutMs),
      down: async () => {
        await plane.down();
        await linuxDown(state.cluster.name, { runtimeDir });
      },
    };
    return kernel;
  };
}
