import { InputError } from '../errors/falai-error.js';
import { parseJsonExact } from '../json/exact.js';
import { assertSafeInput, assertSafePath } from '../json/unsafe-keys.js';
import { isObject } from '../json/values.js';
import { specAt } from './compile.js';
import type { FieldSpec } from './definition.js';
import type { ModelRegistry } from './registry.js';

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;
const INTEGER = /^[+-]?\d+$/;
const TRUE = new Set(['true', 'yes', 'on', '1']);
const FALSE = new Set(['false', 'no', 'off', '0']);

function parseKey(key: string): (string | number)[] {
  return key.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/** JSON if it parses (integers beyond 2^53 stay exact, as bigint), else the text itself. */
function jsonOr(raw: string): unknown {
  try {
    return parseJsonExact(raw);
  } catch {
    return raw;
  }
}

/**
 * A number from `--set` text. Plain integers a double cannot hold (64-bit seeds such as
 * 17454220438242315174) become a bigint with every digit kept; `Number()` would round them
 * and send a different seed. Validation decides whether the field can hold the value.
 */
function parseNumber(text: string): number | bigint {
  const value = Number(text);
  if (INTEGER.test(text) && !Number.isSafeInteger(value)) return BigInt(text);
  return value;
}

function coerceScalar(spec: FieldSpec, raw: string): unknown {
  // `null` is how fal's schemas spell "not set" for an optional field; strings and file
  // paths keep the text, since "null" is a valid prompt or file name.
  if (raw.trim() === 'null' && spec.type !== 'string' && spec.type !== 'file') return null;
  switch (spec.type) {
    case 'integer':
    case 'number':
      return NUMBER.test(raw.trim()) ? parseNumber(raw.trim()) : raw;
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
 * Unknown endpoints or fields: JSON if it parses, else the string. Integers beyond 2^53
 * stay exact (bigint); `null` clears an optional non-string field. A key or JSON value
 * naming `__proto__`, `constructor` or `prototype` is refused (INPUT_INVALID).
 */
export function coerceSetValue(
  registry: Pick<ModelRegistry, 'get'>,
  endpointId: string,
  key: string,
  raw: string,
): unknown {
  const path = parseKey(key);
  assertSafePath(path, `--set ${key}`);
  const def = registry.get(endpointId);
  const spec = def ? specAt(def, path) : undefined;
  const value = spec ? coerceScalar(spec, raw) : jsonOr(raw);
  assertSafeInput(value, `--set ${key}`);
  return value;
}

const own = (container: object, key: string | number): unknown =>
  Object.hasOwn(container, key) ? (container as Record<string | number, unknown>)[key] : undefined;

/** A list index may append (`elements.1` after one item) but never skip ahead. */
function checkIndex(container: unknown, part: string | number, key: string): void {
  if (typeof part !== 'number' || !Array.isArray(container) || part <= container.length) return;
  throw new InputError(
    `--set ${key}: index ${part} skips items; ${container.length === 0 ? 'the list is empty, so start at 0' : `the list has ${container.length}, so the next index is ${container.length}`}.`,
    [
      {
        path: [],
        kind: 'index',
        message: `index ${part} skips items`,
        hint: `use index ${container.length}`,
      },
    ],
  );
}

/**
 * Applies one `--set key=value` to an input object: creates nested objects and lists on
 * the way, and appends when the field is a list that already has items (repeated keys).
 * Only own properties are followed, so nothing inherited is ever read or written.
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
    checkIndex(target, part, key);
    let child = own(target, part);
    if (!isObject(child) && !Array.isArray(child)) {
      child = typeof next === 'number' ? [] : {};
      (target as Record<string | number, unknown>)[part] = child;
    }
    target = child as Record<string | number, unknown>;
  }
  const last = path[path.length - 1] as string | number;
  checkIndex(target, last, key);
  const container = target as Record<string | number, unknown>;
  const existing = own(container, last);
  if (Array.isArray(existing) && Array.isArray(value)) container[last] = [...existing, ...value];
  else container[last] = value;
  return input;
}
