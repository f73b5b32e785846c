/**
 * The per-cluster runtime directory of `kwire up` (`$XDG_RUNTIME_DIR/kwire/<cluster>`, else
 * `/tmp/kwire-<uid>/<cluster>`): a state file with the PID `up` runs as and its addresses, read
 * by `status` and `down`.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ListenerAddress } from '../../proxy/index.js';

/** What a running `up` records. */
export interface UpState {
  readonly apiVersion: 'kwire.dev/v1alpha1';
  readonly kind: 'Up';
  readonly cluster: string;
  readonly pid: number;
  readonly startedAt: string;
  readonly dataplane: 'sim' | 'linux';
  readonly files: readonly string[];
  readonly addresses: readonly ListenerAddress[];
  readonly admin?: string;
  readonly accessLog?: string;
  readonly log?: string;
}

/** The runtime root from the environment (read at the CLI edge). */
export function runtimeRoot(env: NodeJS.ProcessEnv, uid: number): string {
  const xdg = env.XDG_RUNTIME_DIR;
  return xdg ? join(xdg, 'kwire') : join('/tmp', `kwire-${uid}`);
}

/** The directory of one cluster, created private. */
export function clusterDir(root: string, cluster: string): string {
  const dir = join(root, cluster.replace(/[^A-Za-z0-9._-]/g, '_'));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Writes the state file of a cluster. */
export function writeUpState(root: string, state: UpState): void {
  writeFileSync(join(clusterDir(root, state.cluster), 'state.json'), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

/** Removes the state file of a cluster if it still names this PID. */
export function removeUpState(root: string, cluster: string, pid: number): void {
  const file = join(root, cluster, 'state.json');
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

/** Every recorded cluster under the root. */
export function readUpStates(root: string): UpState[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .sort()
    .map((d) => readState(join(root, d, 'state.json')))
    .filter((s): s is UpState => s !== undefined);
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
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmd.includes('up') || cmd.includes('--kwire-up-child');
  } catch {
    return isAlive(pid);
  }
}
