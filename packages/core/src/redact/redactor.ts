import { stringifyJsonExact } from '../json/exact.js';
import { unquoteKey } from './mask.js';

/** What a secret is replaced with, in a record, a printed line or an answer. */
export const REDACTED_SECRET = '[redacted]';

/** Values shorter than this are never treated as secrets, so ordinary words are left alone. */
const MIN_SECRET_LENGTH = 8;

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

/**
 * Keeps the FAL keys of one caller out of what it prints, stores and answers. It is created
 * where settings and credentials are resolved (`resolveSettings` gives `settings.redactor`;
 * `resolveCredentials` adds every key it reads to it) and passed to whatever writes: stores
 * (their `redactor` option), the CLI's sanitiser, the webhook receiver, the MCP server. There
 * is no process-wide list: two redactors never know each other's keys.
 */
export interface Redactor {
  /**
   * Adds a key (`id:secret`, or a bare secret), so that it, its key id and its secret half
   * are redacted from now on. A pair of surrounding quotes is removed first; values shorter
   * than 8 characters are ignored.
   */
  add(key: string): void;
  /** The strings {@link scrub} removes: each key and its secret half, longest first. */
  secrets(): readonly string[];
  /**
   * Text about to be printed or answered: each key, its key id and its secret half, written
   * plainly or URL-encoded (any mix of `%XX` escapes, in either case), becomes `[redacted]`.
   * Safe on JSON text: the replacement holds no character JSON escapes.
   */
  redact(text: string): string;
  /** {@link redact} applied to every string and object key of a value, at any depth. */
  redactValue<T>(value: T): T;
  /**
   * The store rule: each key and its secret half, plainly or URL-encoded, becomes
   * `[redacted]` in strings and object keys at any depth (the key id alone is kept: records
   * may name it). Returns `value` itself when it holds none of them.
   */
  scrub<T>(value: T): T;
}

/** The keys a value names: the key without surrounding quotes, when long enough. */
function cleanKey(raw: string): string | undefined {
  const { key } = unquoteKey(raw);
  return key.length >= MIN_SECRET_LENGTH ? key : undefined;
}

/**
 * A redactor holding `keys`, plus (when given) the keys `more` yields at each use, for a
 * source that may change (an environment a test edits). Keys can be added later with `add`.
 */
export function createRedactor(
  keys: Iterable<string> = [],
  more?: () => Iterable<string>,
): Redactor {
  const own = new Set<string>();
  const add = (raw: string): void => {
    const key = cleanKey(raw);
    if (key !== undefined) own.add(key);
  };
  for (const key of keys) add(key);
  const partsOf = (keysNow: Iterable<string>, withId: boolean): string[] => {
    const out = new Set<string>();
    for (const key of keysNow) {
      out.add(key);
      const colon = key.indexOf(':');
      if (colon < 0) continue;
      if (withId) out.add(key.slice(0, colon));
      out.add(key.slice(colon + 1));
    }
    return [...out]
      .filter((part) => part.length >= MIN_SECRET_LENGTH)
      .sort((a, b) => b.length - a.length);
  };
  // Called on every store write and printed line: the forms are worked out again only when a
  // key was added or the extra source (the environment) answers differently.
  let memo:
    | { readonly id: string; readonly withId: string[]; readonly plain: string[] }
    | undefined;
  const parts = (withId: boolean): string[] => {
    const raw = more ? [...more()] : [];
    const id = `${own.size}\n${raw.join('\n')}`;
    if (memo?.id !== id) {
      const all = new Set(own);
      for (const text of raw) {
        const key = cleanKey(text);
        if (key !== undefined) all.add(key);
      }
      memo = { id, withId: partsOf(all, true), plain: partsOf(all, false) };
    }
    return withId ? memo.withId : memo.plain;
  };
  let cached: { readonly id: string; readonly pattern: RegExp | undefined } | undefined;
  const pattern = (): RegExp | undefined => {
    const forms = parts(true);
    const id = forms.join('\n');
    if (cached?.id !== id) {
      cached = {
        id,
        pattern:
          forms.length === 0 ? undefined : new RegExp(forms.map(encodedForms).join('|'), 'g'),
      };
    }
    if (cached.pattern) cached.pattern.lastIndex = 0;
    return cached.pattern;
  };
  const redact = (text: string): string => {
    const found = pattern();
    return found ? text.replace(found, REDACTED_SECRET) : text;
  };
  const redactor: Redactor = {
    add,
    secrets: () => [...parts(false)],
    redact,
    redactValue: <T>(value: T): T => (pattern() ? (mapStrings(value, redact) as T) : value),
    scrub: <T>(value: T): T => scrubWith(value, parts(false)),
  };
  // Never shows what it holds: not in JSON, not in `util.inspect`, not in a spread.
  Object.defineProperties(redactor, {
    toJSON: { value: () => '[Redactor]', enumerable: false },
    [inspectSymbol]: { value: () => 'Redactor { [redacted] }', enumerable: false },
  });
  return Object.freeze(redactor);
}

/** A pattern matching `secret` with any of its characters written as itself or `%XX`. */
function encodedForms(secret: string): string {
  let out = '';
  for (const char of secret) {
    const literal = char.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    const bytes = [...Buffer.from(char, 'utf8')].map((byte) => `%${hexDigits(byte)}`).join('');
    out += `(?:${literal}|${bytes})`;
  }
  return out;
}

/** The two hex digits of a byte, each in either case (`%2f` and `%2F` are the same). */
function hexDigits(byte: number): string {
  return [...byte.toString(16).padStart(2, '0')]
    .map((digit) => (/[a-f]/.test(digit) ? `[${digit}${digit.toUpperCase()}]` : digit))
    .join('');
}

/** `value` with `map` applied to every string and object key, at any depth. */
function mapStrings(value: unknown, map: (text: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // defineProperty, so a `__proto__` key (JSON.parse makes it an own key) stays a key.
      Object.defineProperty(out, map(key), {
        value: mapStrings(item, map),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

/**
 * Replaces every occurrence of each of `secrets`, as it is and URL-encoded (`id%3Asecret`, as
 * a URL or fal's echo carries it), with `[redacted]`, in strings and object keys at any depth.
 * Returns `value` itself when its JSON holds none of them (the usual case: no walk, no copy).
 * Empty strings in `secrets` are ignored.
 */
export function scrubWith<T>(value: T, secrets: readonly string[]): T {
  // Longest first, so the whole encoded key is replaced, not only its secret half (which
  // would leave the key id behind).
  const plain = secrets.filter((secret) => secret.length > 0);
  const all = [...new Set([...plain, ...plain.map((secret) => encodeURIComponent(secret))])].sort(
    (a, b) => b.length - a.length,
  );
  if (all.length === 0) return value;
  const text = jsonOf(value);
  if (text === undefined || !all.some((secret) => text.includes(secret))) return value;
  return mapStrings(value, (item) => {
    let out = item;
    for (const secret of all) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED_SECRET);
    }
    return out;
  }) as T;
}

/** `JSON.stringify` that writes a `bigint` (an integer beyond 2^53) as its exact digits. */
export function jsonOf(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (error instanceof TypeError && /bigint/i.test(error.message)) {
      return stringifyJsonExact(value);
    }
    throw error;
  }
}
