import type { PendingPatch, PendingRecord } from '../store/record.js';
import type { PendingStore } from '../store/types.js';
import { settleBudgets } from './budget.js';
import type { CostEstimate, UnitPrice } from './estimate.js';

/**
 * What a record keeps about money, in its `tags` (strings): the estimate made before the
 * submit, the unit price it was made from (so the actual cost can be worked out at finalise
 * from `x-fal-billable-units` without asking fal again), the budget reservations to settle,
 * the hash of the input sent, and where the record came from. The actual cost itself lives in
 * `provenance.cost`, where history, the gallery and files' provenance read it.
 */
export const COST_TAGS = {
  /** The estimate in US dollars (`0.3`). */
  estimate: 'costEstimate',
  /** The unit price the estimate used (`0.15`), its unit (`images`) and currency (`USD`). */
  unitPrice: 'costUnitPrice',
  unit: 'costUnit',
  currency: 'costCurrency',
  /** Budget reservation ids, space-separated. */
  reservations: 'budgetReservations',
  /** How the cost was settled: `units`, `billing`, `estimate` or `not-billed`. */
  settled: 'costSettled',
  /** `sha256:<hex>` of the input as sent (what `falai recover` matches fal's history with). */
  inputHash: 'inputHash',
  /** `recovered` for a record `falai recover` adopted from fal's request history. */
  source: 'source',
} as const;

/** The money a record carries, read back from its tags. */
export interface RecordCostTags {
  readonly estimateUsd?: number;
  readonly price?: Pick<UnitPrice, 'unitPrice' | 'unit' | 'currency'>;
  readonly reservations: readonly string[];
  readonly settled?: string;
}

/** Tags for a new record: the estimate, its unit price, reservations and the input hash. */
export function costTags(init: {
  readonly estimate?: CostEstimate | null | undefined;
  /** The estimate in US dollars, when there is no `estimate` object (a noted submit's). */
  readonly estimateUsd?: number | undefined;
  readonly price?: Pick<UnitPrice, 'unitPrice' | 'unit' | 'currency'> | undefined;
  readonly reservations?: readonly string[];
  readonly inputHash?: string | undefined;
  readonly source?: string;
}): Record<string, string> {
  const tags: Record<string, string> = {};
  const price =
    init.price ??
    (init.estimate
      ? { unitPrice: init.estimate.unitPrice, unit: init.estimate.unit, currency: 'USD' }
      : undefined);
  const usd = init.estimate?.usd ?? init.estimateUsd;
  if (usd !== undefined) tags[COST_TAGS.estimate] = String(usd);
  if (price) {
    tags[COST_TAGS.unitPrice] = String(price.unitPrice);
    tags[COST_TAGS.unit] = price.unit.slice(0, 100);
    tags[COST_TAGS.currency] = price.currency.slice(0, 10);
  }
  if (init.reservations && init.reservations.length > 0)
    tags[COST_TAGS.reservations] = init.reservations.join(' ');
  if (init.inputHash) tags[COST_TAGS.inputHash] = init.inputHash;
  if (init.source) tags[COST_TAGS.source] = init.source;
  return tags;
}

const money = (text: string | undefined): number | undefined => {
  if (text === undefined || !/^\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
};

/** Reads a record's cost tags (malformed values are ignored, never trusted). */
export function readCostTags(record: Pick<PendingRecord, 'tags'>): RecordCostTags {
  const tags = record.tags ?? {};
  const get = (name: string) => (Object.hasOwn(tags, name) ? tags[name] : undefined);
  const unitPrice = money(get(COST_TAGS.unitPrice));
  const unit = get(COST_TAGS.unit);
  const currency = get(COST_TAGS.currency) ?? 'USD';
  const estimateUsd = money(get(COST_TAGS.estimate));
  const settled = get(COST_TAGS.settled);
  return {
    ...(estimateUsd === undefined ? {} : { estimateUsd }),
    ...(unitPrice !== undefined && unit ? { price: { unitPrice, unit, currency } } : {}),
    reservations: (get(COST_TAGS.reservations) ?? '').split(' ').filter((id) => id.length > 0),
    ...(settled ? { settled } : {}),
  };
}

/** What a finished request cost, and how that is known. */
export interface ActualCost {
  /** US dollars (or the price's currency). */
  readonly amount: number;
  readonly currency: string;
  /** `units`: billable units × unit price; `not-billed`: fal does not charge this ending. */
  readonly basis: 'units' | 'not-billed';
}

/**
 * The actual cost of a finished record (pure): `x-fal-billable-units` × the unit price it was
 * estimated with. A request that never ran, or failed on fal's side (fal never charges 5xx),
 * cost nothing; a 422 may be charged, so without units it is unknown. Undefined when unknown
 * (completed without units, e.g. finalised from a webhook; expired: it ran, but the answer
 * with its units is gone).
 */
export function actualCostOf(
  record: PendingRecord,
  billableUnits: number | undefined,
): ActualCost | undefined {
  const { price } = readCostTags(record);
  if (billableUnits !== undefined && price) {
    const amount = Math.round(billableUnits * price.unitPrice * 1e9) / 1e9;
    return { amount, currency: price.currency, basis: 'units' };
  }
  if (record.status === 'cancelled' && record.startedAt === undefined) {
    return { amount: 0, currency: price?.currency ?? 'USD', basis: 'not-billed' };
  }
  if (record.status === 'failed' && record.error?.code !== 'INPUT_INVALID') {
    return { amount: 0, currency: price?.currency ?? 'USD', basis: 'not-billed' };
  }
  return undefined;
}

/**
 * The cost step of finalising (the one outcome rule calls it once the outcome is recorded):
 * records the actual cost in `provenance.cost` when it is known, and settles the request's
 * budget reservations with it — with the estimate when the actual is unknown, so a cap never
 * counts less than was held. Best effort: a failure here never undoes the finalisation (an
 * unsettled reservation expires on its own, and `falai recover` settles it). Returns the
 * record as it is afterwards.
 */
export async function settleRecordCost(
  store: PendingStore,
  record: PendingRecord,
  billableUnits: number | undefined,
): Promise<PendingRecord> {
  const tags = readCostTags(record);
  if (!tags.price && tags.reservations.length === 0) return record;
  if (tags.settled && billableUnits === undefined) return record;
  const actual = actualCostOf(record, billableUnits);
  const settleWith = actual?.amount ?? tags.estimateUsd;
  try {
    if (tags.reservations.length > 0 && settleWith !== undefined) {
      await settleBudgets(store, tags.reservations, settleWith);
    }
    const patch: PendingPatch = {
      tags: {
        ...record.tags,
        [COST_TAGS.settled]: actual
          ? actual.basis
          : tags.reservations.length > 0
            ? 'estimate'
            : 'unknown',
      },
      ...(actual
        ? {
            provenance: {
              ...record.provenance,
              cost: { amount: actual.amount, currency: actual.currency },
            },
          }
        : {}),
    };
    const updated = await store.update(record.requestId, patch);
    return updated.kind === 'updated' ? updated.record : record;
  } catch {
    return record;
  }
}
