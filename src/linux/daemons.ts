/**
 * Long-running programs of the Linux plane (pod agents, BIRD, FRR, the controllers' proxies),
 * started inside a network namespace with `ip netns exec` (which execs in place, so the PID is the
 * program's own), in a process group of their own (a Ctrl-C at the terminal reaches only kwire,
 * which stops them in order), and recognised later only by their PID and their command line
 * naming the cluster's runtime directory — never by name.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';

/** A program kwire started. */
export interface Daemon {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
}

/** Options of `startDaemon`. */
export interface DaemonOptions {
  /** Appended with the program's stdout and stderr. */
  readonly log: string;
  /** Extra stdio entries after stdin/stdout/stderr (e.g. `'ipc'`). */
  readonly extraStdio?: StdioOptions;
  /** Keep stdout as a pipe (a program announcing readiness there) instead of the log. */
  readonly stdoutPipe?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/** Starts `argv` inside `netns`; resolves once it is spawned (not once it is ready). */
export function startDaemon(name: string, netns: string, argv: readonly string[], opts: DaemonOptions): Promise<Daemon> {
  const fd = openSync(opts.log, 'a');
  const stdio = ['ignore', opts.stdoutPipe ? 'pipe' : fd, fd, ...((opts.extraStdio as unknown[] | undefined) ?? [])] as StdioOptions;
  const child = spawn('ip', ['netns', 'exec', netns, ...argv], { detached: true, stdio, ...(opts.env ? { env: opts.env } : {}) });
  closeSync(fd);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', () => {
      child.off('error', reject);
      child.on('error', () => undefined);
      if (child.pid === undefined) reject(new Error(`${name} did not start`));
      else resolve({ name, child, pid: child.pid });
    });
  });
}

/** Whether `pid` runs a program of ours: its command line names our runtime directory. */
export function isOurs(pid: number, marker: string): boolean {
  try {
    return readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8').includes(marker);
  } catch {
    return false;
  }
}

/** Resolves once the process has exited. */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
}

/** Stops a daemon: `signal`, then SIGKILL after `graceMs`; resolves once it is gone. */
export async function stopDaemon(d: Daemon, signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<void> {
  if (d.child.exitCode !== null || d.child.signalCode !== null) return;
  d.child.kill(signal);
  const timer = setTimeout(() => d.child.kill('SIGKILL'), graceMs);
  await exited(d.child);
  clearTimeout(timer);
}

/** Kills recorded PIDs of a crashed run, each only if it is still ours (PID reuse is checked). */
export function killRecorded(pids: readonly number[], marker: string): number {
  let killed = 0;
  for (const pid of pids) {
    if (!isOurs(pid, marker)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed++;
    } catch {
      /* already gone */
    }
  }
  return killed;
}
