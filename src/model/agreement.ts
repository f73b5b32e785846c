/**
 * When a plane agrees with the simulator: the simulator lists every outcome a connection can have
 * (one trace per combination of the data path's random draws), a real plane reports the one it
 * got, and they agree when the real one is among the listed. What a real plane cannot see is not
 * held against it: a drop and a missing route both look like silence, a policy's name is invisible.
 */
import type { Probed, Trace } from './dataplane.js';

function podOf(t: Trace): string | undefined {
  const d = t.destination;
  if (d?.pod) return `${d.pod.namespace}/${d.pod.name}`;
  if (d?.node) return `node/${d.node}`;
  return undefined;
}

/** What an outcome looks like from outside, in a few words. */
export function describeOutcome(t: Trace): string {
  if (t.verdict === 'delivered') return `delivered to ${podOf(t) ?? t.destination?.ip ?? '?'}${t.destination?.client ? ` (seen from ${t.destination.client})` : ''}`;
  if (t.response) return `${t.verdict}: ${String(t.response.status)} from ${t.response.by}`;
  const last = t.hops[t.hops.length - 1];
  return `${t.verdict}${last ? `: ${last.action}` : ''}`;
}

/** What a plane saw, in a few words. */
export function describeProbed(p: Probed): string {
  if (p.skipped) return `skipped: ${p.skipped}`;
  if (p.verdict === 'delivered') return `delivered to ${p.answeredBy ?? '?'}${p.seenClient ? ` (seen from ${p.seenClient})` : ''}`;
  if (p.verdict === 'answered') return `answered ${String(p.status ?? '?')}${p.location ? ` → ${p.location}` : ''}`;
  return `failed: ${p.failure ?? 'unknown'}`;
}

function matches(t: Trace, p: Probed, exact: { readonly client: boolean }): boolean {
  if (p.verdict === 'delivered') {
    if (t.verdict !== 'delivered' || podOf(t) !== p.answeredBy) return false;
    if (exact.client && p.seenClient !== undefined && t.destination?.client !== undefined && p.seenClient !== t.destination.client) return false;
    return true;
  }
  if (p.verdict === 'answered') {
    if (t.response === undefined || t.response.status !== p.status) return false;
    if (t.response.location !== undefined && p.location !== undefined && t.response.location !== p.location) return false;
    return true;
  }
  switch (p.failure) {
    case 'nxdomain':
      return t.verdict === 'no-route' && t.hops.some((h) => h.component === 'dns' && h.verdict === 'no-route');
    case 'timeout':
      return (t.verdict === 'denied' && t.response === undefined) || t.verdict === 'no-route';
    case 'refused':
    case 'unreachable':
      return t.verdict === 'no-route';
    case 'error':
    case undefined:
      return false;
  }
}

/** Whether the served certificate is the one the trace names. */
function certificateAgrees(t: Trace, p: Probed): boolean {
  if (!t.certificate || !p.certificateNames) return true;
  const served = new Set(p.certificateNames);
  return t.certificate.dnsNames.every((n) => served.has(n));
}

/**
 * Why `seen` is not an outcome the simulator allows, or undefined when it is (or when the plane
 * skipped the question). `client: false` ignores the client address the destination saw.
 */
export function disagreement(outcomes: readonly Trace[], seen: Probed, opts: { readonly client?: boolean } = {}): string | undefined {
  if (seen.skipped !== undefined) return undefined;
  const exact = { client: opts.client ?? true };
  const fits = outcomes.filter((t) => matches(t, seen, exact));
  if (fits.length === 0) {
    const expected = [...new Set(outcomes.map(describeOutcome))].join(' | ');
    return `${seen.plane} ${describeProbed(seen)}; the simulator allows: ${expected}`;
  }
  if (!fits.some((t) => certificateAgrees(t, seen))) return `${seen.plane} served a certificate for [${(seen.certificateNames ?? []).join(', ')}]; the trace names [${fits[0]?.certificate?.dnsNames.join(', ') ?? ''}]`;
  return undefined;
}
