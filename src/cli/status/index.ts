/**
 * `kwire status`: what `kwire up` runs on this machine — clusters, PIDs, users, stopped nodes,
 * listening addresses — read from the one runtime place `up` records in.
 */
import { Option, type Command } from 'commander';
import type { Io } from '../context.js';
import { isAlive, readUpStates, runtimeRoots } from '../up/runtime.js';

/** Options of `status`. */
export interface StatusFlags {
  readonly output: 'text' | 'json';
}

/** Prints what runs; exit 0 when something runs, 1 when nothing does. */
export function runStatus(flags: StatusFlags, io: Io, roots: readonly string[]): Promise<number> {
  const states = readUpStates(roots).map((s) => ({ ...s, running: isAlive(s.pid) }));
  if (flags.output === 'json') {
    io.out(JSON.stringify({ apiVersion: 'kwire.dev/v1alpha1', kind: 'Status', clusters: states }, null, 2));
  } else if (states.length === 0) {
    io.out('nothing is running (start it with: kwire up -f DIR)');
  } else {
    for (const s of states) {
      io.out(`cluster ${s.cluster}: ${s.running ? 'running' : 'NOT running (stale state)'} pid ${s.pid} (uid ${String(s.uid)}) since ${s.startedAt} (dataplane ${s.dataplane})`);
      for (const a of s.addresses) io.out(`  ${a.controller}: ${a.http} ${a.https}`);
      if (s.stoppedNodes?.length) io.out(`  stopped nodes: ${s.stoppedNodes.join(', ')} (kwire node start NODE)`);
      if (s.admin) io.out(`  metrics: ${s.admin}/metrics`);
      if (s.accessLog) io.out(`  access log: ${s.accessLog}`);
      if (s.log) io.out(`  log: ${s.log}`);
      io.out(`  inputs: ${s.files.join(' ')}`);
    }
  }
  return Promise.resolve(states.some((s) => s.running) ? 0 : 1);
}

/** Registers `status` on the program. */
export function registerStatus(program: Command, io: Io, done: (p: Promise<number>) => void, roots: () => readonly string[] = () => runtimeRoots(process.getuid?.() ?? 0, process.env.KWIRE_RUNTIME_DIR)): void {
  program
    .command('status')
    .description('show what kwire up runs on this machine')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((flags: StatusFlags) => {
      done(runStatus(flags, io, roots()));
    });
}
