import * as v from 'valibot';
import { PendingRecordSchema } from '../store/record.js';
import {
  ErrorBodySchema,
  LogLineSchema,
  RequestStatusSchema,
  RequestViewSchema,
  SavedFileSchema,
} from './common.js';
import { EstimateFieldsSchema } from './cost.js';

/** `falai submit --json`. `request_id` repeats `requestId` so seed scripts (`jq .request_id`) keep working. */
export const SubmitOutputSchema = v.object({
  requestId: v.pipe(v.string(), v.minLength(1)),
  request_id: v.pipe(v.string(), v.minLength(1)),
  endpointId: v.string(),
  status: RequestStatusSchema,
  queuePosition: v.optional(v.number()),
  statusUrl: v.optional(v.string()),
  responseUrl: v.optional(v.string()),
  cancelUrl: v.optional(v.string()),
  webhookUrl: v.optional(v.string()),
  /** Where the request was recorded (store location, no password). */
  store: v.string(),
  warnings: v.array(v.string()),
  ...EstimateFieldsSchema,
});
export type SubmitOutput = v.InferOutput<typeof SubmitOutputSchema>;

/** `falai status --json`. */
export const StatusOutputSchema = v.object({
  requestId: v.string(),
  endpointId: v.string(),
  status: RequestStatusSchema,
  queuePosition: v.optional(v.number()),
  logs: v.array(LogLineSchema),
  error: v.optional(ErrorBodySchema),
  /** True when the store knows this request (its record was updated). */
  recorded: v.boolean(),
});
export type StatusOutput = v.InferOutput<typeof StatusOutputSchema>;

/** `falai result --json` and `falai wait --json`: a finished request's output. */
export const ResultOutputSchema = v.object({
  requestId: v.string(),
  endpointId: v.string(),
  status: v.literal('completed'),
  result: v.unknown(),
  outputs: v.optional(v.array(SavedFileSchema)),
  recorded: v.boolean(),
});
export type ResultOutput = v.InferOutput<typeof ResultOutputSchema>;

/** `falai wait --json`: the same as `result`, plus how long the wait took. */
export const WaitOutputSchema = v.object({
  ...ResultOutputSchema.entries,
  elapsedMs: v.number(),
});
export type WaitOutput = v.InferOutput<typeof WaitOutputSchema>;

/** `falai run --json`: submit + wait + download in one go. */
export const RunOutputSchema = v.object({
  ...ResultOutputSchema.entries,
  outputs: v.array(SavedFileSchema),
  elapsedMs: v.number(),
  warnings: v.array(v.string()),
  ...EstimateFieldsSchema,
});
export type RunOutput = v.InferOutput<typeof RunOutputSchema>;

/** One request `poll` finalised. */
export const PollItemSchema = v.object({
  requestId: v.string(),
  endpointId: v.string(),
  status: v.picklist(['completed', 'failed', 'cancelled', 'expired']),
  result: v.optional(v.unknown()),
  error: v.optional(ErrorBodySchema),
  outputs: v.optional(v.array(SavedFileSchema)),
});

/** `falai poll --json`. `completed` and `count` keep the seed's keys. */
export const PollOutputSchema = v.object({
  completed: v.array(PollItemSchema),
  count: v.number(),
  /** Requests still queued or running after this pass. */
  pending: v.number(),
  /** Requests left pending because checking them failed (network, 5xx…); retried next pass. */
  errors: v.array(v.object({ requestId: v.string(), code: v.string(), message: v.string() })),
  /** Requests skipped because another poller holds their lease. */
  skipped: v.number(),
  passes: v.number(),
});
export type PollOutput = v.InferOutput<typeof PollOutputSchema>;

/** `falai list --json`. */
export const ListOutputSchema = v.object({
  requests: v.array(RequestViewSchema),
  count: v.number(),
  store: v.string(),
});
export type ListOutput = v.InferOutput<typeof ListOutputSchema>;

/** `falai cancel --json`. */
export const CancelOutputSchema = v.object({
  requestId: v.string(),
  endpointId: v.string(),
  outcome: v.picklist(['cancellation-requested', 'already-completed', 'not-found', 'ok']),
  /** The store record's status afterwards; still queued/running while fal has not confirmed. */
  status: v.optional(RequestStatusSchema),
  /** Set while the cancel awaits fal's verdict: poll, wait or a webhook records the outcome. */
  cancelRequestedAt: v.optional(v.string()),
});
export type CancelOutput = v.InferOutput<typeof CancelOutputSchema>;

/** `falai download --json`. */
export const DownloadOutputSchema = v.object({
  requestId: v.string(),
  outputs: v.array(SavedFileSchema),
  /** Paths already saved by an earlier download of the same files, left as they were. */
  alreadyDownloaded: v.optional(v.array(v.string())),
});
export type DownloadOutput = v.InferOutput<typeof DownloadOutputSchema>;

/** `falai forget --json`. */
export const ForgetOutputSchema = v.object({
  requestId: v.string(),
  removed: v.boolean(),
  /** The status the record had when it was forgotten. */
  status: v.optional(RequestStatusSchema),
  /** Set when the request was still queued or running: fal still runs (and bills) it. */
  warning: v.optional(v.string()),
});
export type ForgetOutput = v.InferOutput<typeof ForgetOutputSchema>;

/** `falai prune --json`: the records removed (or that would be, with `--dry-run`). */
export const PruneOutputSchema = v.object({
  removed: v.array(v.object({ requestId: v.string(), status: RequestStatusSchema })),
  count: v.number(),
  dryRun: v.boolean(),
  /** Completed records kept because their outputs were never downloaded. */
  kept: v.optional(v.array(v.object({ requestId: v.string(), reason: v.string() }))),
});
export type PruneOutput = v.InferOutput<typeof PruneOutputSchema>;

/** A full record, for commands that print one. */
export const RecordOutputSchema = PendingRecordSchema;
