/**
 * Label selectors and node-affinity terms compiled once into predicates; every area matches
 * labels through here.
 */
import type { LabelSelector, StringMap } from '../api/types.js';

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

/** One requirement of a label selector or a node selector term (`Gt`/`Lt` only on nodes). */
export interface SelectorRequirement {
  readonly key: string;
  readonly operator: string;
  readonly values?: readonly string[];
}

/** A node selector term of `requiredDuringSchedulingIgnoredDuringExecution`. */
export interface NodeSelectorTerm {
  readonly matchExpressions?: readonly SelectorRequirement[];
}

type Predicate = (labels: StringMap) => boolean;

function has(labels: StringMap, key: string): boolean {
  return Object.hasOwn(labels, key);
}

/** A requirement as a predicate and its kubectl text; an unknown operator never matches. */
function compileRequirement(req: SelectorRequirement): { test: Predicate; text: string } {
  const values = new Set(req.values ?? []);
  const list = [...values].join(',');
  const key = req.key;
  switch (req.operator) {
    case 'In':
      return { test: (l) => has(l, key) && values.has(l[key] ?? ''), text: `${key} in (${list})` };
    case 'NotIn':
      return {
        test: (l) => !has(l, key) || !values.has(l[key] ?? ''),
        text: `${key} notin (${list})`,
      };
    case 'Exists':
      return { test: (l) => has(l, key), text: key };
    case 'DoesNotExist':
      return { test: (l) => !has(l, key), text: `!${key}` };
    case 'Gt':
    case 'Lt': {
      const bound = Number(req.values?.[0]);
      const above = req.operator === 'Gt';
      return {
        test: (l) => has(l, key) && (above ? Number(l[key]) > bound : Number(l[key]) < bound),
        text: `${key}${above ? '>' : '<'}${list}`,
      };
    }
    default:
      return { test: () => false, text: `${key} ${req.operator} (${list})` };
  }
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
    const { test, text } = compileRequirement(req);
    predicates.push(test);
    texts.push(text);
    parts.push([req.operator, req.key, ...[...new Set(req.values ?? [])].sort()]);
  }
  return {
    matches: (labels) => predicates.every((p) => p(labels)),
    empty: predicates.length === 0,
    text: texts.length === 0 ? '<all>' : texts.join(','),
    key: JSON.stringify(parts.sort()),
  };
}

/** Compiles node affinity terms: ORed terms of ANDed expressions; no term matches nothing. */
export function compileNodeSelectorTerms(terms: readonly NodeSelectorTerm[]): Predicate {
  const compiled = terms.map((t) => (t.matchExpressions ?? []).map((e) => compileRequirement(e).test));
  return (labels) => compiled.some((tests) => tests.every((test) => test(labels)));
}
