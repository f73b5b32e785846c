/**
 * The Linux plane as the differential suite's kernel plane: one plane for the whole run (built on
 * the first cluster, moved by `apply`), its ingress controllers running the real proxy, and a
 * lock so two runs never build the same cluster's namespaces at once.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentError } from '../api/problems.js';
import { linuxDown, linuxUp } from '../linux/index.js';
import { clusterRuntimeDir } from '../linux/names.js';
import type { DifferentialLogger, KernelPlane, PlaneStarter } from './differential.js';

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

/** A held lock on a cluster name. */
export interface ClusterLock {
  readonly release: () => void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the differential lock of a cluster name (a file naming our PID); a lock whose PID is gone
 * is taken over. Throws EnvironmentError when a live process holds it.
 */
export function lockCluster(clusterName: string, runtimeDir = DEFAULT_RUNTIME_DIR): ClusterLock {
  const dir = clusterRuntimeDir(runtimeDir, clusterName);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'differential.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, `${String(process.pid)}\n`);
      closeSync(fd);
      return {
        release: () => {
          if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && alive(holder)) throw new EnvironmentError(`cluster "${clusterName}" is in use by process ${String(holder)} (${file}); wait for it or use --cluster-name`);
      rmSync(file, { force: true });
    }
  }
  throw new EnvironmentError(`cannot take the lock ${file}`);
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
