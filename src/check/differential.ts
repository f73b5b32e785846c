/**
 * The differential suite (DESIGN.md "Agreement between planes"): random clusters, each built into
 * one running kernel plane by `apply`, and random probes of every kind asked of the simulator
 * (every outcome its random draws allow) and of the kernel. The first disagreement is minimized —
 * objects dropped one at a time while that one connection still disagrees — and written as a
 * reproducer folder: `manifests.yaml`, `probe.txt` (a `kwire trace` command) and `planes.json`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { disagreement } from '../model/agreement.js';
import type { Connection, Probed, Trace } from '../model/dataplane.js';
import type { NetworkState } from '../model/types.js';
import { createTracer, type Tracer } from '../sim/trace/index.js';
import { generateCluster, type GeneratedCluster, type Manifest } from './generate.js';
import { connectionOf, PROBE_KINDS, probesOf, type Probe, type ProbeKind, type ProbeSpec } from './probes.js';
import { mixSeed } from './random.js';
import { loadManifests, manifestsYaml, traceCommand } from './render.js';

/** Where the suite reports progress (stderr at the CLI edge). */
export interface DifferentialLogger {
  readonly info: (message: string) => void;
  readonly warn: (message: string) => void;
}

/** The kernel plane as the suite drives it: built once, moved from cluster to cluster by `apply`. */
export interface KernelPlane {
  readonly apply: (state: NetworkState) => Promise<unknown>;
  /** Resolves when the plane has caught up with the last `apply` (BGP routes, certificates). */
  readonly settle: () => Promise<void>;
  readonly probe: (connections: readonly Connection[], timeoutMs: number) => Promise<Probed[]>;
  readonly down: () => Promise<void>;
}

/** Starts the kernel plane on a first state. */
export type PlaneStarter = (state: NetworkState) => Promise<KernelPlane>;

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
  /** Go on after a disagreement (each cluster's first is minimized). @default false */
  readonly keepGoing?: boolean;
  /** Skip minimizing (write the whole cluster). @default false */
  readonly noMinimize?: boolean;
  readonly start: PlaneStarter;
  readonly logger: DifferentialLogger;
  readonly signal?: AbortSignal;
}

/** One disagreement found. */
export interface Disagreement {
  readonly seed: number;
  readonly index: number;
  readonly kind: ProbeKind;
  readonly connection: Connection;
  readonly why: string;
  /** The reproducer folder, when this one was minimized and written. */
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

/** A generated cluster that does not load: a bug of the generator, not of a plane. */
export class GeneratorError extends Error {
  readonly code = 'EGENERATOR';
}

interface Verdict {
  readonly why?: string;
  readonly outcomes: readonly Trace[];
}

/** The simulator's outcomes and whether `seen` is one of them; a simulator that throws disagrees. */
function judgeProbe(tracer: Tracer, connection: Connection, seen: Probed): Verdict {
  let outcomes: Trace[];
  try {
    outcomes = tracer.traceAll(connection);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    return { why: `the simulator threw${typeof code === 'string' ? ` ${code}` : ''}: ${e instanceof Error ? e.message : String(e)}`, outcomes: [] };
  }
  return { why: disagreement(outcomes, seen), outcomes };
}

function stateOf(cluster: { readonly seed: number; readonly index: number }, manifests: readonly Manifest[]): NetworkState {
  const loaded = loadManifests(manifests);
  if (loaded.errors) throw new GeneratorError(`cluster ${String(cluster.seed)}-${String(cluster.index)} does not load: ${loaded.errors.map((e) => `${e.code}: ${e.message}`).join('; ')}`);
  return loaded.state;
}

/** One connection asked again of a (smaller) cluster; undefined when it no longer disagrees or cannot be asked. */
async function askAgain(plane: KernelPlane, manifests: readonly Manifest[], spec: ProbeSpec, timeoutMs: number): Promise<{ state: NetworkState; connection: Connection; seen: Probed; verdict: Verdict & { why: string } } | undefined> {
  const loaded = loadManifests(manifests);
  if (!loaded.state) return undefined;
  const connection = connectionOf(loaded.state, spec);
  if (!connection) return undefined;
  await plane.apply(loaded.state);
  await plane.settle();
  const [seen] = await plane.probe([connection], timeoutMs);
  if (!seen || seen.skipped !== undefined) return undefined;
  const verdict = judgeProbe(createTracer(loaded.state), connection, seen);
  return verdict.why === undefined ? undefined : { state: loaded.state, connection, seen, verdict: { ...verdict, why: verdict.why } };
}

/** Drops objects one at a time (the Cluster object stays) while the connection still disagrees. */
async function minimize(plane: KernelPlane, cluster: GeneratedCluster, spec: ProbeSpec, timeoutMs: number, logger: DifferentialLogger, signal?: AbortSignal): Promise<{ manifests: readonly Manifest[]; found?: NonNullable<Awaited<ReturnType<typeof askAgain>>> }> {
  let manifests = cluster.manifests;
  let found = await askAgain(plane, manifests, spec, timeoutMs);
  if (!found) return { manifests };
  for (let pass = 0; pass < 3; pass++) {
    let dropped = false;
    for (let i = manifests.length - 1; i >= 1; i--) {
      if (signal?.aborted) return { manifests, found };
      const fewer = manifests.filter((_, k) => k !== i);
      const again = await askAgain(plane, fewer, spec, timeoutMs);
      if (!again) continue;
      manifests = fewer;
      found = again;
      dropped = true;
    }
    logger.info(`  minimize pass ${String(pass + 1)}: ${String(manifests.length)} objects left`);
    if (!dropped) break;
  }
  return { manifests, found };
}

/** Writes a reproducer folder and returns its path. */
function writeReproducer(folder: string, data: { cluster: GeneratedCluster; kind: ProbeKind; manifests: readonly Manifest[]; connection: Connection; why: string; outcomes: readonly Trace[]; seen: Probed; reproduced: boolean; original: { connection: Connection; why: string; seen: Probed } }): string {
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'manifests.yaml'), manifestsYaml(data.manifests));
  writeFileSync(join(folder, 'probe.txt'), `${traceCommand(data.connection)}\n`);
  const planes = {
    seed: data.cluster.seed,
    index: data.cluster.index,
    cluster: data.cluster.summary,
    kind: data.kind,
    command: traceCommand(data.connection),
    connection: data.connection,
    disagreement: data.why,
    reproduced: data.reproduced,
    objects: { original: data.cluster.manifests.length, minimized: data.manifests.length },
    simulator: { allows: data.outcomes },
    kernel: data.seen,
    ...(data.reproduced ? { original: data.original } : {}),
  };
  writeFileSync(join(folder, 'planes.json'), `${JSON.stringify(planes, null, 2)}\n`);
  return folder;
}

/** Runs the suite: generates, applies, probes, compares; minimizes and writes the first disagreement. */
export async function runDifferential(opts: DifferentialOptions): Promise<DifferentialResult> {
  const timeoutMs = opts.timeoutMs ?? 1500;
  const first = opts.first ?? 0;
  const logger = opts.logger;
  const byKind = Object.fromEntries(PROBE_KINDS.map((k) => [k, 0])) as Record<ProbeKind, number>;
  const skipReasons = new Map<string, number>();
  const disagreements: Disagreement[] = [];
  let probes = 0;
  let skipped = 0;
  let clusters = 0;
  let plane: KernelPlane | undefined;
  try {
    for (let index = first; index < first + opts.clusters; index++) {
      if (opts.signal?.aborted) break;
      const t0 = performance.now();
      const cluster = generateCluster(opts.seed, index, { clusterName: opts.clusterName ?? 'diff' });
      const state = stateOf(cluster, cluster.manifests);
      if (plane) await plane.apply(state);
      else plane = await opts.start(state);
      await plane.settle();
      const asked = probesOf(state, { seed: mixSeed(opts.seed, index), max: opts.maxProbes ?? 40 });
      const seen = await plane.probe(asked.map((p) => p.connection), timeoutMs);
      const tracer = createTracer(state);
      const found: { probe: Probe; why: string; seen: Probed }[] = [];
      let clusterSkipped = 0;
      asked.forEach((probe, i) => {
        const got: Probed = seen[i] ?? { plane: 'linux', skipped: 'the plane gave no result', hops: [] };
        probes++;
        if (got.skipped !== undefined) {
          skipped++;
          clusterSkipped++;
          const n = skipReasons.get(got.skipped) ?? 0;
          if (n === 0) logger.warn(`  skipped by the plane: ${got.skipped} (first: ${probe.spec.kind}, ${traceCommand(probe.connection)})`);
          skipReasons.set(got.skipped, n + 1);
          return;
        }
        byKind[probe.spec.kind]++;
        const v = judgeProbe(tracer, probe.connection, got);
        if (v.why !== undefined) found.push({ probe, why: v.why, seen: got });
      });
      clusters++;
      const ms = Math.round(performance.now() - t0);
      logger.info(`cluster ${String(opts.seed)}-${String(index)} (${cluster.summary}): ${String(asked.length)} probes, ${String(found.length)} disagreements, ${String(clusterSkipped)} skipped, ${String(ms)} ms`);
      for (const f of found) logger.warn(`  DISAGREE ${f.probe.spec.kind}: ${traceCommand(f.probe.connection)}\n    ${f.why}`);
      if (found.length === 0) continue;
      const [head, ...rest] = found;
      if (!head) continue;
      const folder = join(opts.out, `${String(opts.seed)}-${String(index)}`);
      logger.info(`  minimizing ${head.probe.spec.kind}: ${traceCommand(head.probe.connection)}`);
      const min = opts.noMinimize ? { manifests: cluster.manifests, found: undefined } : await minimize(plane, cluster, head.probe.spec, timeoutMs, logger, opts.signal);
      const written = writeReproducer(folder, {
        cluster,
        kind: head.probe.spec.kind,
        manifests: min.found ? min.manifests : cluster.manifests,
        connection: min.found?.connection ?? head.probe.connection,
        why: min.found?.verdict.why ?? head.why,
        outcomes: min.found?.verdict.outcomes ?? judgeProbe(tracer, head.probe.connection, head.seen).outcomes,
        seen: min.found?.seen ?? head.seen,
        reproduced: min.found !== undefined,
        original: { connection: head.probe.connection, why: head.why, seen: head.seen },
      });
      logger.warn(`  reproducer: ${written}${min.found ? ` (${String(min.manifests.length)} of ${String(cluster.manifests.length)} objects)` : ' (did not disagree again when asked alone: the whole cluster is written)'}`);
      disagreements.push({ seed: opts.seed, index, kind: head.probe.spec.kind, connection: head.probe.connection, why: head.why, folder: written });
      for (const f of rest) disagreements.push({ seed: opts.seed, index, kind: f.probe.spec.kind, connection: f.probe.connection, why: f.why });
      if (!opts.keepGoing) break;
    }
  } finally {
    await plane?.down();
  }
  return { clusters, probes, byKind, disagreements, skipped, skipReasons, aborted: opts.signal?.aborted ?? false };
}
