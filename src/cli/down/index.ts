/**
 * `kwire down [CLUSTER]`: stops a running `kwire up` by the PID its record names (and only that
 * PID, and only if it still runs kwire), then waits for it to exit. A cluster whose `up` died is
 * cleaned up instead; a cluster another user runs is named with that user, never touched.
 */
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { EnvironmentError, millisecondsOption, type Io } from '../context.js';
import { isAlive, isKwireUp, readUpStates, removeUpState, runtimeRoot, runtimeRoots, ROOT_RUNTIME, type UpState } from '../up/runtime.js';
import { InputError } from '../../api/problems.js';
import { linuxDown } from '../../linux/index.js';

/** Options of `down`. */
export interface DownFlags {
  readonly timeout: number;
}

function exited(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((done) => {
    const check = (): void => {
      if (!isAlive(pid)) done(true);
      else if (Date.now() > deadline) done(false);
      else setTimeout(check, 50);
    };
    check();
  });
}

/** Stops the cluster named (or the only one running); exit 0 when stopped, 1 when nothing ran. */
export async function runDown(cluster: string | undefined, flags: DownFlags, io: Io, uid: number, override?: string): Promise<number> {
  const states = readUpStates(runtimeRoots(uid, override));
  let target: UpState | undefined;
  if (cluster !== undefined) target = states.find((s) => s.cluster === cluster);
  else if (states.length > 1) {
    throw new InputError([{ code: 'KW-USAGE', severity: 'error', message: `${states.length} clusters run (${states.map((s) => s.cluster).join(', ')}): name one`, hint: 'e.g. kwire down kwire' }]);
  } else target = states[0];
  if (!target) {
    if (cluster !== undefined && (await cleanLinuxLeftovers(cluster, io))) return 0;
    io.err(cluster ? `kwire: cluster "${cluster}" is not running` : 'kwire: nothing is running');
    return 1;
  }
  const root = target.dir ? dirname(target.dir) : runtimeRoot(target.uid, override);
  if (target.uid !== uid && uid !== 0) {
    throw new EnvironmentError(`cluster "${target.cluster}" runs as uid ${String(target.uid)} (pid ${String(target.pid)}, dataplane ${target.dataplane}), not as you; stop it as that user${target.uid === 0 ? `: sudo kwire down ${target.cluster}` : ''}`);
  }
  if (!isAlive(target.pid) || !isKwireUp(target.pid)) {
    removeUpState(root, target.cluster, target.pid);
    if (target.dataplane === 'linux') await cleanLinuxLeftovers(target.cluster, io);
    io.err(`kwire: cluster "${target.cluster}" was not running any more (pid ${target.pid} is gone); cleaned its state`);
    return 0;
  }
  process.kill(target.pid, 'SIGTERM');
  if (!(await exited(target.pid, flags.timeout))) throw new EnvironmentError(`pid ${target.pid} did not stop within ${flags.timeout}ms`);
  removeUpState(root, target.cluster, target.pid);
  io.err(`kwire: cluster "${target.cluster}" stopped (pid ${target.pid})`);
  return 0;
}

/** Removes what a crashed `up --dataplane linux` left (namespaces, programs); true when it ran. */
async function cleanLinuxLeftovers(cluster: string, io: Io): Promise<boolean> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const left = await linuxDown(cluster, { runtimeDir: ROOT_RUNTIME, logger: { info: (m) => { io.err(`kwire: ${m}`); }, warn: (m) => { io.err(`warning: ${m}`); } } });
  if (left) io.err(`kwire: removed what remained of the Linux plane of cluster "${cluster}"`);
  return left;
}

/** Registers `down` on the program. */
export function registerDown(program: Command, io: Io, done: (p: Promise<number>) => void, uid: () => number = () => process.getuid?.() ?? 0): void {
  program
    .command('down')
    .description('stop a cluster started with kwire up')
    .argument('[cluster]', 'the cluster name (default: the only one running)')
    .option('--timeout <ms>', 'how long to wait for it to stop', millisecondsOption('--timeout'), 10_000)
    .action((cluster: string | undefined, flags: DownFlags) => {
      done(runDown(cluster, flags, io, uid(), process.env.KWIRE_RUNTIME_DIR));
    });
}
