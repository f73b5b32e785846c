/**
 * What every verb shares: the common flags, reading the inputs into a store, reconciling them
 * into a NetworkState, and turning bad input into an InputError (exit 2).
 */
import { Option, type Command } from 'commander';
import { formatProblem, InputError, type Problem } from '../api/problems.js';
import { INGRESS_FLAVOURS, PROFILE_NAMES } from '../api/cluster.js';
import { buildNetworkState } from '../controllers/index.js';
import type { IngressFlavour, NetworkState, ProfileName } from '../model/types.js';
import { loadStore, type Store } from '../store/index.js';

/** Where a verb writes: results to `out`, diagnostics to `err`. */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly readStdin: () => Promise<string>;
  readonly cwd: string;
  /** Colour allowed (a TTY and no NO_COLOR). */
  readonly color: boolean;
}

/** Flags shared by the verbs that read manifests. */
export interface InputFlags {
  readonly filename: string[];
  readonly recursive?: boolean;
  readonly namespace?: string;
  readonly allNamespaces?: boolean;
  readonly profile?: ProfileName;
  readonly ingressFlavour?: IngressFlavour;
  readonly now?: string;
  readonly seed?: string;
  /** Nodes stopped at runtime (`kwire node stop`), set by `up` itself, never a flag. */
  readonly stoppedNodes?: readonly string[];
}

export { EnvironmentError } from '../api/problems.js';

/** Adds `-f`, `-R`, `-n`, `-A`, `--profile`, `--ingress-flavour` and `--now` to a command. */
export function inputOptions(cmd: Command): Command {
  return cmd
    .option('-f, --filename <path>', 'manifest file, directory or - for stdin (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('-R, --recursive', 'read directories given with -f recursively')
    .option('-n, --namespace <ns>', 'only show objects of this namespace (objects that name none are in "default")')
    .option('-A, --all-namespaces', 'show objects of every namespace')
    .addOption(new Option('--profile <name>', 'cluster profile').choices(PROFILE_NAMES))
    .addOption(new Option('--ingress-flavour <flavour>', "the default ingress controller's flavour for this command").choices(INGRESS_FLAVOURS))
    .option('--now <time>', 'fixed current time (ISO 8601) for reproducible certificates')
    .option('--seed <text>', 'derive certificate keys and serials from this seed: byte-identical output across runs');
}

/** Reads the inputs; prints warnings; throws InputError when any problem is an error. */
export async function loadInputs(flags: InputFlags, io: Io): Promise<Store> {
  const store = await readInputs(flags, io);
  reportProblems(store.problems, io);
  return store;
}

/** Reads the inputs without judging them. */
async function readInputs(flags: InputFlags, io: Io): Promise<Store> {
  if (flags.filename.length === 0) {
    throw new InputError([{ code: 'KW-USAGE', severity: 'error', message: 'no input: give manifests with -f FILE|DIR|-', hint: 'e.g. kwire get pods -f examples/course' }]);
  }
  if (flags.now !== undefined && Number.isNaN(Date.parse(flags.now))) {
    throw new InputError([{ code: 'KW-USAGE', severity: 'error', message: `--now: not an ISO 8601 time (got "${flags.now}")`, hint: 'e.g. --now 2026-01-01T00:00:00Z' }]);
  }
  return loadStore({ files: flags.filename, recursive: flags.recursive, readStdin: io.readStdin, cwd: io.cwd });
}

/** Prints warnings to stderr and throws InputError when any problem is an error. */
export function reportProblems(problems: readonly Problem[], io: Io): void {
  const errors = problems.filter((p) => p.severity === 'error');
  for (const p of problems) if (p.severity === 'warning') io.err(`warning: ${formatProblem(p)}`);
  if (errors.length > 0) throw new InputError(errors);
}

/**
 * Reconcile problems the apiserver would have refused at apply time (a taken ClusterIP or NodePort,
 * an address outside its range, an invalid Cluster): bad input, exit 2. Other reconcile problems are
 * lint findings.
 */
export function isRefusal(p: Problem): boolean {
  return p.severity === 'error' && /^KW-(SVC|CLU)/.test(p.code);
}

/**
 * Loads and reconciles: the NetworkState of the inputs. Every problem of the run is reported at
 * once: load errors and the reconcile refusals of the objects that did load.
 */
export async function loadState(flags: InputFlags, io: Io): Promise<{ store: Store; state: NetworkState }> {
  const store = await readInputs(flags, io);
  const state = buildNetworkState(
    { objects: store.objects.map((o) => o.object), sourceOf: store.sourceOf, locate: store.locate },
    { profile: flags.profile, ingressFlavour: flags.ingressFlavour, now: flags.now, seed: flags.seed, ...(flags.stoppedNodes ? { stoppedNodes: flags.stoppedNodes } : {}) },
  );
  reportProblems([...store.problems, ...state.problems.filter(isRefusal)], io);
  return { store, state };
}

/** Parses a duration flag in milliseconds (a non-negative number), or fails as bad usage. */
export function millisecondsOption(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0) {
      throw new InputError([{ code: 'KW-USAGE', severity: 'error', message: `${flag}: "${v}" is not a number of milliseconds`, hint: `e.g. ${flag} 500` }]);
    }
    return n;
  };
}
