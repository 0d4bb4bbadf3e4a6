import * as v from 'valibot';
import { ProvenanceSchema } from '../provenance/schema.js';
import { CostSchema, ParentRefSchema } from '../store/record.js';
import { ErrorBodySchema, RequestStatusSchema } from './common.js';

/** One request as `falai history` shows it. */
export const HistoryEntrySchema = v.object({
  requestId: v.string(),
  endpointId: v.string(),
  status: RequestStatusSchema,
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
  error: v.optional(ErrorBodySchema),
});
export type HistoryEntry = v.InferOutput<typeof HistoryEntrySchema>;

/** `falai history --json`: matching requests, newest first. */
export const HistoryOutputSchema = v.object({
  requests: v.array(HistoryEntrySchema),
  count: v.number(),
  /** True when there may be more (the limit was reached). */
  truncated: v.boolean(),
  /** Where the requests were read from (store location, no password). */
  store: v.string(),
});
export type HistoryOutput = v.InferOutput<typeof HistoryOutputSchema>;

/** `falai inspect --json`: the provenance a file carries. */
export const InspectOutputSchema = v.object({
  file: v.string(),
  format: v.picklist(['png', 'jpeg', 'webp', 'mp4']),
  /** `png-text` (the `falai` text chunk) or `xmp`. */
  source: v.picklist(['png-text', 'xmp']),
  provenance: ProvenanceSchema,
});
export type InspectOutput = v.InferOutput<typeof InspectOutputSchema>;
