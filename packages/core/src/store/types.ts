import type { BudgetLedger } from './budget.js';
import type { Lease, PendingPatch, PendingRecord, RequestStatus } from './record.js';
import type { HistoryQuery } from './search.js';

/** Filters for `list`. All given filters must match. */
export interface PendingFilter {
  /** One status or several. */
  readonly status?: RequestStatus | readonly RequestStatus[];
  readonly endpointId?: string;
  /** Only records submitted at or after this ISO timestamp. */
  readonly since?: string;
  /** Only records submitted before this ISO timestamp. */
  readonly before?: string;
  readonly limit?: number;
}

/** A condition for `update`: the current status must be one of these. */
export interface UpdateCondition {
  readonly status?: RequestStatus | readonly RequestStatus[];
  /** The current lease must be held by this owner (and not expired). */
  readonly leaseOwner?: string;
}

export type UpdateOutcome =
  | { readonly kind: 'updated'; readonly record: PendingRecord }
  | { readonly kind: 'missing' }
  | { readonly kind: 'conflict'; readonly current: PendingRecord };

export type ClaimOutcome =
  | { readonly kind: 'claimed'; readonly record: PendingRecord; readonly lease: Lease }
  | { readonly kind: 'held'; readonly lease: Lease }
  | { readonly kind: 'missing' };

export interface StoreCapabilities {
  /** Safe with several processes on one machine. */
  readonly crossProcess: boolean;
  /** Safe with several machines sharing it. */
  readonly crossMachine: boolean;
  /** Survives a restart. */
  readonly durable: boolean;
  /** Finished records expire on their own. */
  readonly retention: boolean;
}

/**
 * Where falai keeps the requests it submitted. Records are validated on write
 * and on read; damaged data raises `StoreError('STORE_CORRUPT')` and is left in
 * place. `list` is ordered by `submittedAt`, then `requestId`.
 */
export interface PendingStore {
  readonly kind: 'memory' | 'file' | 'sqlite' | 'redis';
  /** Human description of where the data lives (a path, or a URL without password). */
  readonly location: string;
  readonly capabilities: StoreCapabilities;
  /** Inserts or replaces a whole record. */
  put(record: PendingRecord): Promise<void>;
  get(requestId: string): Promise<PendingRecord | undefined>;
  list(filter?: PendingFilter): Promise<PendingRecord[]>;
  /** Applies `patch` atomically, only if `condition` holds. */
  update(
    requestId: string,
    patch: PendingPatch,
    condition?: UpdateCondition,
  ): Promise<UpdateOutcome>;
  /** True when a record was removed. */
  remove(requestId: string): Promise<boolean>;
  /**
   * Takes a lease so that only one poller finalises a request. Succeeds when there
   * is no lease, it expired, or `owner` already holds it (then it is extended).
   */
  claim(requestId: string, owner: string, ttlMs: number): Promise<ClaimOutcome>;
  /** Extends a lease `owner` holds; false when it is not held by `owner` any more. */
  renew(requestId: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Drops a lease `owner` holds; false when it was not held by `owner`. */
  release(requestId: string, owner: string): Promise<boolean>;
  /**
   * Answers a history query (`falai history`): matching records, newest first. Optional:
   * stores with an index implement it (SQLite, Redis, and the file and memory stores by a
   * scan); for others, `searchHistory` filters `list()` (core's `searchRecords`).
   */
  search?(query: HistoryQuery): Promise<PendingRecord[]>;
  /**
   * The budget ledger kept in this store: atomic reservations against a spending cap, shared
   * by every process using the store (see `BudgetLedger`). Every built-in store has one; use
   * `requireBudgetLedger(store)` to get it or a `STORE_ERROR` that says what to do.
   */
  readonly budget?: BudgetLedger;
  /** Idempotent. */
  close(): Promise<void>;
}

/** Matches a record against a filter; shared by stores that filter in memory. */
export function matchesFilter(record: PendingRecord, filter: PendingFilter = {}): boolean {
  if (filter.status !== undefined) {
    const statuses = typeof filter.status === 'string' ? [filter.status] : filter.status;
    if (!statuses.includes(record.status)) return false;
  }
  if (filter.endpointId !== undefined && record.endpointId !== filter.endpointId) return false;
  if (filter.since !== undefined && Date.parse(record.submittedAt) < Date.parse(filter.since))
    return false;
  if (filter.before !== undefined && Date.parse(record.submittedAt) >= Date.parse(filter.before))
    return false;
  return true;
}

/** The stable list order: submittedAt, then requestId. */
export function compareRecords(a: PendingRecord, b: PendingRecord): number {
  const t = Date.parse(a.submittedAt) - Date.parse(b.submittedAt);
  if (t !== 0) return t;
  return a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : 0;
}

/** Checks an update condition against the current record. */
export function conditionHolds(
  record: PendingRecord,
  condition: UpdateCondition | undefined,
  now: number = Date.now(),
): boolean {
  if (!condition) return true;
  if (condition.status !== undefined) {
    const statuses = typeof condition.status === 'string' ? [condition.status] : condition.status;
    if (!statuses.includes(record.status)) return false;
  }
  if (condition.leaseOwner !== undefined) {
    if (!record.lease || record.lease.owner !== condition.leaseOwner) return false;
    if (Date.parse(record.lease.expiresAt) <= now) return false;
  }
  return true;
}
