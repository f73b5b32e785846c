/**
 * `kwire diff OLD NEW`: what a change does to reachability (exit codes as kubectl diff).
 */
import { Option, type Command } from 'commander';
import { diffFormats, diffReach } from '../../analysis/diff/index.js';
import { computeReach } from '../../sim/reach/index.js';
import { loadState, type InputFlags, type Io } from '../context.js';
import { PROFILE_NAMES } from '../../api/cluster.js';
import type { ProfileName } from '../../model/types.js';

interface DiffFlags {
  readonly output: 'text' | 'json';
  readonly granularity: 'workload' | 'pod';
  readonly recursive?: boolean;
  readonly profile?: ProfileName;
}

/** Runs `diff`: 0 same, 1 different. */
export async function runDiff(oldPath: string, newPath: string, flags: DiffFlags, io: Io): Promise<number> {
  const reachOf = async (path: string) => {
    const input: InputFlags = { filename: [path], recursive: flags.recursive, profile: flags.profile };
    const { state } = await loadState(input, io);
    return computeReach(state, state.policies, { granularity: flags.granularity, explain: true });
  };
  const before = await reachOf(oldPath);
  const after = await reachOf(newPath);
  const diff = diffReach(before, after);
  io.out(diffFormats[flags.output === 'json' ? 'json' : 'txt'](diff).trimEnd());
  return diff.same ? 0 : 1;
}

/** Registers `diff` on the program. */
export function registerDiff(program: Command, io: Io, done: (p: Promise<number>) => void): void {
  program
    .command('diff')
    .description('what a change does to reachability: pairs and ports gained and lost, and the policies responsible (exit 0 same, 1 different)')
    .argument('<old>', 'manifests before (file or directory)')
    .argument('<new>', 'manifests after (file or directory)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .addOption(new Option('--granularity <level>', 'peers are workloads or pods').choices(['workload', 'pod']).default('workload'))
    .option('-R, --recursive', 'read directories recursively')
    .addOption(new Option('--profile <name>', 'cluster profile').choices(PROFILE_NAMES))
    .action((oldPath: string, newPath: string, flags: DiffFlags) => {
      done(runDiff(oldPath, newPath, flags, io));
    });
}
