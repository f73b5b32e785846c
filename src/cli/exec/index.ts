/**
 * `kwire exec TARGET -- CMD`: runs a command inside a network namespace of a running Linux plane —
 * a pod's (with the pod's /etc/resolv.conf: cluster DNS, the kubelet's search path), a node's
 * (`node/NAME`; `birdc` talks to that node's BGP speaker), the outside world's client
 * (`external`, resolving Ingress hosts like the outside world's DNS) or its BGP router (`router`;
 * `vtysh` talks to its FRR).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../api/problems.js';
import { clusterNames, ensureLinuxEnvironment } from '../../linux/index.js';
import { EnvironmentError, type Io } from '../context.js';
import { isAlive, readUpStates, ROOT_RUNTIME, type UpState } from '../up/runtime.js';

/** Flags of `exec`. */
export interface ExecFlags {
  readonly namespace?: string;
  /** The cluster whose namespace to enter. @default the only running one */
  readonly cluster?: string;
  /** @default '/run/kwire' */
  readonly runtimeDir?: string;
}

function usage(message: string, hint?: string): InputError {
  return new InputError([{ code: 'KW-USAGE', severity: 'error', message, ...(hint ? { hint } : {}) }]);
}

/** `pod/NS/NAME`, `NS/NAME` or `NAME` (in `-n` or `default`). */
export function parsePodRef(ref: string, namespace = 'default'): { namespace: string; name: string } {
  const parts = ref.split('/');
  if (parts[0] === 'pod' && parts.length === 3) return { namespace: parts[1] ?? '', name: parts[2] ?? '' };
  if (parts[0] === 'pod' && parts.length === 2) return { namespace, name: parts[1] ?? '' };
  if (parts.length === 2) return { namespace: parts[0] ?? '', name: parts[1] ?? '' };
  if (parts.length === 1 && ref !== '') return { namespace, name: ref };
  throw usage(`pod "${ref}" is not understood`, 'use pod/NS/NAME, NS/NAME or NAME with -n NS');
}

function runningCluster(flags: ExecFlags): UpState {
  const running = readUpStates([flags.runtimeDir ?? ROOT_RUNTIME]).filter((s) => s.dataplane === 'linux' && isAlive(s.pid));
  const chosen = flags.cluster !== undefined ? running.find((s) => s.cluster === flags.cluster) : running.length === 1 ? running[0] : undefined;
  if (chosen) return chosen;
  if (running.length === 0 || flags.cluster !== undefined) throw new EnvironmentError(flags.cluster ? `cluster "${flags.cluster}" does not run a Linux plane` : 'no Linux plane is running: start one with `kwire up --dataplane linux -f …`');
  throw usage(`several clusters are running (${running.map((s) => s.cluster).join(', ')})`, 'choose one with --cluster NAME');
}

/** The namespace to enter and the command, completed with the private paths of the cluster's daemons. */
function resolveTarget(ref: string, command: readonly string[], up: UpState, flags: ExecFlags): { netns: string; argv: string[]; what: string } {
  const names = clusterNames(up.cluster);
  const dir = up.dir ?? '';
  const [program, ...args] = command;
  if (ref === 'external') return { netns: names.external, argv: [...command], what: 'the outside world' };
  if (ref === 'router') {
    const argv = program === 'vtysh' ? ['vtysh', '--vty_socket', join(dir, 'frr', 'sock'), ...args] : [...command];
    return { netns: names.external, argv, what: 'the BGP router' };
  }
  if (ref.startsWith('node/')) {
    const node = ref.slice('node/'.length);
    const argv = program === 'birdc' ? ['birdc', '-s', join(dir, 'bird', `${node}.ctl`), ...args] : [...command];
    return { netns: names.node(node), argv, what: `node ${node}` };
  }
  const pod = parsePodRef(ref, flags.namespace);
  return { netns: names.pod(pod.namespace, pod.name), argv: [...command], what: `pod ${pod.namespace}/${pod.name}` };
}

/** Runs the command in the namespace; resolves to its exit code. */
export async function runExec(ref: string, command: readonly string[], flags: ExecFlags, io: Io): Promise<number> {
  await ensureLinuxEnvironment();
  if (command.length === 0) throw usage('no command given', 'kwire exec TARGET -- CMD [ARGS…]');
  const up = runningCluster(flags);
  const { netns, argv, what } = resolveTarget(ref, command, up, flags);
  if (!existsSync(`/run/netns/${netns}`)) throw usage(`${what} is not running in cluster ${up.cluster}`, 'targets: pod/NS/NAME, node/NAME, external, router; list the pods with `kwire get pods -A -f …`');
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal) io.err(`${argv[0] ?? ''} ended by ${signal}`);
      resolve(code ?? 1);
    });
  });
}

/** Registers `exec` on the program. */
export function registerExec(program: Command, io: Io, done: (p: Promise<number>) => void): void {
  program
    .command('exec')
    .description("run a command in a namespace of the running Linux plane: a pod (cluster DNS), node/NAME, external (the outside world) or router (its BGP router; vtysh)")
    .argument('<target>', 'pod/NS/NAME, NS/NAME, NAME, node/NAME, external or router')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('-n, --namespace <ns>', 'namespace of a pod given by NAME', 'default')
    .option('--cluster <name>', 'the running cluster (default: the only one)')
    .action((target: string, command: string[], flags: ExecFlags) => {
      done(runExec(target, command[0] === '--' ? command.slice(1) : command, flags, io));
    });
}
