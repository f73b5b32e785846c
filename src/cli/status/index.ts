/**
 * `kwire status`: what `kwire up` runs on this machine — clusters, PIDs, listening addresses.
 */
import { Option, type Command } from 'commander';
import type { Io } from '../context.js';
import { isAlive, readUpStates, runtimeRoot } from '../up/runtime.js';

/** Options of `status`. */
export interface StatusFlags {
  readonly output: 'text' | 'json';
}

/** Prints what runs; exit 0 when something runs, 1 when nothing does. */
export function runStatus(flags: StatusFlags, io: Io, root: string): Promise<number> {
  const states = readUpStates(root).map((s) => ({ ...s, running: isAlive(s.pid) }));
  if (flags.output === 'json') {
    io.out(JSON.stringify({ apiVersion: 'kwire.dev/v1alpha1', kind: 'Status', clusters: states }, null, 2));
  } else if (states.length === 0) {
    io.out('nothing is running (start it with: kwire up -f DIR)');
  } else {
    for (const s of states) {
      io.out(`cluster ${s.cluster}: ${s.running ? 'running' : 'NOT running (stale state)'} pid ${s.pid} since ${s.startedAt} (dataplane ${s.dataplane})`);
      for (const a of s.addresses) io.out(`  ${a.controller}: ${a.http} ${a.https}`);
      if (s.admin) io.out(`  metrics: ${s.admin}/metrics`);
      if (s.accessLog) io.out(`  access log: ${s.accessLog}`);
      io.out(`  inputs: ${s.files.join(' ')}`);
    }
  }
  return Promise.resolve(states.some((s) => s.running) ? 0 : 1);
}

/** The runtime root of this process's user. */
function defaultRoot(): string {
  return runtimeRoot(process.env, process.getuid?.() ?? 0);
}

/** Registers `status` on the program. */
export function registerStatus(program: Command, io: Io, done: (p: Promise<number>) => void, root: () => string = defaultRoot): void {
  program
    .command('status')
    .description('show what kwire up runs on this machine')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((flags: StatusFlags) => {
      done(runStatus(flags, io, root()));
    });
}
