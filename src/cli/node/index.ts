/**
 * `kwire node stop|start NODE`: a node of the running cluster goes away or comes back. The running
 * `up` marks it not ready and applies the new state: its links go down (up), MetalLB elects another
 * layer-2 holder (which sends gratuitous ARP) or its BGP speaker withdraws with a Cease, and its
 * pods stop being endpoints.
 */
import type { Command } from 'commander';
import { InputError } from '../../api/problems.js';
import { EnvironmentError, type Io } from '../context.js';
import { sendControl } from '../up/control.js';
import { isAlive, readUpStates, runtimeRoots, type UpState } from '../up/runtime.js';

/** Flags of `node`. */
export interface NodeFlags {
  readonly cluster?: string;
}

function target(flags: NodeFlags, roots: readonly string[]): UpState {
  const running = readUpStates(roots).filter((s) => isAlive(s.pid));
  const chosen = flags.cluster !== undefined ? running.find((s) => s.cluster === flags.cluster) : running.length === 1 ? running[0] : undefined;
  if (chosen) return chosen;
  if (running.length === 0 || flags.cluster !== undefined) throw new EnvironmentError(flags.cluster ? `cluster "${flags.cluster}" is not running` : 'no cluster is running: start one with kwire up -f …');
  throw new InputError([{ code: 'KW-USAGE', severity: 'error', message: `${String(running.length)} clusters run (${running.map((s) => s.cluster).join(', ')}): name one`, hint: 'e.g. kwire node stop worker-1 --cluster kwire' }]);
}

/** Stops or starts a node of the running cluster. */
export async function runNode(action: 'stop' | 'start', node: string, flags: NodeFlags, io: Io, roots: readonly string[]): Promise<number> {
  const up = target(flags, roots);
  if (!up.control) throw new EnvironmentError(`cluster "${up.cluster}" (pid ${String(up.pid)}) runs a kwire without a control socket; restart it`);
  const reply = await sendControl(up.control, { op: 'node', action, node }).catch((err: unknown) => {
    throw new EnvironmentError(`cannot reach cluster "${up.cluster}" at ${up.control ?? ''}: ${err instanceof Error ? err.message : String(err)}`);
  });
  if (!reply.ok) throw new InputError([{ code: 'KW-USAGE', severity: 'error', message: reply.error }]);
  io.out(reply.message);
  return 0;
}

/** Registers `node` on the program. */
export function registerNode(program: Command, io: Io, done: (p: Promise<number>) => void, roots: () => readonly string[] = () => runtimeRoots(process.getuid?.() ?? 0, process.env.KWIRE_RUNTIME_DIR)): void {
  const node = program.command('node').description('stop or start a node of the running cluster (its links go down; MetalLB fails over)');
  for (const action of ['stop', 'start'] as const) {
    node
      .command(action)
      .description(action === 'stop' ? 'take a node down: links down, not ready, MetalLB moves or withdraws its addresses' : 'bring a stopped node back')
      .argument('<node>', 'the node name (kwire get nodes)')
      .option('--cluster <name>', 'the running cluster (default: the only one)')
      .action((name: string, flags: NodeFlags) => {
        done(runNode(action, name, flags, io, roots()));
      });
  }
}
