/**
 * Test support: manifests (as YAML text) → store → NetworkState, the way the CLI builds it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildNetworkState, type BuildOptions } from '../../src/controllers/index.js';
import type { NetworkState } from '../../src/model/types.js';
import { storeFromTexts, type Store } from '../../src/store/index.js';
import type { Io } from '../../src/cli/context.js';
import { connectionOf, type TextTraceOptions } from '../../src/cli/trace/index.js';
import { createTracer, type Trace } from '../../src/sim/trace/index.js';

/** Builds the state of some YAML; throws when loading reported an error. */
export function stateOf(yaml: string, opts: BuildOptions = {}): NetworkState {
  const store = storeFromTexts([{ file: 'test.yaml', text: yaml }]);
  const errors = store.problems.filter((p) => p.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => e.message).join('\n'));
  return buildNetworkState({ objects: store.objects.map((o) => o.object), sourceOf: store.sourceOf }, opts);
}

/** Builds the state of a folder's manifests (`*.yaml`, `*.yml`, `*.json`, by name) as `-f DIR` does. */
export function stateOfDir(dir: string, opts: BuildOptions = {}): NetworkState {
  const files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
  const store = storeFromTexts(files.map((f) => ({ file: join(dir, f), text: readFileSync(join(dir, f), 'utf8') })));
  const errors = store.problems.filter((p) => p.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => e.message).join('\n'));
  return buildNetworkState({ objects: store.objects.map((o) => o.object), sourceOf: store.sourceOf }, opts);
}

/** The store of some YAML (problems included). */
export function storeOf(yaml: string, file = 'test.yaml'): Store {
  return storeFromTexts([{ file, text: yaml }]);
}

/** An Io that records what a command prints. */
export function captureIo(stdin = '', cwd = process.cwd()): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), readStdin: () => Promise.resolve(stdin), cwd, color: false };
}

/** A Deployment manifest with one container port. */
export function deployment(name: string, opts: { ns?: string; replicas?: number; labels?: Record<string, string>; ports?: { name?: string; containerPort: number; protocol?: string }[]; nodeSelector?: Record<string, string> } = {}): string {
  const labels = opts.labels ?? { app: name };
  const ports = opts.ports ?? [{ name: 'http', containerPort: 8080 }];
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, ...(opts.ns ? { namespace: opts.ns } : {}) },
    spec: {
      replicas: opts.replicas ?? 1,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { ...(opts.nodeSelector ? { nodeSelector: opts.nodeSelector } : {}), containers: [{ name: 'c', image: 'x', ports }] } },
    },
  });
}

/** A Service manifest. */
export function service(name: string, spec: Record<string, unknown>, ns?: string): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name, ...(ns ? { namespace: ns } : {}) }, spec });
}

/** Joins manifests into one multi-document YAML text. */
export function docs(...parts: string[]): string {
  return parts.join('\n---\n');
}

/** A tracer taking the CLI's SRC/DST text, as the tests write connections. */
export function textTracer(state: NetworkState): { trace: (src: string, dst: string, opts?: TextTraceOptions) => Trace; traceAll: (src: string, dst: string, opts?: TextTraceOptions) => Trace[] } {
  const tracer = createTracer(state);
  return {
    trace: (src, dst, opts) => tracer.trace(connectionOf(src, dst, opts)),
    traceAll: (src, dst, opts) => tracer.traceAll(connectionOf(src, dst, opts)),
  };
}
