/**
 * Where running clusters are recorded: one runtime root per user, fixed (`/run/kwire` for root,
 * `/tmp/kwire-<uid>` for others, or `KWIRE_RUNTIME_DIR` when set — never the session-dependent
 * XDG_RUNTIME_DIR), one directory per cluster in it holding who runs it (`up.json`), its lock, its
 * control socket and the Linux plane's files. The Linux plane always lives in `/run/kwire`: its
 * namespaces are the machine's, whatever the environment says. `status` and `down` read both.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentError } from '../../api/problems.js';
import { clusterRuntimeDir } from '../../linux/names.js';
import type { ListenerAddress } from '../../proxy/index.js';

/** What a running `up` records. */
export interface UpState {
  readonly apiVersion: 'kwire.dev/v1alpha1';
  readonly kind: 'Up';
  readonly cluster: string;
  readonly pid: number;
  /** The user `up` runs as. */
  readonly uid: number;
  readonly startedAt: string;
  readonly dataplane: 'sim' | 'linux';
  readonly files: readonly string[];
  readonly addresses: readonly ListenerAddress[];
  readonly admin?: string;
  readonly accessLog?: string;
  readonly log?: string;
  /** The Unix socket `kwire node stop|start` talks to. */
  readonly control?: string;
  /** Nodes stopped with `kwire node stop`. */
  readonly stoppedNodes?: readonly string[];
  /** The cluster's runtime directory (set when read). */
  readonly dir?: string;
}

/** Root's runtime root, where the Linux plane (root only) always lives. */
export const ROOT_RUNTIME = '/run/kwire';

/** The runtime root of a user (`KWIRE_RUNTIME_DIR` overrides, read at the CLI edge). */
export function runtimeRoot(uid: number, override?: string): string {
  if (override) return override;
  return uid === 0 ? ROOT_RUNTIME : join('/tmp', `kwire-${String(uid)}`);
}

/** The runtime roots `status` and `down` read: the user's own, and root's (the Linux plane's; to say whose a cluster is). */
export function runtimeRoots(uid: number, override?: string): string[] {
  return [...new Set([runtimeRoot(uid, override), ROOT_RUNTIME])];
}

/** The directory of one cluster, created private. */
export function clusterDir(root: string, cluster: string): string {
  const dir = clusterRuntimeDir(root, cluster);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Writes the state file of a cluster. */
export function writeUpState(root: string, state: UpState): void {
  const record: { -readonly [K in keyof UpState]?: UpState[K] } = { ...state };
  delete record.dir;
  writeFileSync(join(clusterDir(root, state.cluster), 'up.json'), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
}

/** Removes the state file of a cluster if it still names this PID. */
export function removeUpState(root: string, cluster: string, pid: number): void {
  const file = join(clusterRuntimeDir(root, cluster), 'up.json');
  const current = readState(file);
  if (current?.pid === pid) rmSync(file, { force: true });
}

function readState(file: string): UpState | undefined {
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as UpState;
    return s.kind === 'Up' && typeof s.pid === 'number' ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Every recorded cluster under the roots (a cluster recorded twice is listed once, its first root winning). */
export function readUpStates(roots: readonly string[]): UpState[] {
  const out: UpState[] = [];
  for (const root of roots) {
    if (!existsSync(root)) continue;
    for (const d of readdirSync(root).sort()) {
      const s = readState(join(root, d, 'up.json'));
      if (s && !out.some((o) => o.cluster === s.cluster)) out.push({ ...s, dir: join(root, d) });
    }
  }
  return out;
}

/** Whether a PID is alive (signal 0). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the PID runs `kwire up` (checked on /proc where there is one), so `down` never signals a stranger. */
export function isKwireUp(pid: number): boolean {
  try {
    const cmd = readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8').split('\0');
    return cmd.includes('up') || cmd.includes('--kwire-up-child');
  } catch {
    return isAlive(pid);
  }
}

/** Whether the PID runs the differential suite (`dist/check/main.js`), which holds clusters' locks too. */
function isDifferential(pid: number): boolean {
  try {
    return readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8').split('\0').some((a) => a.endsWith('check/main.js'));
  } catch {
    return false;
  }
}

/** The owner of a path, for messages about another user's cluster. */
export function ownerOf(path: string): number | undefined {
  try {
    return statSync(path).uid;
  } catch {
    return undefined;
  }
}

/** A held lock; `release` removes it if it is still ours. */
export interface Lock {
  readonly release: () => void;
}

/**
 * Takes the cluster's lock before anything of the cluster is touched: a file created exclusively,
 * naming our PID. A lock whose PID no longer runs kwire is stale and taken over (renamed away
 * first, so two takers cannot both win). A live one refuses with the PID that holds it.
 */
export function acquireLock(dir: string, cluster: string): Lock {
  const file = join(dir, 'lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, `${String(process.pid)}\n`);
      closeSync(fd);
      return {
        release: () => {
          try {
            if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
          } catch {
            /* already gone */
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
      if (isKwireUp(holder)) throw new EnvironmentError(`cluster "${cluster}" is already starting or running (pid ${String(holder)}); stop it with: kwire down ${cluster}`);
      if (isDifferential(holder)) throw new EnvironmentError(`cluster "${cluster}" is in use by the differential suite (pid ${String(holder)}); wait for it or use another cluster name`);
    }
    try {
      renameSync(file, `${file}.stale-${String(process.pid)}`);
      rmSync(`${file}.stale-${String(process.pid)}`, { force: true });
    } catch {
      /* another taker renamed it first: try again */
    }
  }
  throw new EnvironmentError(`could not take the lock of cluster "${cluster}" (${file})`);
}
