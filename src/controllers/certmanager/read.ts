/** Reading loosely-typed object bodies (`spec`, `data`) without casts scattered around. */

/** A plain object field, or undefined. */
export function record(value: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** A string field, or undefined (numbers and booleans are stringified, as YAML may type them). */
export function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** A list of strings (non-strings dropped), empty when absent. */
export function texts(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const out: string[] = [];
  for (const item of value as unknown[]) {
    const s = text(item);
    if (s !== undefined) out.push(s);
  }
  return out;
}

/** A list of objects, empty when absent. */
export function records(value: unknown): Readonly<Record<string, unknown>>[] {
  if (!Array.isArray(value)) return [];
  const out: Readonly<Record<string, unknown>>[] = [];
  for (const item of value as unknown[]) {
    const r = record(item);
    if (r) out.push(r);
  }
  return out;
}

/** A string → string map (non-string values dropped). */
export function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record(value) ?? {})) {
    const s = text(v);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

/** A number field (numeric strings accepted), or undefined. */
export function num(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}
