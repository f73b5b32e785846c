/**
 * Problems are data: validation errors, reconcile conflicts and lint findings share this shape.
 * Rendering for people lives in `formatProblem`.
 */
import type { SourcePos } from './types.js';

/** How bad a problem is. `error` stops `get`/`trace`; `warning` and `info` never do. */
export type Severity = 'error' | 'warning' | 'info';

/** The object a problem is about. */
export interface ObjectRef {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

/** One problem: a stable code, where it is, what is wrong and how to fix it. */
export interface Problem {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly object?: ObjectRef;
  /** Field path as the apiserver prints it: `spec.ports[0].port`. */
  readonly path?: string;
  readonly source?: SourcePos;
  readonly hint?: string;
}

/** `Kind ns/name` or `Kind name` for cluster-scoped objects. */
export function formatObjectRef(ref: ObjectRef): string {
  return ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`;
}

/** `file:line:column: Kind ns/name: field.path: message; hint` */
export function formatProblem(p: Problem): string {
  const parts: string[] = [];
  if (p.source) parts.push(`${p.source.file}:${p.source.line}:${p.source.column}`);
  if (p.object) parts.push(formatObjectRef(p.object));
  if (p.path) parts.push(p.path);
  parts.push(p.hint ? `${p.message}; ${p.hint}` : p.message);
  return parts.join(': ');
}

/** A failure that carries problems (bad input): the CLI prints them and exits 2. */
export class InputError extends Error {
  readonly code = 'EINPUT';
  constructor(readonly problems: readonly Problem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'InputError';
  }
}

/** Quotes a value for a message: strings in double quotes, others as JSON, long values cut. */
export function quote(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (value === undefined) text = 'nothing';
  else {
    try {
      text = JSON.stringify(value) ?? typeof value;
    } catch {
      text = typeof value;
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** A failure of the environment (exit 3), e.g. the Linux plane without root. */
export class EnvironmentError extends Error {
  readonly code = 'EENV';
  constructor(message: string) {
    super(message);
    this.name = 'EnvironmentError';
  }
}
