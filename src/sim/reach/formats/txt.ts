/** `src => dst : TCP 80,8080-8090` lines (netpol-analyzer's txt notation). */
import { connsText, explainLines, type ReachFormatter } from './common.js';

/** The txt format; with explain data, each pair is followed by its reasons and denied pairs are listed. */
export const txt: ReachFormatter = (reach) => {
  const lines: string[] = [];
  for (const c of reach.connections) {
    lines.push(`${c.src} => ${c.dst} : ${connsText(c.conns)}`);
    if (c.explain) lines.push(...explainLines(c.explain));
  }
  for (const d of reach.denied ?? []) {
    lines.push(`${d.src} => ${d.dst} : No Connections`, ...explainLines(d.explain));
  }
  if (lines.length === 0) lines.push('No Connections');
  return `${lines.join('\n')}\n`;
};
