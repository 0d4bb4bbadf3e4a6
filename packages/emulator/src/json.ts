/**
 * Exact JSON for the emulator. fal's seeds are 64-bit (reference §14): 17454220438242315174
 * does not survive `JSON.parse`/`JSON.stringify` through a double, so integers beyond
 * `Number.MAX_SAFE_INTEGER` are read as `bigint` and written back as their raw digits.
 */

import { parse, stringify } from 'lossless-json';

/** A JSON value as the emulator reads and writes it: unsafe integers are `bigint`. */
export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

// An integer literal of 16+ digits may exceed 2^53; shorter ones never do.
const LONG_INTEGER = /\d{16,}/;

/** An integer a double cannot hold exactly is a `bigint`; every other number a `number`. */
function parseNumber(text: string): number | bigint {
  const value = Number(text);
  return /^-?\d+$/.test(text) && !Number.isSafeInteger(value) ? BigInt(text) : value;
}

/**
 * Parses JSON text (lossless-json); integers that a double cannot hold exactly become `bigint`.
 * Text without a long digit run takes the fast path (`JSON.parse`), so multi-megabyte data
 * URIs stay cheap. Throws `SyntaxError` on invalid JSON.
 */
export function parseExact(text: string): unknown {
  if (!LONG_INTEGER.test(text)) return JSON.parse(text);
  return parse(text, null, parseNumber);
}

/** Compact JSON like `JSON.stringify` (lossless-json), plus `bigint` written as its digits. */
export function stringifyExact(value: unknown): string {
  return stringify(value) ?? 'null';
}

/**
 * JSON as Python's `json.dumps(value, sort_keys=True)` writes it, which is how fal serialises
 * webhook bodies (reference §14): keys sorted, `", "` and `": "` separators, non-ASCII escaped
 * as `\uXXXX`, floats in Python's `repr` form, `bigint` as its digits.
 */
export function pythonDumps(value: unknown): string {
  return write(value) ?? 'null';
}

function write(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return pythonString(value);
    case 'bigint':
      return value.toString();
    case 'number':
      return Number.isFinite(value) ? pythonNumber(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    default:
      break;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map((item) => write(item) ?? 'null').join(', ')}]`;
  const record = value as Record<string, unknown>;
  if (typeof (record as { toJSON?: unknown }).toJSON === 'function') {
    return write((record as { toJSON: () => unknown }).toJSON());
  }
  const parts: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const text = write(record[key]);
    if (text !== undefined) parts.push(`${pythonString(key)}: ${text}`);
  }
  return `{${parts.join(', ')}}`;
}

const PY_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** Python's `ensure_ascii` string form: everything outside space..`~` is escaped. */
function pythonString(text: string): string {
  let out = '"';
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string;
    const code = text.charCodeAt(index);
    const escaped = PY_ESCAPES[char];
    if (escaped) out += escaped;
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += char;
  }
  return `${out}"`;
}

/**
 * Python's float `repr`: the shortest round-trip digits (as JavaScript finds them), in fixed
 * notation for decimal exponents -4..15 and as `d.ddde±XX` otherwise. Integral values are
 * written as integers: a JavaScript number does not say whether Python held an int or a float
 * [?] (fal's `2.0` would read `2` here).
 */
export function pythonNumber(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e16) return String(value);
  const [mantissa = '0', exponentText = '0'] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  let body: string;
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) body = `0.${'0'.repeat(-exponent - 1)}${digits}`;
    else if (digits.length > exponent + 1) {
      body = `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
    } else body = `${digits}${'0'.repeat(exponent + 1 - digits.length)}.0`;
  } else {
    const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : `${digits}`;
    const sign = exponent < 0 ? '-' : '+';
    body = `${head}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return negative ? `-${body}` : body;
}

function containsBigint(value: unknown): boolean {
  if (typeof value === 'bigint') return true;
  if (value === null || typeof value !== 'object') return false;
  return Object.values(value).some(containsBigint);
}

/**
 * A copy safe for `JSON.stringify` (the request log): `bigint` becomes a number, rounded. The
 * exact value stays on the job (`emulator.job(id).input`).
 */
export function loggable(value: unknown): unknown {
  return containsBigint(value) ? JSON.parse(stringifyExact(value)) : value;
}
