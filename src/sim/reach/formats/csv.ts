/** `src,dst,conn` rows. */
import { connsText, type ReachFormatter } from './common.js';

function cell(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The csv format. */
export const csv: ReachFormatter = (reach) =>
  [
    'src,dst,conn',
    ...reach.connections.map((c) => [c.src, c.dst, connsText(c.conns)].map(cell).join(',')),
  ].join('\n') + '\n';
