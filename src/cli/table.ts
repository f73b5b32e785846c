/**
 * kubectl-style tables: upper-case headers, columns padded with three spaces, no borders.
 */

/** Renders rows under headers, each column as wide as its widest cell. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** Parses a kubectl label selector (`a=b,c!=d,e in (x,y),f notin (z),g,!h`). */
export function parseLabelSelector(text: string): ((labels: Readonly<Record<string, string>>) => boolean) | string {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) parts.push(cur.trim());
  const tests: ((l: Readonly<Record<string, string>>) => boolean)[] = [];
  for (const p of parts) {
    let m: RegExpMatchArray | null;
    if ((m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(p))) {
      const [, key = '', op, list = ''] = m;
      const values = list.split(',').map((v) => v.trim());
      tests.push(op === 'in' ? (l) => l[key] !== undefined && values.includes(l[key]) : (l) => l[key] === undefined || !values.includes(l[key]));
    } else if ((m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(p))) {
      const [, key = '', op, value = ''] = m;
      tests.push(op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value);
    } else if ((m = /^!([\w./-]+)$/.exec(p))) {
      const key = m[1] ?? '';
      tests.push((l) => l[key] === undefined);
    } else if ((m = /^([\w./-]+)$/.exec(p))) {
      const key = m[1] ?? '';
      tests.push((l) => l[key] !== undefined);
    } else return `invalid label selector term "${p}"`;
  }
  return (labels) => tests.every((t) => t(labels));
}
