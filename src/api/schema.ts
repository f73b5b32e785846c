/**
 * A small declarative schema language for the structural part of validation (types, required
 * fields, enums, ranges), and the checker that walks an object against it. Semantic rules (names,
 * selectors, CIDRs, Ingress paths) live in `validate.ts`.
 */
import { quote } from './problems.js';
import type { FieldPath } from './types.js';

/** A structural schema node. */
export type Schema =
  | { readonly t: 'string'; readonly enum?: readonly string[] }
  | { readonly t: 'int'; readonly min?: number; readonly max?: number }
  | { readonly t: 'bool' }
  | { readonly t: 'intOrString'; readonly min?: number; readonly max?: number }
  | { readonly t: 'any' }
  | { readonly t: 'map'; readonly values: Schema }
  | { readonly t: 'array'; readonly items: Schema }
  | {
      readonly t: 'object';
      readonly fields: Readonly<Record<string, Schema>>;
      readonly required?: readonly string[];
      /** Unknown fields are reported as warnings (strict field validation would reject them). */
      readonly closed?: boolean;
    };

/** One structural finding; the caller adds object, source and code. */
export interface SchemaIssue {
  readonly path: FieldPath;
  readonly message: string;
  readonly severity: 'error' | 'warning';
  readonly hint?: string;
}

/** Named constructors, so schemas read like the API reference. */
export const s = {
  str: (values?: readonly string[]): Schema => (values ? { t: 'string', enum: values } : { t: 'string' }),
  int: (min?: number, max?: number): Schema => ({ t: 'int', min, max }),
  bool: (): Schema => ({ t: 'bool' }),
  intOrStr: (min?: number, max?: number): Schema => ({ t: 'intOrString', min, max }),
  any: (): Schema => ({ t: 'any' }),
  map: (values: Schema = { t: 'string' }): Schema => ({ t: 'map', values }),
  arr: (items: Schema): Schema => ({ t: 'array', items }),
  obj: (fields: Record<string, Schema>, required: readonly string[] = [], closed = true): Schema => ({
    t: 'object',
    fields,
    required,
    closed,
  }),
  /** An object whose other fields are not checked. */
  open: (fields: Record<string, Schema>, required: readonly string[] = []): Schema => ({
    t: 'object',
    fields,
    required,
    closed: false,
  }),
};

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Checks `value` against `schema`, appending issues. `null` counts as absent, as in Kubernetes. */
export function checkSchema(value: unknown, schema: Schema, path: FieldPath, out: SchemaIssue[]): void {
  if (value === null || value === undefined) return;
  switch (schema.t) {
    case 'any':
      return;
    case 'string':
      if (typeof value !== 'string') {
        out.push({ path, severity: 'error', message: `must be a string (got ${typeName(value)} ${quote(value)})` });
      } else if (schema.enum && !schema.enum.includes(value)) {
        out.push({
          path,
          severity: 'error',
          message: `Unsupported value: ${quote(value)}`,
          hint: `supported values: ${schema.enum.map((e) => `"${e}"`).join(', ')}`,
        });
      }
      return;
    case 'bool':
      if (typeof value !== 'boolean') {
        out.push({ path, severity: 'error', message: `must be a boolean (got ${typeName(value)} ${quote(value)})`, hint: 'write true or false without quotes' });
      }
      return;
    case 'int':
    case 'intOrString':
      if (schema.t === 'intOrString' && typeof value === 'string') {
        if (value === '') out.push({ path, severity: 'error', message: 'must not be empty' });
        return;
      }
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        out.push({
          path,
          severity: 'error',
          message: `must be ${schema.t === 'int' ? 'an integer' : 'an integer or a name'} (got ${typeName(value)} ${quote(value)})`,
        });
        return;
      }
      if ((schema.min !== undefined && value < schema.min) || (schema.max !== undefined && value > schema.max)) {
        out.push({
          path,
          severity: 'error',
          message: `Invalid value: ${value}: must be between ${schema.min ?? '-inf'} and ${schema.max ?? 'inf'}, inclusive`,
        });
      }
      return;
    case 'map':
      if (typeof value !== 'object' || Array.isArray(value)) {
        out.push({ path, severity: 'error', message: `must be a map (got ${typeName(value)} ${quote(value)})` });
        return;
      }
      for (const [k, v] of Object.entries(value)) checkSchema(v, schema.values, [...path, k], out);
      return;
    case 'array':
      if (!Array.isArray(value)) {
        out.push({ path, severity: 'error', message: `must be a list (got ${typeName(value)} ${quote(value)})`, hint: 'start each item with "- "' });
        return;
      }
      value.forEach((item, i) => {
        if (item === null && (schema.items.t === 'object' || schema.items.t === 'map')) {
          out.push({ path: [...path, i], severity: 'error', message: 'Invalid value: null: a list item is empty', hint: 'remove the stray "-" or fill the item in' });
          return;
        }
        checkSchema(item, schema.items, [...path, i], out);
      });
      return;
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) {
        out.push({ path, severity: 'error', message: `must be an object (got ${typeName(value)} ${quote(value)})` });
        return;
      }
      const obj = value as Record<string, unknown>;
      for (const req of schema.required ?? []) {
        if (obj[req] === undefined || obj[req] === null) {
          out.push({ path: [...path, req], severity: 'error', message: 'Required value' });
        }
      }
      for (const [k, v] of Object.entries(obj)) {
        const fieldSchema = schema.fields[k];
        if (fieldSchema) checkSchema(v, fieldSchema, [...path, k], out);
        else if (schema.closed) {
          const close = Object.keys(schema.fields).find((f) => f.toLowerCase() === k.toLowerCase());
          out.push({
            path: [...path, k],
            severity: 'warning',
            message: 'unknown field; ignored',
            hint: close ? `did you mean "${close}"?` : undefined,
          });
        }
      }
      return;
    }
  }
}
