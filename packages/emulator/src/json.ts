/**
 * Exact JSON for the emulator. fal's seeds are 64-bit (reference §14): 17454220438242315174
 * does not survive `JSON.parse`/`JSON.stringify` through a double, so integers beyond
 * `Number.MAX_SAFE_INTEGER` are read as `bigint` and written back as their raw digits.
 */

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

/**
 * Parses JSON text; integers that a double cannot hold exactly become `bigint`. Text without a
 * long digit run takes the fast path (`JSON.parse`), so multi-megabyte data URIs stay cheap.
 */
export function parseExact(text: string): unknown {
  if (!LONG_INTEGER.test(text)) return JSON.parse(text);
  return new ExactParser(text).document();
}

class ExactParser {
  private at = 0;

  constructor(private readonly text: string) {}

  document(): unknown {
    const value = this.value();
    this.space();
    if (this.at !== this.text.length) this.fail('unexpected text after the JSON value');
    return value;
  }

  private fail(what: string): never {
    throw new SyntaxError(`Invalid JSON at position ${this.at}: ${what}`);
  }

  private space(): void {
    while (this.at < this.text.length) {
      const c = this.text.charCodeAt(this.at);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.at += 1;
      else break;
    }
  }

  private value(): unknown {
    this.space();
    const c = this.text[this.at];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return value;
      }
    }
    return this.fail('expected a value');
  }

  private object(): Record<string, unknown> {
    this.at += 1;
    const out: Record<string, unknown> = {};
    this.space();
    if (this.text[this.at] === '}') {
      this.at += 1;
      return out;
    }
    for (;;) {
      this.space();
      if (this.text[this.at] !== '"') this.fail('expected a key');
      const key = this.string();
      this.space();
      if (this.text[this.at] !== ':') this.fail('expected ":"');
      this.at += 1;
      out[key] = this.value();
      this.space();
      const next = this.text[this.at];
      this.at += 1;
      if (next === '}') return out;
      if (next !== ',') this.fail('expected "," or "}"');
    }
  }

  private array(): unknown[] {
    this.at += 1;
    const out: unknown[] = [];
    this.space();
    if (this.text[this.at] === ']') {
      this.at += 1;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.space();
      const next = this.text[this.at];
      this.at += 1;
      if (next === ']') return out;
      if (next !== ',') this.fail('expected "," or "]"');
    }
  }

  private string(): string {
    const start = this.at;
    this.at += 1;
    for (;;) {
      const c = this.text[this.at];
      if (c === undefined) this.fail('unterminated string');
      if (c === '\\') this.at += 2;
      else if (c === '"') break;
      else this.at += 1;
    }
    this.at += 1;
    return JSON.parse(this.text.slice(start, this.at)) as string;
  }

  private number(): number | bigint {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(
      this.text.slice(this.at, this.at + 400),
    );
    if (!match) return this.fail('bad number');
    const raw = match[0];
    this.at += raw.length;
    const value = Number(raw);
    if (match[2] === undefined && match[3] === undefined && !Number.isSafeInteger(value)) {
      return BigInt(raw);
    }
    return value;
  }
}

/** Compact JSON like `JSON.stringify`, plus `bigint` written as its digits. */
export function stringifyExact(value: unknown): string {
  return write(value, false) ?? 'null';
}

/**
 * JSON as Python's `json.dumps(value, sort_keys=True)` writes it, which is how fal serialises
 * webhook bodies (reference §14): keys sorted, `", "` and `": "` separators, non-ASCII escaped
 * as `\uXXXX`, floats in Python's `repr` form.
 */
export function pythonDumps(value: unknown): string {
  return write(value, true) ?? 'null';
}

function write(value: unknown, python: boolean): string | undefined {
  switch (typeof value) {
    case 'string':
      return python ? pythonString(value) : JSON.stringify(value);
    case 'bigint':
      return value.toString();
    case 'number':
      if (!Number.isFinite(value)) return 'null';
      return python ? pythonNumber(value) : JSON.stringify(value);
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
  const comma = python ? ', ' : ',';
  if (Array.isArray(value)) {
    return `[${value.map((item) => write(item, python) ?? 'null').join(comma)}]`;
  }
  const record = value as Record<string, unknown>;
  if (typeof (record as { toJSON?: unknown }).toJSON === 'function') {
    return write((record as { toJSON: () => unknown }).toJSON(), python);
  }
  let keys = Object.keys(record);
  if (python) keys = keys.sort();
  const colon = python ? ': ' : ':';
  const parts: string[] = [];
  for (const key of keys) {
    const text = write(record[key], python);
    if (text === undefined) continue;
    parts.push(`${python ? pythonString(key) : JSON.stringify(key)}${colon}${text}`);
  }
  return `{${parts.join(comma)}}`;
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
