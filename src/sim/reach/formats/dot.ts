/** Graphviz: namespaces as clusters, external peers outside them, edges labelled with ports. */
import { connsText, peersByNamespace, type ReachFormatter } from './common.js';

function q(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** The dot format. */
export const dot: ReachFormatter = (reach) => {
  const lines = ['digraph reach {', '  rankdir=LR;', '  node [shape=box, style=rounded];'];
  let cluster = 0;
  for (const [namespace, peers] of peersByNamespace(reach)) {
    if (namespace === undefined) {
      for (const p of peers)
        lines.push(`  ${q(p.id)} [label=${q(p.id.replace('[External]', ''))}, shape=ellipse];`);
      continue;
    }
    lines.push(`  subgraph cluster_${cluster++} {`, `    label=${q(namespace)};`);
    for (const p of peers)
      lines.push(`    ${q(p.id)} [label=${q(`${p.name ?? p.id}[${p.kind}]`)}];`);
    lines.push('  }');
  }
  for (const c of reach.connections)
    lines.push(`  ${q(c.src)} -> ${q(c.dst)} [label=${q(connsText(c.conns))}];`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
};
