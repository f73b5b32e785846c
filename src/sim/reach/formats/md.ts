/** A Markdown table `| src | dst | conn |`. */
import { connsText, type ReachFormatter } from './common.js';

function cell(value: string): string {
  return value.replaceAll('|', '\\|');
}

/** The md format. */
export const md: ReachFormatter = (reach) =>
  [
    '| src | dst | conn |',
    '|-----|-----|------|',
    ...reach.connections.map(
      (c) => `| ${cell(c.src)} | ${cell(c.dst)} | ${cell(connsText(c.conns))} |`,
    ),
  ].join('\n') + '\n';
