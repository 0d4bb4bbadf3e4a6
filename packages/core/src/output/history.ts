import * as v from 'valibot';
import { HistoryEntrySchema, ProvenanceSchema } from '../provenance/schema.js';

/** `falai history --json`: matching requests (`HistoryEntrySchema` each), newest first. */
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
