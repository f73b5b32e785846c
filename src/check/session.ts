/**
 * The kernel plane as the differential suite drives it, and how one of its answers is judged: the
 * plane is built once and moved from cluster to cluster by `apply` (rebuilt when an `apply` fails,
 * which is itself reported), a batch that breaks the plane is asked again one connection at a
 * time, and each answer is compared with every outcome the simulator allows.
 */
import { disagreement } from '../model/agreement.js';
import type { Connection, Probed, Trace } from '../model/dataplane.js';
import type { NetworkState } from '../model/types.js';
import type { Tracer } from '../sim/trace/index.js';
import type { Manifest } from './generate.js';
import type { ProbeKind } from './probes.js';

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

/** The message of a thrown value. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The simulator's outcomes for a connection, and why `seen` is not one of them (undefined: it is). */
export interface Verdict {
  readonly why?: string;
  readonly outcomes: readonly Trace[];
}

/** Judges one answer of the kernel plane; a simulator that throws on a connection disagrees. */
export function judgeProbe(tracer: Tracer, connection: Connection, seen: Probed): Verdict {
  let outcomes: Trace[];
  try {
    outcomes = tracer.traceAll(connection);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    return { why: `the simulator threw${typeof code === 'string' ? ` ${code}` : ''}: ${messageOf(e)}`, outcomes: [] };
  }
  return { why: disagreement(outcomes, seen), outcomes };
}

/** What a disagreement looks like, names and addresses aside: one reproducer per shape. */
export function shapeOf(kind: ProbeKind, seen: Probed, outcomes: readonly Trace[]): string {
  const kernel = seen.verdict === 'delivered' ? 'delivered' : seen.verdict === 'answered' ? `answered ${String(seen.status ?? '?')}` : `failed ${seen.failure ?? '?'}`;
  const sim = [...new Set(outcomes.map((t) => (t.response ? `${t.verdict} ${String(t.response.status)}` : t.verdict)))].sort().join('|') || 'threw';
  const samePod = seen.verdict === 'delivered' && outcomes.some((t) => t.verdict === 'delivered' && `${t.destination?.pod?.namespace ?? ''}/${t.destination?.pod?.name ?? ''}` === seen.answeredBy);
  return `${kind}: kernel ${kernel}${samePod ? ' (another client address)' : ''}; simulator ${sim}`;
}

/** The shape of a failed `apply`: its error line, names and numbers aside. */
export function applyShape(error: string): string {
  const line = error.split('\n').find((l) => /answers|Error|error/.test(l)) ?? error.split('\n')[0] ?? '';
  return `apply: ${line.replace(/kw-[\w.-]+/g, 'NETNS').replace(/\d+/g, 'N').trim()}`;
}

/**
 * Asks the plane; when the whole batch fails (a plane bug), asks each connection alone so the one
 * that breaks it is known, and reports that one as a failure carrying the plane's error.
 */
export async function probeAll(plane: KernelPlane, connections: readonly Connection[], timeoutMs: number): Promise<Probed[]> {
  try {
    return await plane.probe(connections, timeoutMs);
  } catch (e) {
    if (connections.length === 1) {
      return [{ plane: 'linux', failure: 'error', hops: [{ component: 'kernel', action: 'the plane failed to make the connection', verdict: 'no-route', refs: [], detail: messageOf(e).slice(-600) }] }];
    }
    const out: Probed[] = [];
    for (const c of connections) out.push(...(await probeAll(plane, [c], timeoutMs)));
    return out;
  }
}

/** An `apply` the kernel plane failed: from which manifests to which. */
export interface ApplyFailure {
  readonly previous: readonly Manifest[];
  readonly next: readonly Manifest[];
  readonly error: string;
}

/**
 * The kernel plane of a run: started on the first state, then moved by `apply`. An `apply` that
 * fails is reported and the plane is built afresh on the state it was asked for, so the run goes on.
 */
export class Session {
  private plane: KernelPlane | undefined;
  private manifests: readonly Manifest[] = [];

  constructor(
    private readonly start: PlaneStarter,
    private readonly logger: DifferentialLogger,
    private readonly onApplyFailure: (f: ApplyFailure) => void,
  ) {}

  /** The plane, showing `state` (built from `manifests`) and settled. */
  async show(state: NetworkState, manifests: readonly Manifest[]): Promise<KernelPlane> {
    let plane = this.plane;
    if (plane) {
      try {
        await plane.apply(state);
      } catch (e) {
        this.onApplyFailure({ previous: this.manifests, next: manifests, error: messageOf(e) });
        this.logger.warn(`  the kernel plane failed to apply the cluster (${messageOf(e).split('\n')[0] ?? ''}); building it afresh`);
        this.plane = undefined;
        await plane.down().catch(() => undefined);
        plane = undefined;
      }
    }
    if (!plane) {
      plane = await this.start(state);
      this.plane = plane;
    }
    this.manifests = manifests;
    await plane.settle();
    return plane;
  }

  /** Removes the plane. */
  async down(): Promise<void> {
    const plane = this.plane;
    this.plane = undefined;
    await plane?.down();
  }
}
