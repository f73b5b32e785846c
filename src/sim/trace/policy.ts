/** NetworkPolicy in a trace: egress at the source and ingress at the destination of one hop. */
import type { Protocol } from '../../api/types.js';
import { evaluateConnection, formatRef, type DirectionVerdict } from '../../model/policy/index.js';
import type { PodState } from '../../model/types.js';
import type { TraceRef } from '../../model/dataplane.js';
import type { Ctx, Walk } from './context.js';

function policyRefs(v: DirectionVerdict): TraceRef[] {
  const refs: TraceRef[] = v.allowedBy.map((r) => ({ kind: 'NetworkPolicy', namespace: r.namespace, name: r.name, field: r.field }));
  if (!v.allowed) for (const p of v.isolatedBy) refs.push({ kind: 'NetworkPolicy', namespace: p.namespace, name: p.name });
  return refs;
}

/** The verdict of one hop. */
export interface HopVerdict {
  readonly allowed: boolean;
  readonly hint?: string;
  /** Whether a policy selected either end (so the policies decided, rather than nothing isolating). */
  readonly checked: boolean;
}

/**
 * Judges NetworkPolicy for one hop and adds its hops: one per isolated side, or only the denying
 * one with `quiet` (a DNS query is a hop of its own).
 */
export function judge(ctx: Ctx, walk: Walk, src: PodState | string, dst: PodState | string, protocol: Protocol, port: number, sourceNote?: string, opts: { readonly quiet?: boolean; readonly ingressFrom?: string } = {}): HopVerdict {
  const v = evaluateConnection(ctx.state.policies, src, dst, protocol, port);
  // A masqueraded connection reaches the destination's node from another address than it left with.
  const ingress = opts.ingressFrom === undefined ? v.ingress : evaluateConnection(ctx.state.policies, opts.ingressFrom, dst, protocol, port).ingress;
  let checked = false;
  for (const d of [v.egress, ingress]) {
    if (!d.pod) continue;
    checked = true;
    if (opts.quiet && d.allowed) continue;
    const end = d.direction === 'egress' ? src : dst;
    walk.add({
      component: 'networkpolicy',
      node: typeof end === 'string' ? undefined : end.node,
      action: `${d.direction} at ${d.pod}${d.direction === 'ingress' && sourceNote ? ` (${sourceNote})` : ''}`,
      verdict: d.allowed ? 'pass' : 'deny',
      refs: policyRefs(d),
      detail: d.detail,
    });
    if (!d.allowed) return { allowed: false, checked, hint: d.hint ?? (d.nearMisses[0] ? `${formatRef(d.nearMisses[0].rule)}: ${d.nearMisses[0].detail}` : undefined) };
  }
  if (!v.enforced && !opts.quiet) walk.add({ component: 'networkpolicy', action: 'not enforced', verdict: 'pass', detail: v.detail });
  return { allowed: true, checked };
}
