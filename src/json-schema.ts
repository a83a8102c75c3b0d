/**
 * The part of JSON Schema (draft-07) nebula-faas writes, and a check of JSON values against it:
 * the config file's schema (the one shipped for editors is the one the CLI checks with) and each
 * runtime's source schemas (what a config file or a REST deploy may give). The first problem is
 * reported as one line naming the field (`functions[1].inputs`).
 */
import { shownValue } from './errors.js';
import { own } from './own-keys.js';
import { nearest } from './known-keys.js';

/** A JSON Schema, limited to the keywords used here. */
export interface Schema {
  $schema?: string;
  title?: string;
  description?: string;
  type?: 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object';
  enum?: readonly unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  pattern?: string;
  minItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: readonly string[];
  additionalProperties?: boolean | Schema;
  anyOf?: Schema[];
  default?: unknown;
}

const show = shownValue;

function typeOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeOk(type: NonNullable<Schema['type']>, v: unknown): boolean {
  // JSON has no Infinity, but 1e400 parses to it: no number field takes one.
  if (typeof v === 'number' && !Number.isFinite(v)) return false;
  const t = typeOf(v);
  return t === type || (type === 'number' && t === 'integer');
}

const article = (t: string) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);

/** What a schema accepts, in words ("a whole number >= 1", "one of cold, prewarmed, warm"). */
function expected(s: Schema): string {
  if (s.enum) return `one of ${s.enum.map((e) => (typeof e === 'string' ? e : show(e))).join(', ')}`;
  if (s.const !== undefined) return show(s.const);
  if (s.anyOf) return s.anyOf.map(expected).join(', or ');
  if (s.type === 'integer') return `a whole number${s.minimum !== undefined ? ` >= ${s.minimum}` : ''}`;
  if (s.type === 'number')
    return `a number${s.exclusiveMinimum !== undefined ? ` > ${s.exclusiveMinimum}` : s.minimum !== undefined ? ` >= ${s.minimum}` : ''}${s.maximum !== undefined ? ` up to ${s.maximum}` : ''}`;
  if (s.type === 'string') return s.minLength ? 'a non-empty string' : 'a string';
  if (s.type === 'array') return `a list${s.minItems ? ' (not empty)' : ''}`;
  return s.type ? article(s.type) : 'a value';
}

/** The first problem of `value` against `schema`, as `path what-is-wrong`, or undefined when it conforms. */
export function checkSchema(value: unknown, schema: Schema, path: string): string | undefined {
  if (schema.anyOf) {
    const problems = schema.anyOf.map((s) => checkSchema(value, s, path));
    if (problems.some((p) => p === undefined)) return undefined;
    // Report the branch of the value's own type, if one has it: its problem is the specific one.
    const i = schema.anyOf.findIndex((s) => s.type && typeOk(s.type, value));
    return i >= 0 && schema.anyOf.filter((s) => s.type && typeOk(s.type, value)).length === 1
      ? problems[i]
      : `${path} must be ${expected(schema)}, got ${show(value)}`;
  }
  if (schema.const !== undefined && value !== schema.const)
    return `${path} must be ${show(schema.const)}, got ${show(value)}`;
  if (schema.enum && !schema.enum.includes(value)) {
    const near =
      typeof value === 'string'
        ? nearest(
            value,
            schema.enum.filter((e): e is string => typeof e === 'string'),
          )
        : undefined;
    return `${path} must be ${expected(schema)}, got ${show(value)}${near ? ` (did you mean ${near}?)` : ''}`;
  }
  if (schema.type && !typeOk(schema.type, value)) return `${path} must be ${expected(schema)}, got ${show(value)}`;
  if (typeof value === 'number') {
    if (
      (schema.minimum !== undefined && value < schema.minimum) ||
      (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) ||
      (schema.maximum !== undefined && value > schema.maximum)
    )
      return `${path} must be ${expected(schema)}, got ${show(value)}`;
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength)
      return `${path} must be ${expected(schema)}, got ${show(value)}`;
    if (schema.pattern && !new RegExp(schema.pattern).test(value))
      return `${path} ${schema.description ? `must be ${schema.description}` : `must match ${schema.pattern}`}, got ${show(value)}`;
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      return `${path} must be ${expected(schema)}, got ${show(value)}`;
    if (schema.items)
      for (let i = 0; i < value.length; i++) {
        const p = checkSchema(value[i], schema.items, `${path}[${i}]`);
        if (p) return p;
      }
  }
  if (typeOf(value) === 'object' && (schema.properties || schema.additionalProperties !== undefined)) {
    const obj = value as Record<string, unknown>;
    const known = Object.keys(schema.properties ?? {});
    for (const r of schema.required ?? []) if (!Object.hasOwn(obj, r)) return `${path} needs "${r}"`;
    for (const [k, v] of Object.entries(obj)) {
      const sub = own(schema.properties, k);
      const at = path ? `${path}.${k}` : k;
      if (sub) {
        const p = checkSchema(v, sub, at);
        if (p) return p;
      } else if (schema.additionalProperties === false) {
        const near = nearest(k, known);
        return `${at} is not a known field${near ? ` (did you mean ${near}?)` : ''}; known: ${known.join(', ')}`;
      } else if (typeof schema.additionalProperties === 'object') {
        const p = checkSchema(v, schema.additionalProperties, at);
        if (p) return p;
      }
    }
  }
  return undefined;
}
