/**
 * `npm run differential -- --seed S --clusters N [--out DIR] [--timeout MS]`: the differential
 * suite against the Linux plane, as root (`--keep-going` goes past the first disagreement, one
 * reproducer per shape; `--replay DIR` asks reproducer folders again after a fix). Progress on
 * stderr; the last line on stdout is `differential: P probes, D disagreements, K skipped`. Exit 0
 * only without disagreements; 1 with some, 2 for bad flags, 3 without root, a build or the lock,
 * 4 for a bug (a generated cluster that does not load).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { EnvironmentError } from '../api/problems.js';
import { linuxDown } from '../linux/index.js';
import { runDifferential, type DifferentialResult } from './differential.js';
import { GeneratorError } from './render.js';
import { replayReproducer } from './reproducer.js';
import type { PlaneStarter } from './session.js';
import { DEFAULT_RUNTIME_DIR, linuxStarter, lockCluster } from './linux.js';
import { PROBE_KINDS } from './probes.js';

/** The run's configuration, read once from the flags. */
export interface MainConfig {
  readonly seed: number;
  readonly clusters: number;
  readonly first: number;
  readonly out: string;
  readonly timeout: number;
  readonly probes: number;
  readonly clusterName: string;
  readonly keepGoing: boolean;
  readonly minimize: boolean;
  /** Reproducer folders to ask again instead of generating clusters. */
  readonly replay: readonly string[];
}

/** Where the command writes. */
export interface MainIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

function integer(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number (got "${value}")`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be between ${String(min)} and ${String(max)} (got ${value})`);
    return n;
  };
}

/** Parses the flags; throws CommanderError (exit 2) when they are wrong. */
export function parseFlags(argv: readonly string[], io: MainIo): MainConfig {
  const program = new Command('differential')
    .description('random clusters and probes asked of the simulator and the Linux plane (root)')
    .option('--seed <n>', 'seed of the run', integer('--seed', 0, 4294967295), 1)
    .option('--clusters <n>', 'how many clusters', integer('--clusters', 1, 100000), 10)
    .option('--first <index>', 'index of the first cluster', integer('--first', 0, 100000000), 0)
    .option('--out <dir>', 'where reproducer folders go', 'differential-out')
    .option('--timeout <ms>', 'how long a probe waits for an answer', integer('--timeout', 100, 60000), 1500)
    .option('--probes <n>', 'probes per cluster', integer('--probes', 1, 1000), 40)
    .option('--cluster-name <name>', "the Cluster object's name (names the plane's namespaces)", 'diff')
    .option('--keep-going', 'go on after a disagreement (each cluster with one gets a reproducer)', false)
    .option('--no-minimize', 'write the whole cluster instead of minimizing it')
    .option('--replay <dir>', 'ask a reproducer folder again on the current planes (repeatable)', (v: string, p: string[]) => [...p, v], [] as string[])
    .exitOverride()
    .configureOutput({ writeOut: (t) => { io.out(t.trimEnd()); }, writeErr: (t) => { io.err(t.trimEnd()); } })
    .allowExcessArguments(false);
  program.parse([...argv], { from: 'user' });
  const o = program.opts<{ seed: number; clusters: number; first: number; out: string; timeout: number; probes: number; clusterName: string; keepGoing: boolean; minimize: boolean; replay: string[] }>();
  if (!/^[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?$/.test(o.clusterName)) throw new CommanderError(2, 'differential.clusterName', `error: --cluster-name "${o.clusterName}" is not a DNS label of at most 16 characters (e.g. diff)`);
  return { ...o };
}

/** The summary line and the per-kind counts. */
function report(result: DifferentialResult, io: MainIo, ms: number): void {
  const kinds = PROBE_KINDS.map((k) => `${k} ${String(result.byKind[k])}`).join(', ');
  io.err(`differential: ${String(result.clusters)} clusters in ${(ms / 1000).toFixed(1)} s; answered by kind: ${kinds}`);
  for (const [reason, n] of result.skipReasons) io.err(`differential: skipped ${String(n)}× — ${reason}`);
  const shapes = new Map<string, { count: number; folder?: string; example: string }>();
  for (const d of result.disagreements) {
    const s = shapes.get(d.shape) ?? { count: 0, example: `${String(d.seed)}-${String(d.index)}: ${d.why}` };
    shapes.set(d.shape, { ...s, count: s.count + 1, ...(s.folder ?? d.folder ? { folder: s.folder ?? d.folder } : {}) });
  }
  for (const [shape, s] of shapes) io.err(`differential: DISAGREEMENT ×${String(s.count)} ${shape}\n  e.g. ${s.example}${s.folder ? `\n  reproducer: ${s.folder}` : ''}`);
  io.out(`differential: ${String(result.probes)} probes, ${String(result.disagreements.length)} disagreements, ${String(result.skipped)} skipped`);
}

/** `--replay`: each reproducer folder asked again; exit 1 while one still disagrees. */
async function replay(config: MainConfig, io: MainIo, start: PlaneStarter): Promise<number> {
  let still = 0;
  for (const folder of config.replay) {
    const r = await replayReproducer(folder, start, config.timeout);
    if (r.disagreement !== undefined) still++;
    io.out(`${folder}: ${r.disagreement === undefined ? `agrees (${String(r.tries)} tries)` : `still disagrees: ${r.disagreement}`}`);
  }
  io.out(`differential: ${String(config.replay.length)} reproducers replayed, ${String(still)} still disagree`);
  return still === 0 ? 0 : 1;
}

/** Runs the command; resolves to the exit code. */
export async function main(argv: readonly string[], io: MainIo): Promise<number> {
  let config: MainConfig;
  try {
    config = parseFlags(argv, io);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      if (e.code === 'differential.clusterName') io.err(e.message);
      return 2;
    }
    throw e;
  }
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    io.err('differential: needs root on Linux (the Linux plane builds network namespaces and nftables): run it with sudo');
    return 3;
  }
  const agentDir = fileURLToPath(new URL('../linux/', import.meta.url));
  const proxyEntry = fileURLToPath(new URL('../cli/up/proxy-worker.js', import.meta.url));
  for (const f of [`${agentDir}probe-agent.js`, `${agentDir}echo-agent.js`, proxyEntry]) {
    if (!existsSync(f)) {
      io.err(`differential: ${f} is missing: run npm run build first`);
      return 3;
    }
  }
  const abort = new AbortController();
  const stop = (): void => {
    io.err('differential: stopping after this cluster (signal)…');
    abort.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const started = performance.now();
  const logger = { info: io.err, warn: io.err };
  try {
    const lock = lockCluster(config.clusterName, DEFAULT_RUNTIME_DIR);
    try {
      if (config.replay.length > 0) return await replay(config, io, linuxStarter({ agentDir, proxyEntry, timeoutMs: config.timeout, logger }));
      const result = await runDifferential({
        seed: config.seed,
        clusters: config.clusters,
        first: config.first,
        out: config.out,
        timeoutMs: config.timeout,
        maxProbes: config.probes,
        clusterName: config.clusterName,
        keepGoing: config.keepGoing,
        noMinimize: !config.minimize,
        start: linuxStarter({ agentDir, proxyEntry, timeoutMs: config.timeout, logger }),
        logger,
        signal: abort.signal,
      });
      report(result, io, performance.now() - started);
      if (result.disagreements.length > 0) return 1;
      return result.aborted ? 130 : 0;
    } finally {
      await linuxDown(config.clusterName, { runtimeDir: DEFAULT_RUNTIME_DIR }).catch(() => undefined);
      lock.release();
    }
  } catch (e) {
    if (e instanceof EnvironmentError) {
      io.err(`differential: ${e.message}`);
      return 3;
    }
    if (e instanceof GeneratorError) {
      io.err(`differential: bug in the generator: ${e.message}`);
      return 4;
    }
    io.err(`differential: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 4;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const code = await main(process.argv.slice(2), { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) });
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2000).unref();
}
