import { createHash } from 'node:crypto';
import { stringifyJsonExact } from '../json/exact.js';

/**
 * What a record keeps of a model output. fal can answer with inline `data:` URIs (sync mode)
 * or with huge values, and a record is read whole by every command: two ~290 MB results once
 * made a file store no command could read again (issue #11, item 8). So a record never holds
 * the payload itself, only a bounded summary with references: http(s) URLs as they are, and
 * for a data URI its digest, size and type (plus the file it was written to, when it was).
 */

/** The key that marks a value replaced by a reference in a summarised output. */
export const OMITTED_KEY = '$omitted';

/** A value {@link summariseOutput} left out of the record, and what identifies it. */
export type OmittedOutput =
  | {
      /** An inline `data:` URI: the bytes are not in the record. */
      readonly $omitted: 'data-uri';
      /** The type the URI declared (`application/octet-stream` when it declared none). */
      readonly mime: string;
      /** Decoded bytes. */
      readonly size: number;
      /** `sha256:<hex>` of the decoded bytes. */
      readonly digest: string;
      /** Where the bytes were written, when the caller saved them (e.g. the webhook receiver). */
      readonly path?: string;
    }
  | {
      /** A string longer than `maxStringLength`. */
      readonly $omitted: 'text';
      /** Its length in UTF-16 code units. */
      readonly length: number;
      /** `sha256:<hex>` of its UTF-8 bytes. */
      readonly digest: string;
      /** Its first 200 characters. */
      readonly preview: string;
    }
  | {
      /** Items past `maxItems` in an array, or keys past it in an object. */
      readonly $omitted: 'items';
      readonly count: number;
    }
  | {
      /** A value nested deeper than `maxDepth`, or a whole output over `maxBytes`. */
      readonly $omitted: 'value';
      /** Serialised size in bytes, when the whole output was too large. */
      readonly size?: number;
      readonly digest?: string;
      /** The output's file references (URLs and data-URI summaries), at most 100. */
      readonly references?: readonly unknown[];
    };

/** Limits of {@link summariseOutput}. */
export interface OutputSummaryOptions {
  /** Longest string kept as it is; longer ones become an `$omitted: 'text'` reference. @default 16_384 */
  readonly maxStringLength?: number;
  /** Items kept per array and keys per object; the rest are counted, not kept. @default 1_000 */
  readonly maxItems?: number;
  /** Nesting kept; deeper values become `$omitted: 'value'`. @default 32 */
  readonly maxDepth?: number;
  /**
   * Serialised size of the whole summary. Past it, only the output's references (http(s) URLs
   * and data-URI summaries, at most 100) are kept. @default 262_144 (256 KiB)
   */
  readonly maxBytes?: number;
  /** Files the caller wrote for inline data URIs, by `sha256:<hex>` of their bytes: kept as `path`. */
  readonly files?: ReadonlyMap<string, string>;
}

/** The defaults of {@link OutputSummaryOptions}. */
export const DEFAULT_OUTPUT_SUMMARY_LIMITS: {
  readonly maxStringLength: number;
  readonly maxItems: number;
  readonly maxDepth: number;
  readonly maxBytes: number;
} = { maxStringLength: 16_384, maxItems: 1_000, maxDepth: 32, maxBytes: 256 * 1024 };

const PREVIEW_CHARACTERS = 200;
const MAX_REFERENCES = 100;
/** base64 characters decoded per step (a multiple of 4): memory stays at one step's bytes. */
const DECODE_STEP = 64 * 1024;
const MIME = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/** True for a string that is an inline `data:` URI. */
export function isDataUri(value: unknown): value is string {
  return typeof value === 'string' && /^data:/i.test(value);
}

/** A `data:` URI's declared type and its bytes, decoded a step at a time. */
export interface DecodedDataUri {
  readonly mime: string;
  /** The bytes in order; iterable more than once, each pass decodes again. */
  readonly chunks: Iterable<Buffer>;
}

/**
 * Splits a data URI into its declared type and its bytes without decoding it all at once:
 * base64 is decoded `DECODE_STEP` characters at a time, so a 20 MB URI never needs a second
 * 15 MB buffer. A URI without a comma decodes to no bytes.
 */
export function decodeDataUri(uri: string): DecodedDataUri {
  const comma = uri.indexOf(',');
  const header = comma < 0 ? uri.slice(5) : uri.slice(5, comma);
  const declared = header.split(';')[0]?.trim().toLowerCase() ?? '';
  const mime = MIME.test(declared) ? declared : 'application/octet-stream';
  const base64 = /;base64$/i.test(header.trim());
  const start = comma < 0 ? uri.length : comma + 1;
  const chunks: Iterable<Buffer> = {
    *[Symbol.iterator]() {
      if (!base64) {
        let text: string;
        try {
          text = decodeURIComponent(uri.slice(start));
        } catch {
          text = uri.slice(start);
        }
        yield Buffer.from(text, 'utf8');
        return;
      }
      for (let at = start; at < uri.length; at += DECODE_STEP) {
        yield Buffer.from(uri.slice(at, Math.min(uri.length, at + DECODE_STEP)), 'base64');
      }
    },
  };
  return { mime, chunks };
}

/** The digest, size and type of a data URI's bytes. */
export function describeDataUri(uri: string): { mime: string; size: number; digest: string } {
  const { mime, chunks } = decodeDataUri(uri);
  const hash = createHash('sha256');
  let size = 0;
  for (const chunk of chunks) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { mime, size, digest: `sha256:${hash.digest('hex')}` };
}

function textDigest(text: string): string {
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The part of a model output a record may keep. Inline `data:` URIs become
 * `{ $omitted: 'data-uri', mime, size, digest, path? }` (the path from `files`, when the caller
 * saved the bytes); strings over `maxStringLength` become `{ $omitted: 'text', length, digest,
 * preview }`; arrays and objects keep `maxItems` entries and count the rest; nesting stops at
 * `maxDepth`. http(s) URLs and every other ordinary value stay exactly as they are (bigints
 * included), so a summary of a normal result equals the result. If the summary is still over
 * `maxBytes` serialised, only its references are kept. Pure: the same output and options give
 * the same summary, so a replayed delivery writes the same record.
 *
 * This is the one rule for putting an output in a record: the webhook receiver and the CLI's
 * finalise step both call it.
 */
export function summariseOutput(output: unknown, options: OutputSummaryOptions = {}): unknown {
  const limits = { ...DEFAULT_OUTPUT_SUMMARY_LIMITS, ...definedOnly(options) };
  const references: unknown[] = [];
  const visit = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') {
      if (/^data:/i.test(value)) {
        const described = describeDataUri(value);
        const path = options.files?.get(described.digest);
        const summary = { [OMITTED_KEY]: 'data-uri', ...described, ...(path ? { path } : {}) };
        if (references.length < MAX_REFERENCES) references.push(summary);
        return summary;
      }
      if (value.length > limits.maxStringLength) {
        return {
          [OMITTED_KEY]: 'text',
          length: value.length,
          digest: textDigest(value),
          preview: value.slice(0, PREVIEW_CHARACTERS),
        };
      }
      if (/^https?:\/\//i.test(value) && references.length < MAX_REFERENCES) {
        references.push(value);
      }
      return value;
    }
    if (typeof value !== 'object' || value === null) return value;
    if (depth >= limits.maxDepth) return { [OMITTED_KEY]: 'value' };
    if (Array.isArray(value)) {
      const kept = value.slice(0, limits.maxItems).map((item) => visit(item, depth + 1));
      if (value.length > limits.maxItems) {
        kept.push({ [OMITTED_KEY]: 'items', count: value.length - limits.maxItems });
      }
      return kept;
    }
    if (!isPlainObject(value)) return value;
    const out: Record<string, unknown> = {};
    let count = 0;
    for (const [key, item] of Object.entries(value)) {
      if (count >= limits.maxItems) break;
      count += 1;
      // A key as long as a payload is as bad as a value; keys are short in any real output.
      if (key.length > limits.maxStringLength || isDataUri(key)) continue;
      Object.defineProperty(out, key, {
        value: visit(item, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    const total = Object.keys(value).length;
    if (total > count) out[OMITTED_KEY] = { [OMITTED_KEY]: 'items', count: total - count };
    return out;
  };
  const summary = visit(output, 0);
  const text = serialised(summary);
  if (text === undefined || Buffer.byteLength(text) <= limits.maxBytes) return summary;
  const whole = serialised(output);
  return {
    [OMITTED_KEY]: 'value',
    ...(whole === undefined ? {} : { size: Buffer.byteLength(whole), digest: textDigest(whole) }),
    references: fitReferences(references, limits.maxBytes),
  };
}

/** The references that fit in about half the byte budget (the rest is the marker itself). */
function fitReferences(references: readonly unknown[], maxBytes: number): unknown[] {
  const kept: unknown[] = [];
  let size = 2;
  for (const reference of references) {
    size += Buffer.byteLength(serialised(reference) ?? '') + 1;
    if (size > maxBytes / 2) break;
    kept.push(reference);
  }
  return kept;
}

function serialised(value: unknown): string | undefined {
  try {
    return stringifyJsonExact(value);
  } catch {
    return undefined;
  }
}

function definedOnly(options: OutputSummaryOptions): Partial<typeof DEFAULT_OUTPUT_SUMMARY_LIMITS> {
  const out: Partial<Record<keyof typeof DEFAULT_OUTPUT_SUMMARY_LIMITS, number>> = {};
  for (const key of ['maxStringLength', 'maxItems', 'maxDepth', 'maxBytes'] as const) {
    const value = options[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** True for a marker {@link summariseOutput} put in place of a value. */
export function isOmittedOutput(value: unknown): value is OmittedOutput {
  return isPlainObject(value) && typeof value[OMITTED_KEY] === 'string';
}

/**
 * The data-URI summaries in a summarised output, in document order: outputs whose bytes the
 * record does not hold. A caller that needs the bytes reads them from `path` when it is set,
 * else fetches the result from fal again.
 */
export function omittedDataUris(
  summary: unknown,
): Extract<OmittedOutput, { $omitted: 'data-uri' }>[] {
  const found: Extract<OmittedOutput, { $omitted: 'data-uri' }>[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (!isPlainObject(value)) return;
    if (value[OMITTED_KEY] === 'data-uri') {
      found.push(value as Extract<OmittedOutput, { $omitted: 'data-uri' }>);
      return;
    }
    for (const item of Object.values(value)) visit(item);
  };
  visit(summary);
  return found;
}
