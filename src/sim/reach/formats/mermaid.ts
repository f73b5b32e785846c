/** A Mermaid flowchart: namespaces as subgraphs, edges labelled with ports. */
import { connsText, peersByNamespace, type ReachFormatter } from './common.js';

function label(value: string): string {
  return `"${value.replaceAll('"', '#quot;')}"`;
}

/** The mermaid format. */
export const mermaid: ReachFormatter = (reach) => {
  const ids = new Map(reach.peers.map((p, i) => [p.id, `p${i}`]));
  const lines = ['flowchart LR'];
  let group = 0;
  for (const [namespace, peers] of peersByNamespace(reach)) {
    const indent = namespace === undefined ? '  ' : '    ';
    if (namespace !== undefined) lines.push(`  subgraph ns${group++}[${label(namespace)}]`);
    for (const p of peers) {
      const text = namespace === undefined ? p.id : `${p.name ?? p.id}[${p.kind}]`;
      lines.push(`${indent}${ids.get(p.id) ?? ''}[${label(text)}]`);
    }
    if (namespace !== undefined) lines.push('  end');
  }
  for (const c of reach.connections) {
    lines.push(
      `  ${ids.get(c.src) ?? ''} -->|${label(connsText(c.conns))}| ${ids.get(c.dst) ?? ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
};
