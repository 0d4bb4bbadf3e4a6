import * as v from 'valibot';
import { ModelInfoOutputSchema } from './misc.js';

/** One unit price from fal's Platform API. */
export const PriceOutputSchema = v.object({
  endpointId: v.string(),
  unitPrice: v.number(),
  /** fal's free text: `images`, `megapixels`, `seconds`, `1000 characters`, `units`, … */
  unit: v.string(),
  currency: v.string(),
});
export type PriceOutput = v.InferOutput<typeof PriceOutputSchema>;

/** `falai models search --json`: catalogue models, with a price where one is known. */
export const ModelSearchOutputSchema = v.object({
  models: v.array(
    v.object({
      endpointId: v.string(),
      name: v.string(),
      category: v.string(),
      /** `active`, `deprecated`, … as fal says. */
      status: v.string(),
      description: v.optional(v.string()),
      tags: v.optional(v.array(v.string())),
      durationEstimate: v.optional(v.number()),
      price: v.optional(PriceOutputSchema),
    }),
  ),
  count: v.number(),
  /** More models match than were shown (raise --limit). */
  hasMore: v.boolean(),
  /** `catalogue`: fal answered now; `cache`: falai's cached copy answered. */
  source: v.picklist(['catalogue', 'cache']),
  notes: v.array(v.string()),
});
export type ModelSearchOutput = v.InferOutput<typeof ModelSearchOutputSchema>;

/** `falai pricing --json`. */
export const PricingOutputSchema = v.object({
  prices: v.array(PriceOutputSchema),
  /** Ids without a price: not in fal's catalogue, not priced, or (offline) not cached. */
  missing: v.array(
    v.object({
      endpointId: v.string(),
      reason: v.picklist(['unknown', 'unpriced', 'uncached']),
      suggestions: v.optional(v.array(v.string())),
    }),
  ),
  source: v.picklist(['catalogue', 'cache']),
  notes: v.array(v.string()),
});
export type PricingOutput = v.InferOutput<typeof PricingOutputSchema>;

/**
 * `falai model-info --json` with where the definition came from: a model file (`builtin`,
 * `user`) or fal's catalogue (`catalogue` just fetched, `cache` from falai's cache).
 */
export const ModelInfoSourceOutputSchema = v.object({
  ...ModelInfoOutputSchema.entries,
  source: v.picklist(['builtin', 'user', 'catalogue', 'cache']),
  /** fal's catalogue marks the model deprecated. */
  deprecated: v.optional(v.boolean()),
  /** When the catalogue definition was fetched (ISO-8601). */
  fetchedAt: v.optional(v.string()),
  /** The cached definition is older than its time to live (fal could not be reached). */
  stale: v.optional(v.boolean()),
  warnings: v.optional(v.array(v.string())),
});
export type ModelInfoSourceOutput = v.InferOutput<typeof ModelInfoSourceOutputSchema>;
