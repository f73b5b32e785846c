/** A source × destination matrix: `all`, ports, `-` (none) or `#` (the peer itself). */
import { connsText, type ReachFormatter } from './common.js';

/** The matrix format (rows are sources, columns destinations). */
export const matrix: ReachFormatter = (reach) => {
  const ids = reach.peers.map((p) => p.id);
  const cells = new Map<string, string>();
  for (const c of reach.connections)
    cells.set(`${c.src}\u0000${c.dst}`, c.conns === 'all' ? 'all' : connsText(c.conns));
  const rows: string[][] = [['src \\ dst', ...ids]];
  for (const src of ids) {
    rows.push([
      src,
      ...ids.map((dst) => (src === dst ? '#' : (cells.get(`${src}\u0000${dst}`) ?? '-'))),
    ]);
  }
  const widths = ids.map((_, i) => Math.max(...rows.map((r) => (r[i + 1] ?? '').length)));
  const first = Math.max(...rows.map((r) => (r[0] ?? '').length));
  return `${rows
    .map((r) =>
      [(r[0] ?? '').padEnd(first), ...r.slice(1).map((cell, i) => cell.padEnd(widths[i] ?? 0))]
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
};
