/**
 * The readable form of a trace: one numbered line per hop, its detail and deciding objects under it.
 */
import type { Trace, TraceRef } from './types.js';

const MARK: Readonly<Record<string, string>> = { pass: '✓', deny: '✗', answer: '↩', 'no-route': '✗', info: '•' };

function refText(r: TraceRef): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}${r.field ? ` ${r.field}` : ''}`;
}

/** Renders a trace for people. */
export function renderTraceText(t: Trace): string {
  const lines: string[] = [];
  t.hops.forEach((h, i) => {
    lines.push(`${String(i + 1).padStart(2)}. ${MARK[h.verdict] ?? ' '} [${h.component}${h.node ? ` @${h.node}` : ''}] ${h.action}`);
    if (h.detail) lines.push(`       ${h.detail}`);
    if (h.refs.length) lines.push(`       by: ${h.refs.map(refText).join('; ')}`);
  });
  let end: string = t.verdict.toUpperCase();
  if (t.response) end += `: ${t.response.status} from ${t.response.by}${t.response.location ? ` (Location: ${t.response.location})` : ''}`;
  const d = t.destination;
  if (t.verdict === 'delivered' && d?.pod) end += `: ${d.pod.namespace}/${d.pod.name} ${d.pod.ip}:${d.port ?? ''} on ${d.pod.node}`;
  if (d?.backend) end += ` (service ${d.backend.service.namespace}/${d.backend.service.name}${d.backend.service.port ? `:${d.backend.service.port}` : ''})`;
  lines.push('', end);
  if (t.certificate) lines.push(`certificate: ${t.certificate.secretName ?? '(default)'} [${t.certificate.dnsNames.join(', ')}] ${t.certificate.covers ? 'covers the host' : 'does NOT cover the host'}${t.certificate.issuer ? `, issuer ${t.certificate.issuer}` : ''}`);
  if (t.hint) lines.push(`to allow it: ${t.hint}`);
  return lines.join('\n');
}
