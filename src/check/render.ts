/**
 * What a reproducer is made of, as people use it: manifests as one multi-document YAML file that
 * `kubectl apply -f` and `kwire … -f` read, the connection as `kwire trace` arguments, and the
 * state built from the manifests exactly as the CLI builds it (through the store).
 */
import { stringify } from 'yaml';
import type { Problem } from '../api/problems.js';
import { buildNetworkState } from '../controllers/index.js';
import type { Connection, ConnectionSource, ConnectionTarget } from '../model/dataplane.js';
import { EXTERNAL_CLIENT_IP } from '../model/dataplane.js';
import type { NetworkState } from '../model/types.js';
import { storeFromTexts } from '../store/index.js';
import type { Manifest } from './generate.js';

/** Manifests that do not load (a generated cluster, a reproducer): a bug of the generator, not of a plane. */
export class GeneratorError extends Error {
  readonly code = 'EGENERATOR';
}

/** The file name manifests are loaded under (it appears in problem positions). */
export const MANIFESTS_FILE = 'manifests.yaml';

/** The manifests as one multi-document YAML text. */
export function manifestsYaml(manifests: readonly Manifest[]): string {
  return manifests.map((m) => stringify(m, { lineWidth: 0 })).join('---\n');
}

/** A state built from manifests, or the errors that stopped it. */
export type Loaded = { readonly state: NetworkState; readonly errors?: undefined } | { readonly state?: undefined; readonly errors: readonly Problem[] };

/**
 * Builds the state of some manifests through the store (YAML text, validation, normalization),
 * as the CLI does (the real clock; a fixed key seed, so a run's certificates are reproducible).
 */
export function loadManifests(manifests: readonly Manifest[]): Loaded {
  return loadText(manifestsYaml(manifests));
}

/** Builds the state of a manifests text (a reproducer's `manifests.yaml`), as `loadManifests` does. */
export function loadText(text: string, file = MANIFESTS_FILE): Loaded {
  const store = storeFromTexts([{ file, text }]);
  const loadErrors = store.problems.filter((p) => p.severity === 'error');
  if (loadErrors.length > 0) return { errors: loadErrors };
  const state = buildNetworkState({ objects: store.objects.map((o) => o.object), sourceOf: store.sourceOf, locate: store.locate }, { seed: 'kwire-differential' });
  const errors = state.problems.filter((p) => p.severity === 'error');
  return errors.length > 0 ? { errors } : { state };
}

function sourceArg(from: ConnectionSource): string {
  switch (from.kind) {
    case 'pod':
      return `pod/${from.namespace}/${from.name}`;
    case 'workload':
      return `${from.workloadKind === 'Deployment' ? 'deploy' : from.workloadKind === 'StatefulSet' ? 'sts' : 'ds'}/${from.namespace}/${from.name}`;
    case 'node':
      return `node/${from.name}`;
    case 'external':
      return from.ip && from.ip !== EXTERNAL_CLIENT_IP ? `ip/${from.ip}` : 'external';
    case 'ip':
      return `ip/${from.ip}`;
  }
}

function targetArg(to: ConnectionTarget): string {
  switch (to.kind) {
    case 'url': {
      const defaultPort = to.scheme === 'https' ? 443 : 80;
      return `${to.scheme}://${to.host}${to.port === defaultPort ? '' : `:${String(to.port)}`}${to.path || '/'}`;
    }
    case 'service':
      return `svc/${to.namespace}/${to.name}:${String(to.port)}`;
    case 'pod':
      return `pod/${to.namespace}/${to.name}:${String(to.port)}`;
    case 'ip':
      return `${to.ip}:${String(to.port)}`;
    case 'name':
      return `${to.name}:${String(to.port)}`;
  }
}

function quote(arg: string): string {
  return /^[\w./:@%+=,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The `kwire trace` arguments (SRC DST and flags) that ask about a connection. */
export function traceArgs(c: Connection): string[] {
  const args = [sourceArg(c.from), targetArg(c.to)];
  if (c.protocol && c.protocol !== 'TCP') args.push('--protocol', c.protocol);
  for (const r of c.resolve ?? []) args.push('--resolve', `${r.name}${r.port === undefined ? '' : `:${String(r.port)}`}:${r.address}`);
  for (const [k, v] of Object.entries(c.headers ?? {})) args.push('-H', `${k}: ${v}`);
  if (c.method && c.method !== 'GET') args.push('-X', c.method);
  return args;
}

/** The `kwire trace` command line of a connection over a manifests file. */
export function traceCommand(c: Connection, file = MANIFESTS_FILE): string {
  return ['kwire', 'trace', '-f', file, ...traceArgs(c)].map(quote).join(' ');
}
