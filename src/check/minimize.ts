/**
 * Minimizing a disagreement: the cluster's objects are dropped — every object of a kind at once,
 * then one at a time — for as long as that one connection, asked again of the smaller cluster,
 * still disagrees the same way. The Cluster object stays (it names the plane's namespaces).
 */
import type { Connection, Probed, Trace } from '../model/dataplane.js';
import { createTracer } from '../sim/trace/index.js';
import type { GeneratedCluster, Manifest } from './generate.js';
import { connectionOf, type ProbeSpec } from './probes.js';
import { loadManifests } from './render.js';
import { judgeProbe, probeAll, shapeOf, type DifferentialLogger, type Session } from './session.js';

/** How many copies of a connection are made at once when it is asked again (random draws differ). */
export const ATTEMPTS = 4;

/** A disagreement seen (again). */
export interface Again {
  readonly connection: Connection;
  readonly seen: Probed;
  readonly why: string;
  readonly outcomes: readonly Trace[];
}

/**
 * One connection asked again of a (smaller) cluster, a few copies at once so that a disagreement
 * that depends on a random draw (the endpoint kube-proxy picks) shows again; undefined when no copy
 * disagrees the same way (same shape) or the connection cannot be asked.
 */
async function askAgain(session: Session, manifests: readonly Manifest[], spec: ProbeSpec, shape: string, timeoutMs: number): Promise<Again | undefined> {
  const loaded = loadManifests(manifests);
  if (!loaded.state) return undefined;
  const connection = connectionOf(loaded.state, spec);
  if (!connection) return undefined;
  const plane = await session.show(loaded.state, manifests);
  const tracer = createTracer(loaded.state);
  for (const seen of await probeAll(plane, Array.from({ length: ATTEMPTS }, () => connection), timeoutMs)) {
    if (seen.skipped !== undefined) return undefined;
    const verdict = judgeProbe(tracer, connection, seen);
    if (verdict.why !== undefined && shapeOf(spec.kind, seen, verdict.outcomes) === shape) return { connection, seen, why: verdict.why, outcomes: verdict.outcomes };
  }
  return undefined;
}

/** Options of `minimize`. */
export interface MinimizeOptions {
  readonly timeoutMs: number;
  readonly logger: DifferentialLogger;
  readonly signal?: AbortSignal;
}

/**
 * The fewest objects of `cluster` under which the probe still disagrees with `shape`, and that
 * disagreement; `again` is undefined when it did not show again on the whole cluster.
 */
export async function minimize(session: Session, cluster: GeneratedCluster, spec: ProbeSpec, shape: string, opts: MinimizeOptions): Promise<{ manifests: readonly Manifest[]; again?: Again }> {
  let manifests = cluster.manifests;
  let again = await askAgain(session, manifests, spec, shape, opts.timeoutMs);
  if (!again) return { manifests };
  const attempt = async (fewer: readonly Manifest[]): Promise<boolean> => {
    const still = await askAgain(session, fewer, spec, shape, opts.timeoutMs);
    if (!still) return false;
    manifests = fewer;
    again = still;
    return true;
  };
  for (const kind of [...new Set(manifests.slice(1).map((m) => m.kind))]) {
    if (opts.signal?.aborted) return { manifests, again };
    await attempt(manifests.filter((m, k) => k === 0 || m.kind !== kind));
  }
  for (let pass = 0; pass < 3; pass++) {
    let dropped = false;
    for (let i = manifests.length - 1; i >= 1; i--) {
      if (opts.signal?.aborted) return { manifests, again };
      if (await attempt(manifests.filter((_, k) => k !== i))) dropped = true;
    }
    opts.logger.info(`  minimize pass ${String(pass + 1)}: ${String(manifests.length)} of ${String(cluster.manifests.length)} objects left`);
    if (!dropped) break;
  }
  return { manifests, again };
}
