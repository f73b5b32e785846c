/**
 * `kwire reach`: who can reach whom, on which ports.
 */
import { Option, type Command } from 'commander';
import { InputError } from '../../api/problems.js';
import type { Protocol } from '../../api/types.js';
import { computeReach, reachFormats, type ReachFormat, type ReachOptions } from '../../sim/reach/index.js';
import { inputOptions, loadState, type InputFlags, type Io } from '../context.js';

interface ReachFlags extends InputFlags {
  readonly output: ReachFormat;
  readonly granularity: 'workload' | 'pod';
  readonly from?: string;
  readonly to?: string;
  readonly port?: string;
  readonly addons?: boolean;
  readonly explain?: boolean;
}

/** Parses `--port 80`, `--port tcp/80`, `--port UDP/53`. */
export function parsePortFilter(text: string): ReachOptions['port'] {
  const m = /^(?:(tcp|udp|sctp)\/)?(\d+)$/i.exec(text.trim());
  const n = Number(m?.[2]);
  if (!m || n < 1 || n > 65535) {
    throw new InputError([{ code: 'KW-USAGE', severity: 'error', message: `--port: expected PORT or PROTOCOL/PORT (got "${text}")`, hint: 'e.g. --port 80 or --port udp/53' }]);
  }
  return m[1] ? { protocol: m[1].toUpperCase() as Protocol, port: n } : n;
}

/** Runs `reach`. */
export async function runReach(flags: ReachFlags, io: Io): Promise<number> {
  const { state } = await loadState(flags, io);
  const reach = computeReach(state, state.policies, {
    granularity: flags.granularity,
    from: flags.from,
    to: flags.to,
    port: flags.port === undefined ? undefined : parsePortFilter(flags.port),
    namespace: flags.allNamespaces ? undefined : flags.namespace,
    addons: flags.addons,
    explain: flags.explain,
  });
  if (!state.policies.enforced) io.err(`note: the CNI (${state.policies.cniName}) ignores NetworkPolicies: every pod reaches every pod`);
  io.out(reachFormats[flags.output](reach).trimEnd());
  return 0;
}

/** Registers `reach` on the program. */
export function registerReach(program: Command, io: Io, done: (p: Promise<number>) => void): void {
  const cmd = program
    .command('reach')
    .description('who can reach whom on which ports, after NetworkPolicies')
    .addOption(new Option('-o, --output <format>', 'output format').choices(Object.keys(reachFormats)).default('txt'))
    .addOption(new Option('--granularity <level>', 'peers are workloads or pods').choices(['workload', 'pod']).default('workload'))
    .option('--from <peer>', 'only from this peer (id, ns/name, ns/*, or an IP/CIDR)')
    .option('--to <peer>', 'only to this peer')
    .option('--port <port>', 'only this port: 80 or udp/53')
    .option('--addons', "include kwire's own pods (ingress controllers, DNS)")
    .option('--explain', 'say which policies and rules allowed or denied each pair');
  inputOptions(cmd).action((flags: ReachFlags) => {
    done(runReach(flags, io));
  });
}
