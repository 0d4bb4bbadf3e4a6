import * as v from 'valibot';
import { CostSchema, ParentRefSchema, REQUEST_STATUSES } from '../store/record.js';

/** The version of the provenance document; readers accept this and older ones. */
export const PROVENANCE_FORMAT = 1;

/** The keyword (PNG) and XMP property name falai's provenance is stored under. */
export const PROVENANCE_KEYWORD = 'falai';

/**
 * The largest provenance document falai embeds, in UTF-8 bytes of its JSON. A JPEG segment
 * holds at most 64 KiB, and a file's metadata should stay small beside its pixels: a larger
 * input is shortened first (long strings become digests), see `boundProvenance`.
 */
export const MAX_PROVENANCE_BYTES = 32 * 1024;

const seedString = v.pipe(v.string(), v.regex(/^-?\d{1,40}$/, 'must be decimal digits'));
const timestamp = v.pipe(v.string(), v.maxLength(64));

/**
 * How a file was made: what `embedProvenance` writes into it and `readProvenance` reads back.
 * Unknown keys are kept (`looseObject`), so a file written by a newer falai still reads.
 */
export const ProvenanceSchema = v.looseObject({
  /** The format version ({@link PROVENANCE_FORMAT}); also marks the document as falai's. */
  falai: v.pipe(v.number(), v.integer(), v.minValue(1)),
  requestId: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  /** The model, e.g. `fal-ai/flux/dev`. */
  endpointId: v.pipe(v.string(), v.minLength(1), v.maxLength(300)),
  /**
   * The input as submitted. File fields hold a `{ $file: <field>, name?, digest, size?, mime?,
   * url? }` marker instead of their bytes (a data URI never appears); URLs stay as given.
   */
  input: v.optional(v.record(v.string(), v.unknown())),
  /** The seed (from the result, else the input) as exact decimal digits. */
  seed: v.optional(seedString),
  status: v.optional(v.picklist(REQUEST_STATUSES)),
  submittedAt: v.optional(timestamp),
  startedAt: v.optional(timestamp),
  completedAt: v.optional(timestamp),
  cost: v.optional(CostSchema),
  /** The requests whose outputs this one was made from. */
  parents: v.optional(v.array(ParentRefSchema)),
  /** Which output of the request this file is. */
  output: v.optional(
    v.object({
      index: v.pipe(v.number(), v.integer(), v.minValue(0)),
      url: v.optional(v.pipe(v.string(), v.maxLength(4096))),
    }),
  ),
  /** The falai version that wrote it. */
  falaiVersion: v.pipe(v.string(), v.maxLength(64)),
});
export type Provenance = v.InferOutput<typeof ProvenanceSchema>;

/** A file field's stand-in in {@link Provenance} `input`. */
export interface ProvenanceFileMarker {
  /** The field path, e.g. `image_urls.0`. */
  readonly $file: string;
  /** The original file name (no folders), when it came from a local file. */
  readonly name?: string;
  /** `sha256:<hex>` of the bytes. */
  readonly digest?: string;
  readonly size?: number;
  readonly mime?: string;
  /** Where fal got it (a fal storage URL), when it was uploaded. */
  readonly url?: string;
}

/** One request as `falai history` shows it. */
export const HistoryEntrySchema = v.object({
  requestId: v.string(),
  endpointId: v.string(),
  status: v.picklist(REQUEST_STATUSES),
  submittedAt: v.string(),
  startedAt: v.optional(v.string()),
  completedAt: v.optional(v.string()),
  /** The input's prompt (or `text`), when it has one. */
  prompt: v.optional(v.string()),
  /** The seed as exact decimal digits. */
  seed: v.optional(v.string()),
  cost: v.optional(CostSchema),
  /** Paths of the saved output files. */
  outputs: v.array(v.string()),
  /** The requests it was made from. */
  parents: v.optional(v.array(ParentRefSchema)),
  error: v.optional(v.object({ code: v.string(), message: v.string() })),
});
export type HistoryEntry = v.InferOutput<typeof HistoryEntrySchema>;
