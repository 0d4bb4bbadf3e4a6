import type { FieldSpec, ModelDefinition } from './definition.js';

function fieldSchema(spec: FieldSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  switch (spec.type) {
    case 'file':
      out.type = 'string';
      out['x-falai-file'] = spec.media ?? 'file';
      if (spec.formats) out['x-falai-formats'] = spec.formats;
      break;
    case 'array':
      out.type = 'array';
      if (spec.items) out.items = fieldSchema(spec.items);
      if (spec.minItems !== undefined) out.minItems = spec.minItems;
      if (spec.maxItems !== undefined) out.maxItems = spec.maxItems;
      break;
    case 'object':
      Object.assign(out, objectSchema(spec.properties ?? {}));
      break;
    default:
      out.type = spec.type;
  }
  if (spec.description) out.description = spec.description;
  if (spec.enum) out.enum = spec.enum;
  if (spec.default !== undefined) out.default = spec.default;
  if (spec.minimum !== undefined) out.minimum = spec.minimum;
  if (spec.maximum !== undefined) out.maximum = spec.maximum;
  if (spec.minLength !== undefined) out.minLength = spec.minLength;
  if (spec.maxLength !== undefined) out.maxLength = spec.maxLength;
  if (spec.example !== undefined) out.examples = [spec.example];
  return out;
}

function objectSchema(props: Readonly<Record<string, FieldSpec>>): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const [name, spec] of Object.entries(props)) {
    properties[name] = fieldSchema(spec);
    if (spec.required) required.push(name);
  }
  return { type: 'object', properties, ...(required.length ? { required } : {}) };
}

/**
 * A model's input as JSON Schema (2020-12), for `model-info --json` and agents that speak
 * JSON Schema. File fields are strings marked with `x-falai-file`.
 */
export function toJsonSchema(def: ModelDefinition): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `falai:${def.endpointId}`,
    title: def.name,
    description: def.description,
    ...objectSchema(def.input),
    examples: [def.example],
  };
}
