import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { environmentRedactor } from '../config/settings.js';
import { stringifyJsonExact } from '../json/exact.js';
import { falaiUserAgent } from '../queue/client.js';
import type { Redactor } from '../redact/redactor.js';
import { describeDataUri, OMITTED_KEY, summariseOutput } from '../store/output-summary.js';
import {
  type Cost,
  type InputFile,
  MAX_PARENTS,
  type ParentRef,
  type PendingRecord,
  type RecordProvenance,
} from '../store/record.js';
import {
  MAX_PROVENANCE_BYTES,
  PROVENANCE_FORMAT,
  type Provenance,
  type ProvenanceFileMarker,
} from './schema.js';

/** Options of {@link buildProvenance}. */
export interface BuildProvenanceOptions {
  /** The request's store record: id, endpoint, input summary, timings, result, provenance. */
  readonly record: PendingRecord;
  /** The model's output, when the record does not hold it (yet). */
  readonly result?: unknown;
  /**
   * The input as sent, for a record without an input summary. Data URIs in it are replaced by
   * their digest; the record's summary wins when there is one (it names the original files).
   */
  readonly input?: Readonly<Record<string, unknown>>;
  /** The actual cost; default `record.provenance.cost`. */
  readonly cost?: Cost;
  /** The requests this one was made from; default `record.provenance.parents`. */
  readonly parents?: readonly ParentRef[];
  /** Which output of the request the file is. */
  readonly output?: { readonly index: number; readonly url?: string };
  /** @default the version of @falai/core (or `record.provenance.falaiVersion`) */
  readonly falaiVersion?: string;
  /** The keys kept out of it (the caller's). @default the process environment's keys */
  readonly redactor?: Redactor;
}

/** A field placeholder the input summary holds for a file: `<file image_urls.0>`. */
const PLACEHOLDER = /^<file ([^>]{1,300})>$/;

/**
 * `scheme://user:password@` → `scheme://user:***@` anywhere in a string. Matching starts at
 * `://`, so a long string without one costs one scan.
 */
const URL_PASSWORD = /:\/\/([^/@?#\s:]*):[^/@?#\s]*@/g;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Copies a JSON-like value, mapping every string through `map`. Keys are kept as they are. */
function mapStrings(value: unknown, map: (text: string) => unknown): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(out, key, {
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

/** The stand-in of one input file: a URL stays a URL, bytes become their digest and name. */
function fileValue(file: InputFile): unknown {
  if (file.kind === 'url' && file.location) return file.location;
  const marker: ProvenanceFileMarker = {
    $file: file.field,
    ...(file.kind === 'path' && file.location ? { name: basename(file.location) } : {}),
    ...(file.digest ? { digest: file.digest } : {}),
    ...(file.size === undefined ? {} : { size: file.size }),
    ...(file.mime ? { mime: file.mime } : {}),
    ...(file.uploadedUrl ? { url: file.uploadedUrl } : {}),
  };
  return marker;
}

/** The input of a record's summary with each `<file …>` placeholder replaced by its file. */
function inputFromSummary(record: PendingRecord): Record<string, unknown> | undefined {
  const summary = record.input;
  if (!summary) return undefined;
  const byField = new Map(summary.files.map((file) => [file.field, file]));
  return mapStrings(summary.fields, (text) => {
    const field = PLACEHOLDER.exec(text)?.[1];
    const file = field === undefined ? undefined : byField.get(field);
    return file ? fileValue(file) : text;
  }) as Record<string, unknown>;
}

/** A raw input with every data URI replaced by its digest, size and type. */
function inputFromRaw(input: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const walk = (value: unknown, path: string[]): unknown => {
    if (typeof value === 'string') {
      if (!/^data:/i.test(value)) return value;
      const described = describeDataUri(value);
      const marker: ProvenanceFileMarker = {
        $file: path.join('.'),
        digest: described.digest,
        size: described.size,
        mime: described.mime,
      };
      return marker;
    }
    if (Array.isArray(value)) return value.map((item, i) => walk(item, [...path, String(i)]));
    if (isPlainObject(value)) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        Object.defineProperty(out, key, {
          value: walk(item, [...path, key]),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    return value;
  };
  return walk(input, []) as Record<string, unknown>;
}

/**
 * A seed as exact decimal digits: a `bigint` (exact JSON's 64-bit integers), a safe integer,
 * or a string of digits. Anything else (a rounded double, a word) is not a seed we can keep.
 */
export function seedToString(value: unknown): string | undefined {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'string' && /^-?\d{1,40}$/.test(value.trim())) return value.trim();
  return undefined;
}

/** The seed of a request: the result's (what the model used), else the input's. */
export function seedOf(result: unknown, input: unknown): string | undefined {
  const fromResult = isPlainObject(result) ? seedToString(result.seed) : undefined;
  if (fromResult !== undefined) return fromResult;
  return isPlainObject(input) ? seedToString(input.seed) : undefined;
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(stringifyJsonExact(value), 'utf8');
}

/**
 * Keeps a provenance document under {@link MAX_PROVENANCE_BYTES}: long input strings become
 * `{ $omitted: 'text', digest, preview }`, and if that is not enough the whole input becomes
 * `{ $omitted: 'value', size, digest }`. Everything else is small by construction.
 */
export function boundProvenance(provenance: Provenance): Provenance {
  if (jsonBytes(provenance) <= MAX_PROVENANCE_BYTES || provenance.input === undefined) {
    return provenance;
  }
  const shortened = summariseOutput(provenance.input, {
    maxStringLength: 1024,
    maxItems: 100,
    maxDepth: 8,
  }) as Record<string, unknown>;
  const next: Provenance = { ...provenance, input: shortened };
  if (jsonBytes(next) <= MAX_PROVENANCE_BYTES) return next;
  const whole = stringifyJsonExact(provenance.input);
  return {
    ...provenance,
    input: {
      [OMITTED_KEY]: 'value',
      size: Buffer.byteLength(whole, 'utf8'),
      digest: `sha256:${createHash('sha256').update(whole, 'utf8').digest('hex')}`,
    },
  };
}

/**
 * When the request started running and finished, as the lifecycle records them (`startedAt`,
 * `completedAt`); absent on records written before those fields existed.
 */
export function timingsOf(record: PendingRecord): { startedAt?: string; completedAt?: string } {
  const { startedAt, completedAt } = record as { startedAt?: unknown; completedAt?: unknown };
  return {
    ...(typeof startedAt === 'string' ? { startedAt } : {}),
    ...(typeof completedAt === 'string' ? { completedAt } : {}),
  };
}

/** The falai version core reports (`falai/<version>` without the prefix). */
export function falaiVersion(): string {
  return falaiUserAgent().replace(/^falai\//, '');
}

/**
 * The provenance of a request's output: request id, endpoint, the full input (files by digest
 * and original name, never their bytes, never a data URI), the seed as exact digits, timings,
 * the actual cost when known, the parent requests, and the falai version. Every FAL_KEY this
 * process knows (and any in the environment) is redacted, as are URL passwords. Bounded to
 * {@link MAX_PROVENANCE_BYTES}. Pure apart from reading the key list.
 */
export function buildProvenance(options: BuildProvenanceOptions): Provenance {
  const { record } = options;
  const stored = record.provenance;
  const rawInput =
    inputFromSummary(record) ?? (options.input ? inputFromRaw(options.input) : undefined);
  const input =
    rawInput === undefined
      ? undefined
      : (mapStrings(rawInput, (text) => text.replace(URL_PASSWORD, '://$1:***@')) as Record<
          string,
          unknown
        >);
  const result = options.result ?? record.result;
  const seed = seedOf(result, input) ?? stored?.seed;
  const cost = options.cost ?? stored?.cost;
  const parents = (options.parents ?? stored?.parents ?? []).slice(0, MAX_PARENTS);
  const provenance: Provenance = {
    falai: PROVENANCE_FORMAT,
    requestId: record.requestId,
    endpointId: record.endpointId,
    ...(input ? { input } : {}),
    ...(seed === undefined ? {} : { seed }),
    status: record.status,
    submittedAt: record.submittedAt,
    ...timingsOf(record),
    ...(cost ? { cost: { amount: cost.amount, currency: cost.currency } } : {}),
    ...(parents.length > 0 ? { parents: parents.map((parent) => ({ ...parent })) } : {}),
    ...(options.output
      ? {
          output: {
            index: options.output.index,
            ...(options.output.url && !/^data:/i.test(options.output.url)
              ? { url: options.output.url }
              : {}),
          },
        }
      : {}),
    falaiVersion: options.falaiVersion ?? stored?.falaiVersion ?? falaiVersion(),
  };
  return boundProvenance((options.redactor ?? environmentRedactor()).scrub(provenance));
}

/**
 * What a record keeps of a provenance document (`record.provenance`): the seed, cost, parents
 * and falai version; the rest is the record's own fields. For `store.update(id, { provenance })`.
 */
export function recordProvenanceOf(provenance: Provenance): RecordProvenance {
  return {
    ...(provenance.seed === undefined ? {} : { seed: provenance.seed }),
    ...(provenance.cost ? { cost: provenance.cost } : {}),
    ...(provenance.parents?.length ? { parents: provenance.parents.slice(0, MAX_PARENTS) } : {}),
    falaiVersion: provenance.falaiVersion.slice(0, 64),
  };
}
