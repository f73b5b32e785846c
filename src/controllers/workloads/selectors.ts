/**
 * Label and node selectors as small predicates.
 */
import type { LabelSelectorRequirement, StringMap } from '../../api/types.js';

/** True when `labels` satisfy one requirement (`In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt`, `Lt`). */
function satisfies(req: { key: string; operator: string; values?: readonly string[] }, labels: StringMap): boolean {
  const v = labels[req.key];
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return v !== undefined && values.includes(v);
    case 'NotIn':
      return v === undefined || !values.includes(v);
    case 'Exists':
      return v !== undefined;
    case 'DoesNotExist':
      return v === undefined;
    case 'Gt':
      return v !== undefined && Number(v) > Number(values[0]);
    case 'Lt':
      return v !== undefined && Number(v) < Number(values[0]);
    default:
      return false;
  }
}

/** True when a set of labels matches a label selector (an empty selector matches everything). */
export function labelsMatchSelector(
  selector: { matchLabels?: StringMap; matchExpressions?: readonly LabelSelectorRequirement[] },
  labels: StringMap,
): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  return (selector.matchExpressions ?? []).every((e) => satisfies(e, labels));
}

/** Node affinity: true when any term matches (terms are ORed, expressions within a term ANDed). */
export function matchesNodeSelectorTerms(
  terms: readonly { matchExpressions?: readonly { key: string; operator: string; values?: readonly string[] }[] }[],
  labels: StringMap,
): boolean {
  return terms.some((t) => (t.matchExpressions ?? []).every((e) => satisfies(e, labels)));
}
