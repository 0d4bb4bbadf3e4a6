import * as v from 'valibot';
import { OutputFileSchema, PendingRecordSchema, REQUEST_STATUSES } from '../store/record.js';

/**
 * The error part of every failing `--json` output. `code` is a `FalaiErrorCode`, or `USAGE`
 * for command-line mistakes the CLI catches before any falai code runs (unknown flag,
 * missing argument); it stays a plain string so newer codes never break older parsers.
 */
export const ErrorBodySchema = v.object({
  code: v.pipe(v.string(), v.minLength(1)),
  message: v.pipe(v.string(), v.minLength(1)),
  details: v.optional(v.unknown()),
});

/** What any command prints on stdout under `--json` when it fails. */
export const ErrorOutputSchema = v.object({ error: ErrorBodySchema });
export type ErrorOutput = v.InferOutput<typeof ErrorOutputSchema>;

/** A request's status as falai reports it (never fal's raw `IN_QUEUE` strings). */
export const RequestStatusSchema = v.picklist(REQUEST_STATUSES);

/** One log line fal reported for a request. */
export const LogLineSchema = v.object({
  message: v.string(),
  level: v.optional(v.string()),
  timestamp: v.optional(v.string()),
});

/** A saved output file; the same shape the store keeps in `outputs`. */
export const SavedFileSchema = OutputFileSchema;

/** A stored request as `list` shows it: the whole record, `result` left out for size. */
export const RequestViewSchema = v.omit(PendingRecordSchema, ['result']);
