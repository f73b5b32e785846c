/**
 * Reproducer folders: `manifests.yaml` (kubectl-applyable), `probe.txt` (the connection as a
 * `kwire trace` command) and `planes.json` (what the simulator allows and what the kernel saw, hop
 * by hop); for an `apply` the kernel plane failed, `previous.yaml` too. `replayReproducer` asks a
 * folder again on the current planes, to tell whether a fix fixed it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Connection, Probed } from '../model/dataplane.js';
import type { NetworkState } from '../model/types.js';
import { createTracer } from '../sim/trace/index.js';
import type { GeneratedCluster, Manifest } from './generate.js';
import { ATTEMPTS, type Again } from './minimize.js';
import type { ProbeKind } from './probes.js';
import { GeneratorError, loadText, manifestsYaml, traceCommand } from './render.js';
import { judgeProbe, messageOf, probeAll, type ApplyFailure, type PlaneStarter } from './session.js';

/** Folder names under one root, each used once in a run: `<seed>-<index>[suffix][-k]`. */
export class Folders {
  private readonly used = new Set<string>();

  constructor(private readonly root: string) {}

  /** A fresh folder for a cluster. */
  next(cluster: GeneratedCluster, suffix = ''): string {
    for (let k = 1; ; k++) {
      const folder = join(this.root, `${String(cluster.seed)}-${String(cluster.index)}${suffix}${k === 1 ? '' : `-${String(k)}`}`);
      if (this.used.has(folder)) continue;
      this.used.add(folder);
      return folder;
    }
  }
}

/** What a probe reproducer holds. */
export interface ProbeReproducer {
  readonly cluster: GeneratedCluster;
  readonly kind: ProbeKind;
  readonly shape: string;
  /** The objects written (minimized, or the whole cluster). */
  readonly manifests: readonly Manifest[];
  /** The disagreement on those objects. */
  readonly again: Again;
  /** Whether it showed again when asked alone. */
  readonly reproduced: boolean;
  /** Where it was first seen (the whole cluster, in the batch). */
  readonly firstSeen: { readonly connection: Connection; readonly why: string; readonly seen: Probed };
}

/** Writes the reproducer of a probe disagreement. */
export function writeProbeReproducer(folder: string, r: ProbeReproducer): void {
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'manifests.yaml'), manifestsYaml(r.manifests));
  writeFileSync(join(folder, 'probe.txt'), `${traceCommand(r.again.connection)}\n`);
  const planes = {
    seed: r.cluster.seed,
    index: r.cluster.index,
    cluster: r.cluster.summary,
    kind: r.kind,
    shape: r.shape,
    command: traceCommand(r.again.connection),
    connection: r.again.connection,
    disagreement: r.again.why,
    reproduced: r.reproduced,
    objects: { generated: r.cluster.manifests.length, written: r.manifests.length },
    simulator: { allows: r.again.outcomes },
    kernel: r.again.seen,
    firstSeen: { command: traceCommand(r.firstSeen.connection), disagreement: r.firstSeen.why, kernel: r.firstSeen.seen },
  };
  writeFileSync(join(folder, 'planes.json'), `${JSON.stringify(planes, null, 2)}\n`);
}

/** Writes the reproducer of a failed `apply`: the manifests before and after. */
export function writeApplyReproducer(folder: string, cluster: GeneratedCluster, f: ApplyFailure): void {
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'previous.yaml'), manifestsYaml(f.previous));
  writeFileSync(join(folder, 'manifests.yaml'), manifestsYaml(f.next));
  writeFileSync(join(folder, 'probe.txt'), '# no probe: the Linux plane built previous.yaml (linuxUp) and failed to apply manifests.yaml (plane.apply)\n');
  writeFileSync(join(folder, 'planes.json'), `${JSON.stringify({ seed: cluster.seed, index: cluster.index, kind: 'apply', kernel: { error: f.error } }, null, 2)}\n`);
}

/** What a reproducer does on the current planes. */
export interface Replayed {
  readonly folder: string;
  /** Why it still disagrees (the first of the tries that did), or undefined when every try agreed. */
  readonly disagreement?: string;
  readonly tries: number;
}

function loadFolderFile(folder: string, file: string): NetworkState {
  const loaded = loadText(readFileSync(join(folder, file), 'utf8'), file);
  if (!loaded.state) throw new GeneratorError(`${join(folder, file)} does not load: ${loaded.errors.map((e) => e.message).join('; ')}`);
  return loaded.state;
}

/**
 * Asks a reproducer folder's connection again (`manifests.yaml`, the connection in `planes.json`)
 * on a fresh kernel plane, `tries` copies at once; for an `apply` reproducer, builds `previous.yaml`
 * and applies `manifests.yaml`. Tells whether it still disagrees.
 */
export async function replayReproducer(folder: string, start: PlaneStarter, timeoutMs = 1500, tries = ATTEMPTS): Promise<Replayed> {
  const planes = JSON.parse(readFileSync(join(folder, 'planes.json'), 'utf8')) as { kind?: string; connection?: Connection };
  if (planes.kind === 'apply' && existsSync(join(folder, 'previous.yaml'))) {
    const plane = await start(loadFolderFile(folder, 'previous.yaml'));
    try {
      await plane.apply(loadFolderFile(folder, 'manifests.yaml'));
      return { folder, tries: 1 };
    } catch (e) {
      return { folder, tries: 1, disagreement: `apply failed: ${messageOf(e).split('\n')[0] ?? ''}` };
    } finally {
      await plane.down();
    }
  }
  const connection = planes.connection;
  if (!connection) throw new GeneratorError(`${join(folder, 'planes.json')} names no connection`);
  const state = loadFolderFile(folder, 'manifests.yaml');
  const plane = await start(state);
  try {
    await plane.settle();
    const tracer = createTracer(state);
    for (const seen of await probeAll(plane, Array.from({ length: tries }, () => connection), timeoutMs)) {
      const v = judgeProbe(tracer, connection, seen);
      if (v.why !== undefined) return { folder, tries, disagreement: v.why };
    }
    return { folder, tries };
  } finally {
    await plane.down();
  }
}
