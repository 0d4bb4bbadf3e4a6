import { isSafeNumber, parse, stringify } from 'lossless-json';

/**
 * JSON that keeps integers exact. fal's seeds are 64-bit and `JSON.parse` rounds every
 * integer above 2^53 to the nearest double (17454220438242315174 → 17454220438242314000),
 * which silently changes the image a re-run makes. Here an integer that a double cannot hold
 * becomes a `bigint`; every other number stays a `number`, so ordinary values look exactly as
 * `JSON.parse` would give them. `stringifyJsonExact` writes a `bigint` as its plain digits.
 */

/** Numbers a double holds exactly stay numbers; integers beyond 2^53 become bigints. */
function parseNumber(text: string): number | bigint {
  if (isSafeNumber(text)) return Number(text);
  if (/^-?\d+$/.test(text)) return BigInt(text);
  // A long decimal ("0.1000000000000000055511") or an exponent: a double is what fal meant.
  return Number(text);
}

/** `JSON.parse` that keeps integers beyond 2^53 exact (as `bigint`). Throws `SyntaxError`. */
export function parseJsonExact(text: string): unknown {
  // Every integer of 15 digits or fewer is exact as a double, so text without a run of 16
  // digits takes the native parser (lossless-json is ~50× slower on a large body).
  if (!LONG_DIGITS.test(text)) return JSON.parse(text);
  return parse(text, null, parseNumber);
}

const LONG_DIGITS = /\d{16}/;

/**
 * `JSON.stringify` that writes `bigint` values as plain integers. `space` as in
 * `JSON.stringify`. Returns `undefined` for `undefined` input, as `JSON.stringify` does.
 */
export function stringifyJsonExact(value: unknown, space?: number | string): string {
  const text = stringify(value, undefined, space);
  if (text === undefined) throw new TypeError('value is not serialisable as JSON');
  return text;
}

/** True when `value` is an integer too large for a double (a `bigint` from `parseJsonExact`). */
export function isExactBigInteger(value: unknown): value is bigint {
  return typeof value === 'bigint';
}
