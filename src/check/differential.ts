/**
 * The differential suite (DESIGN.md "Agreement between planes"): random clusters, each built into
 * one running kernel plane by `apply`, and random probes of every kind asked of the simulator
 * (every outcome its random draws allow) and of the kernel. The first disagreement is minimized
 * and written as a reproducer folder; with `keepGoing` the run goes on, and the first disagreement
 * of each shape gets one.
 */
import type { Connection, Probed, Trace } from '../model/dataplane.js';
import { createTracer } from '../sim/trace/index.js';
import { generateCluster, type GeneratedCluster } from './generate.js';
import { ATTEMPTS, minimize } from './minimize.js';
import { PROBE_KINDS, probesOf, type Probe, type ProbeKind } from './probes.js';
import { mixSeed } from './random.js';
import { GeneratorError, loadManifests, traceCommand } from './render.js';
import { Folders, writeApplyReproducer, writeProbeReproducer } from './reproducer.js';
import { applyShape, judgeProbe, probeAll, Session, shapeOf, type DifferentialLogger, type PlaneStarter } from './session.js';

/** Options of a run. */
export interface DifferentialOptions {
  readonly seed: number;
  readonly clusters: number;
  /** Index of the first cluster. @default 0 */
  readonly first?: number;
  /** Root of the reproducer folders (`<out>/<seed>-<index>/`). */
  readonly out: string;
  /** How long a probe waits for an answer. @default 1500 */
  readonly timeoutMs?: number;
  /** Probes per cluster. @default 40 */
  readonly maxProbes?: number;
  /** The Cluster object's name (the plane's namespaces carry it). @default 'diff' */
  readonly clusterName?: string;
  /** Go on after a disagreement; the first disagreement of each shape gets a reproducer. @default false */
  readonly keepGoing?: boolean;
  /** Write the whole cluster instead of minimizing it. @default false */
  readonly noMinimize?: boolean;
  readonly start: PlaneStarter;
  readonly logger: DifferentialLogger;
  readonly signal?: AbortSignal;
}

/** One disagreement found: a probe the planes answer differently, or an `apply` the kernel plane failed. */
export interface Disagreement {
  readonly seed: number;
  readonly index: number;
  readonly kind: ProbeKind | 'apply';
  /** What it looks like, names and addresses aside (see `shapeOf`). */
  readonly shape: string;
  /** The connection (absent for an `apply` failure). */
  readonly connection?: Connection;
  readonly why: string;
  /** The reproducer folder, when one was written for this disagreement. */
  readonly folder?: string;
}

/** What a run found. */
export interface DifferentialResult {
  readonly clusters: number;
  readonly probes: number;
  /** Probes the kernel plane answered, by kind. */
  readonly byKind: Readonly<Record<ProbeKind, number>>;
  readonly disagreements: readonly Disagreement[];
  readonly skipped: number;
  /** Why the plane skipped probes, with how many times. */
  readonly skipReasons: ReadonlyMap<string, number>;
  readonly aborted: boolean;
}

/** A disagreement met in a cluster's batch. */
interface Found {
  readonly probe: Probe;
  readonly why: string;
  readonly seen: Probed;
  readonly outcomes: readonly Trace[];
  readonly shape: string;
}

/** The counters of a run, filled cluster by cluster. */
class Tally {
  probes = 0;
  skipped = 0;
  clusters = 0;
  readonly byKind = Object.fromEntries(PROBE_KINDS.map((k) => [k, 0])) as Record<ProbeKind, number>;
  readonly skipReasons = new Map<string, number>();
  readonly disagreements: Disagreement[] = [];
  readonly shapes = new Set<string>();

  /** Whether a shape is met for the first time in the run. */
  fresh(shape: string): boolean {
    if (this.shapes.has(shape)) return false;
    this.shapes.add(shape);
    return true;
  }
}

/** Probes one cluster on the plane: its disagreements, the plane's skips counted on the way. */
async function probeCluster(session: Session, cluster: GeneratedCluster, tally: Tally, opts: DifferentialOptions): Promise<Found[]> {
  const loaded = loadManifests(cluster.manifests);
  if (!loaded.state) throw new GeneratorError(`cluster ${String(cluster.seed)}-${String(cluster.index)} does not load: ${loaded.errors.map((e) => `${e.code}: ${e.message}`).join('; ')}`);
  const state = loaded.state;
  const plane = await session.show(state, cluster.manifests);
  const asked = probesOf(state, { seed: mixSeed(cluster.seed, cluster.index), max: opts.maxProbes ?? 40 });
  const seen = await probeAll(plane, asked.map((p) => p.connection), opts.timeoutMs ?? 1500);
  const tracer = createTracer(state);
  const found: Found[] = [];
  asked.forEach((probe, i) => {
    const got: Probed = seen[i] ?? { plane: 'linux', skipped: 'the plane gave no result', hops: [] };
    tally.probes++;
    if (got.skipped !== undefined) {
      tally.skipped++;
      const n = tally.skipReasons.get(got.skipped) ?? 0;
      if (n === 0) opts.logger.warn(`  skipped by the plane: ${got.skipped} (first: ${probe.spec.kind}, ${traceCommand(probe.connection)})`);
      tally.skipReasons.set(got.skipped, n + 1);
      return;
    }
    tally.byKind[probe.spec.kind]++;
    const v = judgeProbe(tracer, probe.connection, got);
    if (v.why !== undefined) found.push({ probe, why: v.why, seen: got, outcomes: v.outcomes, shape: shapeOf(probe.spec.kind, got, v.outcomes) });
  });
  return found;
}

/** Minimizes a disagreement and writes its reproducer folder. */
async function reproduce(session: Session, cluster: GeneratedCluster, head: Found, folder: string, opts: DifferentialOptions): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 1500;
  opts.logger.info(`  minimizing (${head.shape}): ${traceCommand(head.probe.connection)}`);
  const min = opts.noMinimize ? { manifests: cluster.manifests, again: undefined } : await minimize(session, cluster, head.probe.spec, head.shape, { timeoutMs, logger: opts.logger, ...(opts.signal ? { signal: opts.signal } : {}) });
  const firstSeen = { connection: head.probe.connection, why: head.why, seen: head.seen };
  writeProbeReproducer(folder, {
    cluster,
    kind: head.probe.spec.kind,
    shape: head.shape,
    manifests: min.again ? min.manifests : cluster.manifests,
    again: min.again ?? { ...firstSeen, outcomes: head.outcomes },
    reproduced: min.again !== undefined,
    firstSeen,
  });
  const how = opts.noMinimize ? ' (not minimized)' : min.again ? ` (${String(min.manifests.length)} of ${String(cluster.manifests.length)} objects)` : ` (no disagreement in ${String(ATTEMPTS)} more tries: the whole cluster is written)`;
  opts.logger.warn(`  reproducer: ${folder}${how}`);
}

/** Runs the suite: generates, applies, probes, compares; minimizes and writes the first disagreement. */
export async function runDifferential(opts: DifferentialOptions): Promise<DifferentialResult> {
  const first = opts.first ?? 0;
  const logger = opts.logger;
  const tally = new Tally();
  const folders = new Folders(opts.out);
  let current: GeneratedCluster | undefined;
  const session = new Session(opts.start, logger, (f) => {
    if (!current) return;
    const shape = applyShape(f.error);
    const folder = tally.fresh(shape) ? folders.next(current, '-apply') : undefined;
    if (folder) writeApplyReproducer(folder, current, f);
    tally.disagreements.push({ seed: current.seed, index: current.index, kind: 'apply', shape, why: f.error, ...(folder ? { folder } : {}) });
    logger.warn(`  DISAGREE apply: ${f.error.split('\n')[0] ?? ''}${folder ? `\n  reproducer: ${folder}` : ''}`);
  });
  try {
    for (let index = first; index < first + opts.clusters && !opts.signal?.aborted; index++) {
      const t0 = performance.now();
      const cluster = generateCluster(opts.seed, index, { clusterName: opts.clusterName ?? 'diff' });
      current = cluster;
      const before = tally.disagreements.length;
      const [probesBefore, skippedBefore] = [tally.probes, tally.skipped];
      const found = await probeCluster(session, cluster, tally, opts);
      tally.clusters++;
      logger.info(`cluster ${String(opts.seed)}-${String(index)} (${cluster.summary}): ${String(tally.probes - probesBefore)} probes, ${String(found.length)} disagreements, ${String(tally.skipped - skippedBefore)} skipped, ${String(Math.round(performance.now() - t0))} ms`);
      for (const f of found) logger.warn(`  DISAGREE ${f.probe.spec.kind}: ${traceCommand(f.probe.connection)}\n    ${f.why}`);
      const fresh = found.filter((f) => tally.fresh(f.shape));
      const written = new Map<Found, string>();
      for (const head of opts.keepGoing ? fresh : found.slice(0, 1)) {
        if (opts.signal?.aborted) break;
        const folder = folders.next(cluster);
        await reproduce(session, cluster, head, folder, opts);
        written.set(head, folder);
      }
      for (const f of found) {
        const folder = written.get(f);
        tally.disagreements.push({ seed: opts.seed, index, kind: f.probe.spec.kind, shape: f.shape, connection: f.probe.connection, why: f.why, ...(folder ? { folder } : {}) });
      }
      if (tally.disagreements.length > before && !opts.keepGoing) break;
    }
  } finally {
    await session.down();
  }
  return { clusters: tally.clusters, probes: tally.probes, byKind: tally.byKind, disagreements: tally.disagreements, skipped: tally.skipped, skipReasons: tally.skipReasons, aborted: opts.signal?.aborted ?? false };
}
