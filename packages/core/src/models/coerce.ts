import { specAt } from './compile.js';
import type { FieldSpec } from './definition.js';
import { isObject } from './file-fields.js';
import type { ModelRegistry } from './registry.js';

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;
const TRUE = new Set(['true', 'yes', 'on', '1']);
const FALSE = new Set(['false', 'no', 'off', '0']);

function parseKey(key: string): (string | number)[] {
  return key.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

function jsonOr(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function coerceScalar(spec: FieldSpec, raw: string): unknown {
  switch (spec.type) {
    case 'integer':
    case 'number':
      return NUMBER.test(raw.trim()) ? Number(raw) : raw;
    case 'boolean': {
      const lower = raw.trim().toLowerCase();
      if (TRUE.has(lower)) return true;
      if (FALSE.has(lower)) return false;
      return raw;
    }
    case 'object':
      return jsonOr(raw);
    case 'array':
      return coerceArray(spec, raw);
    default:
      return raw;
  }
}

function coerceArray(spec: FieldSpec, raw: string): unknown {
  const trimmed = raw.trim();
  if (trimmed.startsWith('[')) {
    const parsed = jsonOr(trimmed);
    if (Array.isArray(parsed)) return parsed;
  }
  const items = spec.items ?? { type: 'string' };
  if (items.type === 'object') {
    const parsed = jsonOr(trimmed);
    return [parsed];
  }
  // A data URI holds a comma itself, so it is always one item.
  const parts = /^data:/i.test(trimmed) ? [trimmed] : trimmed.split(',').map((p) => p.trim());
  return parts.filter((p) => p !== '').map((p) => coerceScalar(items, p));
}

/**
 * Turns the text of a CLI `--set key=value` into the value the model expects: numbers,
 * booleans, lists (`image_urls=a.png,b.png`), JSON for objects, strings for enums such as
 * `safety_tolerance`. Nested keys (`elements.0.frontal_image_url`) follow the model.
 * Unknown endpoints or fields: JSON if it parses, else the string.
 */
export function coerceSetValue(
  registry: Pick<ModelRegistry, 'get'>,
  endpointId: string,
  key: string,
  raw: string,
): unknown {
  const def = registry.get(endpointId);
  const spec = def ? specAt(def, parseKey(key)) : undefined;
  if (!spec) return jsonOr(raw);
  return coerceScalar(spec, raw);
}

/**
 * Applies one `--set key=value` to an input object: creates nested objects and lists on
 * the way, and appends when the field is a list that already has items (repeated keys).
 */
export function setInputValue(
  registry: Pick<ModelRegistry, 'get'>,
  endpointId: string,
  input: Record<string, unknown>,
  key: string,
  raw: string,
): Record<string, unknown> {
  const path = parseKey(key);
  const value = coerceSetValue(registry, endpointId, key, raw);
  let target: Record<string | number, unknown> | unknown[] = input;
  for (let i = 0; i < path.length - 1; i++) {
    const part = path[i] as string | number;
    const next = path[i + 1];
    const container = target as Record<string | number, unknown>;
    let child = container[part];
    if (!isObject(child) && !Array.isArray(child)) {
      child = typeof next === 'number' ? [] : {};
      container[part] = child;
    }
    target = child as Record<string | number, unknown>;
  }
  const last = path[path.length - 1] as string | number;
  const container = target as Record<string | number, unknown>;
  const existing = container[last];
  if (Array.isArray(existing) && Array.isArray(value)) container[last] = [...existing, ...value];
  else container[last] = value;
  return input;
}
