import * as v from 'valibot';
import { classifyFileRef } from '../media/file-ref.js';
import type { FieldSpec, ModelDefinition } from './definition.js';

/**
 * Compiles model definitions into valibot schemas. Messages are short codes (`empty`,
 * `file`); `issues.ts` turns each valibot issue into a readable message using the field's
 * spec and path, because only then is the full path known.
 */

/** Message code for a required value that is present but empty. */
export const EMPTY = 'empty';
/** Message code for a file value that is neither URL, data URI nor path. */
export const BAD_FILE = 'file';
/** Message code for an integer given as a double beyond 2^53 (its digits are already lost). */
export const UNSAFE_INTEGER = 'unsafe-integer';

type Schema = v.GenericSchema<unknown, unknown>;

const isFilled = (value: unknown): boolean => {
  if (typeof value === 'string') return value.trim() !== '';
  if (Array.isArray(value)) return value.length > 0;
  return true;
};

function compileType(spec: FieldSpec): Schema {
  switch (spec.type) {
    case 'string': {
      if (spec.enum) return v.picklist(spec.enum.map(String)) as Schema;
      const actions: v.PipeItem<string, string, v.BaseIssue<unknown>>[] = [];
      if (spec.minLength !== undefined) actions.push(v.minLength(spec.minLength));
      if (spec.maxLength !== undefined) actions.push(v.maxLength(spec.maxLength));
      return v.pipe(v.string(), ...actions) as Schema;
    }
    case 'number': {
      if (spec.enum) return v.picklist(spec.enum.map(Number)) as Schema;
      // A bigint (an integer beyond 2^53) is refused here: a number field is a double at fal,
      // which would round it. issues.ts says so instead of a plain type error.
      const actions: v.PipeItem<number, number, v.BaseIssue<unknown>>[] = [v.finite()];
      if (spec.minimum !== undefined) actions.push(v.minValue(spec.minimum));
      if (spec.maximum !== undefined) actions.push(v.maxValue(spec.maximum));
      return v.pipe(v.number(), ...actions) as Schema;
    }
    case 'integer': {
      if (spec.enum) return v.picklist(spec.enum.map(Number)) as Schema;
      // Integers beyond 2^53 arrive as bigint (exact JSON, `--set`) and are kept exact; a
      // double beyond 2^53 has already lost digits and is refused rather than sent rounded.
      // The bounds compare bigint and number exactly (JavaScript's mixed `<`/`>=` are exact).
      const whole = v.union([
        v.pipe(
          v.number(),
          v.finite(),
          v.integer(),
          v.check((n: number) => Number.isSafeInteger(n), UNSAFE_INTEGER),
        ),
        v.bigint(),
      ]);
      type Whole = number | bigint;
      const actions: v.PipeItem<Whole, Whole, v.BaseIssue<unknown>>[] = [];
      if (spec.minimum !== undefined) actions.push(v.minValue<Whole, Whole>(spec.minimum));
      if (spec.maximum !== undefined) actions.push(v.maxValue<Whole, Whole>(spec.maximum));
      return v.pipe(whole, ...actions) as Schema;
    }
    case 'boolean':
      return v.boolean() as Schema;
    case 'file':
      return v.pipe(
        v.string(),
        v.check((s) => s.trim() === '' || classifyFileRef(s).kind !== 'invalid', BAD_FILE),
      ) as Schema;
    case 'array': {
      const item = spec.items ? compileField(spec.items, true) : v.unknown();
      const actions: v.PipeItem<unknown[], unknown[], v.BaseIssue<unknown>>[] = [];
      // A required array is already checked to be non-empty ("Empty required field").
      if (spec.minItems !== undefined && !(spec.required && spec.minItems <= 1))
        actions.push(v.minLength(spec.minItems));
      if (spec.maxItems !== undefined) actions.push(v.maxLength(spec.maxItems));
      return v.pipe(v.array(item), ...actions) as Schema;
    }
    case 'object':
      return compileObject(spec.properties ?? {});
  }
}

/** One field; `inArray` items are always present, so they are never optional. */
export function compileField(spec: FieldSpec, inArray = false): Schema {
  const base = compileType(spec);
  if (inArray) {
    // A file item must not be an empty string.
    return spec.type === 'file' || spec.type === 'string'
      ? (v.pipe(v.unknown(), v.check(isFilled, EMPTY), base) as Schema)
      : base;
  }
  if (spec.required) {
    return v.pipe(
      v.unknown(),
      v.check((x) => x !== null && x !== undefined, 'missing'),
      v.check(isFilled, EMPTY),
      base,
    ) as Schema;
  }
  // fal's schemas accept an explicit null for an optional field ("not set"); it is sent as is.
  return v.nullish(base) as Schema;
}

/** A loose object: unknown keys pass here and are reported as warnings elsewhere. */
export function compileObject(properties: Readonly<Record<string, FieldSpec>>): Schema {
  const entries: Record<string, Schema> = {};
  for (const [name, spec] of Object.entries(properties)) entries[name] = compileField(spec);
  return v.looseObject(entries) as Schema;
}

const cache = new WeakMap<ModelDefinition, Schema>();

/** The input schema of a model, compiled once per definition object. */
export function inputSchema(def: ModelDefinition): Schema {
  let schema = cache.get(def);
  if (!schema) {
    schema = compileObject(def.input);
    cache.set(def, schema);
  }
  return schema;
}

/** The spec at a path inside an input (`['elements', 0, 'frontal_image_url']`). */
export function specAt(
  def: Pick<ModelDefinition, 'input'>,
  path: readonly (string | number)[],
): FieldSpec | undefined {
  let props: Readonly<Record<string, FieldSpec>> | undefined = def.input;
  let spec: FieldSpec | undefined;
  for (const key of path) {
    if (spec?.type === 'array') {
      spec = spec.items;
      props = spec?.properties;
      if (typeof key === 'number' || /^\d+$/.test(String(key))) continue;
    }
    if (!props) return undefined;
    spec = Object.hasOwn(props, String(key)) ? props[String(key)] : undefined;
    if (!spec) return undefined;
    props = spec.properties;
  }
  return spec;
}

/** The dotted keyword path of a spec inside the model file (`input.elements.items.properties.x`). */
export function definitionPath(path: readonly (string | number)[]): string {
  const parts: string[] = ['input'];
  let first = true;
  for (const key of path) {
    if (typeof key === 'number') {
      parts.push('items');
      continue;
    }
    if (!first) parts.push('properties');
    parts.push(key);
    first = false;
  }
  return parts.join('.');
}
