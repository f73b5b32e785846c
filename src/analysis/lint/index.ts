/**
 * The lint framework: runs every registered check, folds reconcile problems in, and renders
 * findings as text, JSON, SARIF 2.1.0 or JUnit.
 */
import type { Problem, Severity } from '../../api/problems.js';
import type { NetworkState } from '../../model/types.js';
import { certificateChecks, ingressChecks, networkPolicyChecks, serviceChecks, type LintCheck } from './checks.js';

export type { LintCheck } from './checks.js';
export { lintFormats, type LintFormat } from './formats.js';

/** Ranks severities for `--fail-on`. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 0, warning: 1, error: 2 };

/** Every check kwire runs, by area. */
export function allChecks(extra: readonly LintCheck[] = []): LintCheck[] {
  return [...serviceChecks, ...ingressChecks, ...networkPolicyChecks, ...certificateChecks, ...extra];
}

/** Runs the checks; findings sorted by file, line, column, id. */
export function runLint(state: NetworkState, checks: readonly LintCheck[], carried: readonly Problem[] = []): Problem[] {
  const findings = [...carried, ...state.problems, ...checks.flatMap((c) => c.run(state))];
  return findings.sort((a, b) => {
    const fa = a.source?.file ?? '';
    const fb = b.source?.file ?? '';
    if (fa !== fb) return fa < fb ? -1 : 1;
    const la = (a.source?.line ?? 0) - (b.source?.line ?? 0);
    if (la) return la;
    const ca = (a.source?.column ?? 0) - (b.source?.column ?? 0);
    if (ca) return ca;
    return a.code < b.code ? -1 : a.code > b.code ? 1 : 0;
  });
}
