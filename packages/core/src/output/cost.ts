import * as v from 'valibot';

/** An estimate as `--json` prints it (`CostEstimate`). */
export const CostEstimateOutputSchema = v.object({
  /** US dollars, rounded up to the micro-dollar. */
  usd: v.number(),
  currency: v.literal('USD'),
  /** How it was computed, e.g. `2 images (num_images 2) × $0.15/image = $0.30`. */
  basis: v.string(),
  /** What was assumed; empty when the input said everything. */
  assumptions: v.array(v.string()),
  /** `input`: measured from the input; `history`: fal's average cost of a call. */
  method: v.picklist(['input', 'history']),
  units: v.number(),
  unit: v.string(),
  unitPrice: v.number(),
});
export type CostEstimateOutput = v.InferOutput<typeof CostEstimateOutputSchema>;

/**
 * The estimate fields of `submit --json` and `run --json`: `estimate` (null when none could be
 * made, then `estimateReason` says why).
 */
export const EstimateFieldsSchema = {
  estimate: v.optional(v.nullable(CostEstimateOutputSchema)),
  estimateReason: v.optional(v.string()),
};

/** One line of `falai usage --json`. */
export const UsageRowOutputSchema = v.object({
  /** The endpoint id (`--by model`), the UTC day (`--by day`), or `total`. */
  key: v.string(),
  requests: v.number(),
  /** Actual cost recorded (billable units × unit price, or billing events). */
  spentUsd: v.number(),
  /** Finished requests without an actual cost, at their estimate. */
  estimatedUsd: v.number(),
  /** Requests still queued or running, at their estimate. */
  pendingUsd: v.number(),
  /** Requests with neither. */
  unpriced: v.number(),
});

/** `falai usage --json`. */
export const UsageOutputSchema = v.object({
  since: v.string(),
  by: v.picklist(['model', 'day']),
  currency: v.literal('USD'),
  rows: v.array(UsageRowOutputSchema),
  total: UsageRowOutputSchema,
  /** Today's budget caps and where they stand (empty when none is set). */
  budgets: v.array(
    v.object({
      setting: v.string(),
      scope: v.string(),
      capUsd: v.number(),
      spentUsd: v.number(),
      reservedUsd: v.number(),
      remainingUsd: v.number(),
    }),
  ),
  /** With `--billing`: records whose cost fal's billing events filled in. */
  billing: v.optional(v.object({ updated: v.number(), checked: v.number() })),
  /** Where the records were read (store location, no password). */
  store: v.string(),
});
export type UsageOutput = v.InferOutput<typeof UsageOutputSchema>;

/** `falai balance --json` (an ADMIN key). */
export const BalanceOutputSchema = v.object({
  username: v.string(),
  balance: v.number(),
  currency: v.string(),
});
export type BalanceOutput = v.InferOutput<typeof BalanceOutputSchema>;

/** `falai recover --json`. */
export const RecoverOutputSchema = v.object({
  since: v.string(),
  /** The endpoints looked at, or `all` (every request of the account's API keys). */
  endpoints: v.union([v.array(v.string()), v.literal('all')]),
  adopted: v.array(
    v.object({
      requestId: v.string(),
      endpointId: v.string(),
      receivedAt: v.optional(v.string()),
      /** Where fal's history says it is: `queued-or-running`, `completed` or `failed`. */
      falState: v.picklist(['queued-or-running', 'completed', 'failed']),
      /** The request of a submit whose answer this store never recorded. */
      matchedIntent: v.boolean(),
    }),
  ),
  /** fal's requests the store already knew. */
  known: v.number(),
  scanned: v.number(),
  truncated: v.boolean(),
  /** Submits noted as "sent, answer unknown", and what became of each. */
  intents: v.array(
    v.object({
      endpointId: v.string(),
      at: v.string(),
      inputHash: v.string(),
      outcome: v.picklist(['found', 'not-sent', 'unknown']),
      requestId: v.optional(v.string()),
    }),
  ),
  dryRun: v.boolean(),
  store: v.string(),
});
export type RecoverOutput = v.InferOutput<typeof RecoverOutputSchema>;
