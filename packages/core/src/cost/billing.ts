import type { PlatformClient } from '../platform/client.js';
import { ACTIVE_STATUSES, type PendingRecord } from '../store/record.js';
import type { PendingStore } from '../store/types.js';
import { settleBudgets } from './budget.js';
import { COST_TAGS, readCostTags } from './record-cost.js';

/** What {@link applyBillingEvents} did. */
export interface BillingReconciliation {
  /** Finished records without an actual cost that fal's billing events were asked about. */
  readonly checked: number;
  /** Records whose cost the billing events filled in. */
  readonly updated: number;
}

/** fal serves at most 90 days of billing events per call (fal-platform-api.md §2). */
const MAX_WINDOW_MS = 90 * 24 * 60 * 60 * 1000;

/**
 * Fills in the actual cost of finished records that have none (finalised from a webhook, or an
 * expired result) from fal's billing events (`cost_total` per request; an ADMIN key, else
 * `AUTH_REJECTED` saying so), and settles their budget reservations with it.
 */
export async function applyBillingEvents(options: {
  readonly store: PendingStore;
  readonly platform: PlatformClient;
  readonly records: readonly PendingRecord[];
  readonly now?: Date;
  readonly signal?: AbortSignal | undefined;
}): Promise<BillingReconciliation> {
  const now = options.now ?? new Date();
  const open = options.records.filter(
    (record) =>
      !ACTIVE_STATUSES.includes(record.status) &&
      record.provenance?.cost === undefined &&
      Date.parse(record.submittedAt) > now.getTime() - MAX_WINDOW_MS,
  );
  let updated = 0;
  for (let start = 0; start < open.length; start += 50) {
    const chunk = open.slice(start, start + 50);
    const earliest = Math.min(...chunk.map((record) => Date.parse(record.submittedAt)));
    const costs = new Map<string, number>();
    for await (const event of options.platform.iterateBillingEvents({
      requestIds: chunk.map((record) => record.requestId),
      start: new Date(Math.max(earliest - 60_000, now.getTime() - MAX_WINDOW_MS)),
      end: now,
      signal: options.signal,
    })) {
      // The Platform schema bounds costTotal (finite, 0 to MAX_REQUEST_USD).
      if (event.costTotal !== null)
        costs.set(event.requestId, (costs.get(event.requestId) ?? 0) + event.costTotal);
    }
    for (const record of chunk) {
      const amount = costs.get(record.requestId);
      if (amount === undefined) continue;
      const rounded = Math.round(amount * 1e9) / 1e9;
      const tags = readCostTags(record);
      await settleBudgets(options.store, tags.reservations, rounded);
      const result = await options.store.update(record.requestId, {
        provenance: { ...record.provenance, cost: { amount: rounded, currency: 'USD' } },
        tags: { ...record.tags, [COST_TAGS.settled]: 'billing' },
      });
      if (result.kind === 'updated') updated += 1;
    }
  }
  return { checked: open.length, updated };
}
