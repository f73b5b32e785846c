/**
 * Label selectors as MetalLB's objects carry them (pool, namespace, service and node selectors):
 * read from raw YAML, checked, then compiled once by `model/selectors`.
 */
import type { LabelSelector, LabelSelectorRequirement, StringMap } from '../../api/types.js';
import { compileSelector, type CompiledSelector } from '../../model/selectors.js';

const operators = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

/** Reads and compiles a raw selector; returns an error message when it is malformed. */
export function readSelector(raw: unknown): CompiledSelector | string {
  if (!isRecord(raw)) return 'a label selector must be an object with matchLabels/matchExpressions';
  const matchLabels: Record<string, string> = {};
  if (raw.matchLabels !== undefined) {
    if (!isRecord(raw.matchLabels)) return 'matchLabels must be a map of strings';
    for (const [key, value] of Object.entries(raw.matchLabels)) {
      if (typeof value !== 'string') return `matchLabels.${key} must be a string`;
      matchLabels[key] = value;
    }
  }
  const expressions: LabelSelectorRequirement[] = [];
  if (raw.matchExpressions !== undefined) {
    if (!Array.isArray(raw.matchExpressions)) return 'matchExpressions must be a list';
    for (const [index, entry] of (raw.matchExpressions as unknown[]).entries()) {
      const requirement = readRequirement(entry);
      if (typeof requirement === 'string') return `matchExpressions[${index}]: ${requirement}`;
      expressions.push(requirement);
    }
  }
  const selector: LabelSelector = { matchLabels, matchExpressions: expressions };
  return compileSelector(selector);
}

/** Whether any selector of a list matches; an empty list matches everything. */
export function anyMatches(selectors: readonly CompiledSelector[], labels: StringMap): boolean {
  return selectors.length === 0 || selectors.some((s) => s.matches(labels));
}

function readRequirement(raw: unknown): LabelSelectorRequirement | string {
  if (!isRecord(raw)) return 'must be an object with key, operator and values';
  const { key, operator, values } = raw;
  if (typeof key !== 'string' || key === '') return 'key must be a non-empty string';
  if (typeof operator !== 'string' || !operators.has(operator)) {
    return `operator ${JSON.stringify(operator)} must be one of In, NotIn, Exists, DoesNotExist`;
  }
  const list = values === undefined ? [] : values;
  if (!Array.isArray(list) || !list.every((v): v is string => typeof v === 'string')) {
    return 'values must be a list of strings';
  }
  const needsValues = operator === 'In' || operator === 'NotIn';
  if (needsValues && list.length === 0) return `values must be non-empty for operator ${operator}`;
  if (!needsValues && list.length > 0) return `values must be empty for operator ${operator}`;
  return { key, operator: operator as LabelSelectorRequirement['operator'], values: list };
}

/** Whether a value is a plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
