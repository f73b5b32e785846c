/**
 * `kwire exec POD -- CMD`: runs a command inside a pod's network namespace of a running Linux
 * plane, with the pod's /etc/resolv.conf (cluster DNS, the kubelet's search path).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../api/problems.js';
import { clusterNames, ensureLinuxEnvironment } from '../../linux/index.js';
import { EnvironmentError, type Io } from '../context.js';

/** Flags of `exec`. */
export interface ExecFlags {
  readonly namespace?: string;
  /** The cluster whose pod to enter. @default the only running one */
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

/** The clusters whose Linux plane runs: the names recorded in the runtime directory's state files. */
function runningClusters(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    try {
      const state = JSON.parse(readFileSync(join(dir, entry, 'state.json'), 'utf8')) as { cluster?: unknown };
      return typeof state.cluster === 'string' ? [state.cluster] : [];
    } catch {
      return [];
    }
  });
}

function runningCluster(flags: ExecFlags): string {
  if (flags.cluster !== undefined) return flags.cluster;
  const clusters = runningClusters(flags.runtimeDir ?? '/run/kwire');
  if (clusters.length === 1 && clusters[0] !== undefined) return clusters[0];
  if (clusters.length === 0) throw new EnvironmentError('no Linux plane is running: start one with `kwire up --dataplane linux -f …`');
  throw usage(`several clusters are running (${clusters.join(', ')})`, 'choose one with --cluster NAME');
}

/** Runs the command in the pod's namespace; resolves to its exit code. */
export async function runExec(podRef: string, command: readonly string[], flags: ExecFlags, io: Io): Promise<number> {
  await ensureLinuxEnvironment();
  if (command.length === 0) throw usage('no command given', 'kwire exec POD -- CMD [ARGS…]');
  const cluster = runningCluster(flags);
  const pod = parsePodRef(podRef, flags.namespace);
  const netns = clusterNames(cluster).pod(pod.namespace, pod.name);
  if (!existsSync(`/run/netns/${netns}`)) throw usage(`pod ${pod.namespace}/${pod.name} is not running in cluster ${cluster}`, 'list the pods with `kwire get pods -A -f …`');
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', netns, ...command], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal) io.err(`${command[0] ?? ''} ended by ${signal}`);
      resolve(code ?? 1);
    });
  });
}

/** Registers `exec` on the program. */
export function registerExec(program: Command, io: Io, done: (p: Promise<number>) => void): void {
  program
    .command('exec')
    .description("run a command in a pod's network namespace (Linux plane; cluster DNS in /etc/resolv.conf)")
    .argument('<pod>', 'pod/NS/NAME, NS/NAME or NAME')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('-n, --namespace <ns>', 'namespace of a pod given by NAME', 'default')
    .option('--cluster <name>', 'the running cluster (default: the only one)')
    .action((pod: string, command: string[], flags: ExecFlags) => {
      done(runExec(pod, command[0] === '--' ? command.slice(1) : command, flags, io));
    });
}
