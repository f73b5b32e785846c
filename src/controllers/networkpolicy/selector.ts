/** Label selectors compiled once into predicates. */
import type { LabelSelector, StringMap } from '../../api/types.js';

/** A compiled label selector. */
export interface CompiledSelector {
  /** Whether labels satisfy the selector. */
  readonly matches: (labels: StringMap) => boolean;
  /** Whether it selects everything (`{}`). */
  readonly empty: boolean;
  /** kubectl-style text: `app=web,tier in (a,b),!debug`; `<all>` when empty. */
  readonly text: string;
  /** Equal for selectors that select the same labels (caches key on it). */
  readonly key: string;
}

type Predicate = (labels: StringMap) => boolean;

function has(labels: StringMap, key: string): boolean {
  return Object.hasOwn(labels, key);
}

/** Compiles a label selector (matchLabels AND every matchExpressions requirement). */
export function compileSelector(selector: LabelSelector | undefined): CompiledSelector {
  const predicates: Predicate[] = [];
  const texts: string[] = [];
  const parts: string[][] = [];
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) {
    predicates.push((labels) => has(labels, key) && labels[key] === value);
    texts.push(`${key}=${value}`);
    parts.push(['=', key, value]);
  }
  for (const req of selector?.matchExpressions ?? []) {
    const values = new Set(req.values ?? []);
    const list = [...values].join(',');
    const key = req.key;
    parts.push([req.operator, key, ...[...values].sort()]);
    switch (req.operator) {
      case 'In':
        predicates.push((labels) => has(labels, key) && values.has(labels[key] ?? ''));
        texts.push(`${key} in (${list})`);
        break;
      case 'NotIn':
        predicates.push((labels) => !has(labels, key) || !values.has(labels[key] ?? ''));
        texts.push(`${key} notin (${list})`);
        break;
      case 'Exists':
        predicates.push((labels) => has(labels, key));
        texts.push(key);
        break;
      case 'DoesNotExist':
        predicates.push((labels) => !has(labels, key));
        texts.push(`!${key}`);
        break;
    }
  }
  return {
    matches: (labels) => predicates.every((p) => p(labels)),
    empty: predicates.length === 0,
    text: texts.length === 0 ? '<all>' : texts.join(','),
    key: JSON.stringify(parts.sort()),
  };
}
