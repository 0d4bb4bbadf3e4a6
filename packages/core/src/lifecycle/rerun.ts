import { stat } from 'node:fs/promises';
import { InputError } from '../errors/falai-error.js';
import { isObject } from '../json/values.js';
import { setInputValue } from '../models/coerce.js';
import { seedToString } from '../provenance/build.js';
import { readProvenance } from '../provenance/file.js';
import type { InputFile, InputSummary } from '../store/record.js';
import {
  type SubmitAndRecordOptions,
  type SubmitAndRecordResult,
  submitAndRecord,
} from './submit.js';
import { findRecord } from './target.js';

/** Options of {@link rerun}: what to run again, the changes, and the submit's own options. */
export interface RerunOptions extends Omit<SubmitAndRecordOptions, 'endpointId' | 'input'> {
  /** A request id in the store (a unique prefix is enough), or a file falai saved. */
  readonly source: string;
  /** `key=value` changes, typed like `--set` (dotted paths, arrays by index). */
  readonly sets?: readonly string[];
  /** Another model to send the input to. @default the original's */
  readonly model?: string;
}

/** What {@link rerun} submitted, beside {@link SubmitAndRecordResult}. */
export interface RerunResult extends SubmitAndRecordResult {
  /** The request run again. */
  readonly original: { readonly requestId: string; readonly endpointId: string };
  /** Where its input came from: the store record or the file's embedded provenance. */
  readonly from: 'store' | 'file';
}

/** The placeholder the record's input summary holds for a file field. */
const PLACEHOLDER = /^<file ([^>]{1,300})>$/;

/**
 * Submits a recorded input again, with changes: from the store record (its input summary keeps
 * every plain field as given and each file by path, URL or digest) or, for a file, from its
 * embedded provenance. Local files are read again from their paths, URLs are reused, bytes
 * that were sent inline (kept only as a digest) must be given again with a `--set`. The seed
 * is kept exactly (64-bit digits, never a rounded double): the input's, else the one the
 * result reported. The new record names the original in `provenance.parents`.
 */
export async function rerun(options: RerunOptions): Promise<RerunResult> {
  const { sets = [], source, ...submit } = options;
  const original = await originalOf(options);
  const endpointId = options.model ?? original.endpointId;
  const input = original.input;
  const seed = original.seed;
  if (seed !== undefined && input.seed === undefined && acceptsSeed(options, endpointId)) {
    input.seed = seedValue(seed);
  }
  for (const pair of sets) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      throw new InputError(`--set needs key=value, got "${pair}" (e.g. --set prompt="a cat").`, [
        { path: [], message: 'malformed --set', kind: 'type' },
      ]);
    }
    setInputValue(
      options.registry,
      endpointId,
      input,
      pair.slice(0, eq).trim(),
      pair.slice(eq + 1),
    );
  }
  const missing = findUnresolved(input);
  if (missing.length > 0) {
    throw new InputError(
      `${missing.join(', ')} of ${original.requestId} was sent as inline bytes, which falai keeps only as a digest; give it again, e.g. --set ${missing[0]}=./file.png.`,
      missing.map((field) => ({
        path: field.split('.'),
        message: 'file bytes not kept',
        kind: 'reference',
      })),
    );
  }
  const done = await submitAndRecord({
    ...submit,
    endpointId,
    input,
    parents: [{ requestId: original.requestId }, ...(options.parents ?? [])],
  });
  return {
    ...done,
    original: { requestId: original.requestId, endpointId: original.endpointId },
    from: original.from,
  };
}

/** A file field whose bytes are not kept, until a `--set` replaces it. */
const UNRESOLVED = Symbol('falai.unresolved');

interface Original {
  readonly requestId: string;
  readonly endpointId: string;
  readonly input: Record<string, unknown>;
  readonly seed?: string | undefined;
  readonly from: 'store' | 'file';
}

async function originalOf(options: RerunOptions): Promise<Original> {
  const { source, store } = options;
  const onDisk = await stat(source).catch(() => undefined);
  if (onDisk?.isFile()) {
    const read = await readProvenance(source);
    if (!read) {
      throw new InputError(
        `${source} carries no falai provenance (another tool made it, or its metadata was stripped); rerun by request id instead: falai rerun <request-id>.`,
        [{ path: ['source'], message: 'no provenance in the file', kind: 'reference' }],
      );
    }
    const { provenance } = read;
    return {
      requestId: provenance.requestId,
      endpointId: provenance.endpointId,
      input: inputFromProvenance(provenance.input ?? {}),
      seed: provenance.seed,
      from: 'file',
    };
  }
  const record = await findRecord(store, source, 'rerun');
  if (!record) {
    throw new InputError(
      `No request ${source} in the store (${store.location}), and no such file; check the id with \`falai history\`, or give a file falai saved.`,
      [{ path: ['source'], message: 'unknown request', kind: 'reference' }],
    );
  }
  if (!record.input) {
    throw new InputError(
      `Request ${record.requestId} was recorded without its input, so it cannot be run again; submit it anew with falai run ${record.endpointId}.`,
      [{ path: ['source'], message: 'no recorded input', kind: 'reference' }],
    );
  }
  const inputSeed = seedToString(record.input.fields.seed);
  const seed = inputSeed ?? record.provenance?.seed ?? resultSeed(record.result);
  return {
    requestId: record.requestId,
    endpointId: record.endpointId,
    input: inputFromSummary(record.input),
    seed,
    from: 'store',
  };
}

function resultSeed(result: unknown): string | undefined {
  return isObject(result) ? seedToString(result.seed) : undefined;
}

/** The stored summary with each file placeholder replaced by what can be sent again. */
function inputFromSummary(summary: InputSummary): Record<string, unknown> {
  const byField = new Map(summary.files.map((file) => [file.field, file]));
  return mapStrings(summary.fields, (text) => {
    const field = PLACEHOLDER.exec(text)?.[1];
    if (field === undefined) return text;
    const file = byField.get(field);
    return file ? fileAgain(file) : text;
  }) as Record<string, unknown>;
}

function fileAgain(file: InputFile): unknown {
  if ((file.kind === 'url' || file.kind === 'path') && file.location) return file.location;
  if (file.uploadedUrl) return file.uploadedUrl;
  return { [UNRESOLVED]: file.field };
}

/** A provenance input with each `{ $file }` marker replaced by its URL (or left unresolved). */
function inputFromProvenance(input: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (isObject(value)) {
      if (typeof value.$file === 'string') {
        return typeof value.url === 'string' ? value.url : { [UNRESOLVED]: value.$file };
      }
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item)]));
    }
    return value;
  };
  return walk(input) as Record<string, unknown>;
}

function mapStrings(value: unknown, map: (text: string) => unknown): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (isObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, mapStrings(item, map)]),
    );
  }
  return value;
}

function findUnresolved(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) findUnresolved(item, out);
  else if (isObject(value)) {
    const field = (value as { [UNRESOLVED]?: string })[UNRESOLVED];
    if (field !== undefined) out.push(field);
    else for (const item of Object.values(value)) findUnresolved(item, out);
  }
  return out;
}

/** Known models say whether they take a seed; an unknown one is given it (fal's convention). */
function acceptsSeed(options: RerunOptions, endpointId: string): boolean {
  const definition = options.registry.get(endpointId);
  return definition === undefined || Object.hasOwn(definition.input, 'seed');
}

/** A seed as a JSON integer that keeps every digit (a bigint beyond 2^53). */
function seedValue(seed: string): number | bigint {
  const big = BigInt(seed);
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(big)
    : big;
}
