import { ACTIVE_STATUSES, type PendingRecord } from '../store/record.js';
import type { PendingStore } from '../store/types.js';
import type { BudgetCap } from './budget.js';
import { readCostTags } from './record-cost.js';

/** One line of a spend summary (a model, a day, or the total). */
export interface UsageRow {
  /** The endpoint id, the UTC day (`2026-03-01`), or `total`. */
  readonly key: string;
  readonly requests: number;
  /** Actual cost recorded (billable units × unit price, or fal's billing events). */
  readonly spentUsd: number;
  /** Finished requests whose actual cost is unknown, counted at their estimate. */
  readonly estimatedUsd: number;
  /** Requests still queued or running, at their estimate. */
  readonly pendingUsd: number;
  /** Requests with neither an actual cost nor an estimate. */
  readonly unpriced: number;
}

/** What {@link summariseUsage} returns. */
export interface UsageSummary {
  readonly since: string;
  readonly by: 'model' | 'day';
  readonly rows: readonly UsageRow[];
  readonly total: UsageRow;
  readonly currency: 'USD';
}

interface Sums {
  requests: number;
  spent: number;
  estimated: number;
  pending: number;
  unpriced: number;
}

const round = (usd: number) => Math.round(usd * 1e6) / 1e6;

function rowOf(key: string, sums: Sums): UsageRow {
  return {
    key,
    requests: sums.requests,
    spentUsd: round(sums.spent),
    estimatedUsd: round(sums.estimated),
    pendingUsd: round(sums.pending),
    unpriced: sums.unpriced,
  };
}

/**
 * Sums the spend recorded in records (pure): the actual cost where it is known
 * (`provenance.cost`), else the estimate the submit made — kept apart, so a total never
 * passes an estimate off as spend. Grouped by model or by UTC day of submission.
 */
export function summariseUsage(
  records: readonly PendingRecord[],
  options: { readonly since: string; readonly by: 'model' | 'day' },
): UsageSummary {
  const groups = new Map<string, Sums>();
  const total: Sums = { requests: 0, spent: 0, estimated: 0, pending: 0, unpriced: 0 };
  const since = Date.parse(options.since);
  for (const record of records) {
    if (Date.parse(record.submittedAt) < since) continue;
    const key = options.by === 'day' ? record.submittedAt.slice(0, 10) : record.endpointId;
    let sums = groups.get(key);
    if (!sums) {
      sums = { requests: 0, spent: 0, estimated: 0, pending: 0, unpriced: 0 };
      groups.set(key, sums);
    }
    const add = (field: keyof Sums, value: number) => {
      (sums as Sums)[field] += value;
      total[field] += value;
    };
    add('requests', 1);
    const cost = record.provenance?.cost;
    const estimate = readCostTags(record).estimateUsd;
    if (cost && cost.currency === 'USD') add('spent', cost.amount);
    else if (estimate !== undefined && ACTIVE_STATUSES.includes(record.status))
      add('pending', estimate);
    else if (estimate !== undefined) add('estimated', estimate);
    else add('unpriced', 1);
  }
  const rows = [...groups].map(([key, sums]) => rowOf(key, sums));
  rows.sort((a, b) =>
    options.by === 'day'
      ? a.key.localeCompare(b.key)
      : b.spentUsd + b.estimatedUsd - (a.spentUsd + a.estimatedUsd) || a.key.localeCompare(b.key),
  );
  return {
    since: options.since,
    by: options.by,
    rows,
    total: rowOf('total', total),
    currency: 'USD',
  };
}

/** A budget cap and where it stands today. */
export interface BudgetStanding {
  readonly setting: string;
  readonly scope: string;
  readonly capUsd: number;
  readonly spentUsd: number;
  /** Held by requests still running (their estimates). */
  readonly reservedUsd: number;
  readonly remainingUsd: number;
}

/** Where each cap stands in the store's ledger now. */
export async function budgetStandings(
  store: PendingStore,
  caps: readonly BudgetCap[],
): Promise<BudgetStanding[]> {
  if (!store.budget || caps.length === 0) return [];
  const ledger = store.budget;
  return Promise.all(
    caps.map(async (cap) => {
      const usage = await ledger.usage(cap.scope);
      return {
        setting: cap.setting,
        scope: cap.scope,
        capUsd: cap.capUsd,
        spentUsd: usage.spentUsd,
        reservedUsd: usage.reservedUsd,
        remainingUsd: round(Math.max(0, cap.capUsd - usage.spentUsd - usage.reservedUsd)),
      };
    }),
  );
}
