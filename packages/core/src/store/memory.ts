import { StoreError } from '../errors/falai-error.js';
import { BudgetBook, createBookLedger } from './budget.js';
import {
  planClaim,
  planRelease,
  planRenew,
  planUpdate,
  prepareRecordForWrite,
  type StoreContext,
  type StoreRedactorOption,
  storeRedactor,
} from './ops.js';
import type { PendingPatch, PendingRecord } from './record.js';
import { type HistoryQuery, searchRecords } from './search.js';
import {
  type ClaimOutcome,
  compareRecords,
  matchesFilter,
  type PendingFilter,
  type PendingStore,
  type UpdateCondition,
  type UpdateOutcome,
} from './types.js';

/**
 * The reference `PendingStore`: a map in this process, lost on exit. It defines the
 * behaviour the conformance suite expects of every durable store, and serves tests and
 * one-shot runs (`--store memory`) that must not touch disk.
 */
export function createMemoryStore(options: StoreRedactorOption = {}): PendingStore {
  const redactor = storeRedactor(options);
  const records = new Map<string, PendingRecord>();
  let closed = false;

  const context = (operation: string): StoreContext => ({
    store: 'memory',
    operation,
    location: 'memory',
  });
  const open = (operation: string): void => {
    if (closed) {
      throw new StoreError('STORE_ERROR', 'This memory store was closed; open a new one.', {
        ...context(operation),
      });
    }
  };
  const copy = (record: PendingRecord): PendingRecord => structuredClone(record);
  const book = new BudgetBook();
  // One event loop: each decision runs to its end before the next starts, so it is atomic.
  const budget = createBookLedger(async (operation, decide) => {
    open(operation);
    const now = Date.now();
    book.prune(now);
    const { result, changes } = decide(book, now);
    for (const change of changes) book.apply(change);
    return result;
  }, redactor);

  return {
    kind: 'memory',
    location: 'memory',
    capabilities: { crossProcess: false, crossMachine: false, durable: false, retention: false },
    budget,

    async put(record: PendingRecord): Promise<void> {
      open('put');
      const valid = prepareRecordForWrite(record, context('put'), redactor);
      records.set(valid.requestId, copy(valid));
    },

    async get(requestId: string): Promise<PendingRecord | undefined> {
      open('get');
      const record = records.get(requestId);
      return record ? copy(record) : undefined;
    },

    async list(filter: PendingFilter = {}): Promise<PendingRecord[]> {
      open('list');
      const out = [...records.values()]
        .filter((r) => matchesFilter(r, filter))
        .sort(compareRecords);
      return (filter.limit === undefined ? out : out.slice(0, filter.limit)).map(copy);
    },

    async search(query: HistoryQuery): Promise<PendingRecord[]> {
      open('search');
      return searchRecords(records.values(), query, (record) => record).map(copy);
    },

    async update(
      requestId: string,
      patch: PendingPatch,
      condition?: UpdateCondition,
    ): Promise<UpdateOutcome> {
      open('update');
      const outcome = planUpdate(records.get(requestId), patch, condition, redactor);
      if (outcome.kind === 'updated') {
        records.set(requestId, copy(outcome.record));
        return { kind: 'updated', record: copy(outcome.record) };
      }
      return outcome.kind === 'conflict'
        ? { kind: 'conflict', current: copy(outcome.current) }
        : outcome;
    },

    async remove(requestId: string): Promise<boolean> {
      open('remove');
      return records.delete(requestId);
    },

    async claim(requestId: string, owner: string, ttlMs: number): Promise<ClaimOutcome> {
      open('claim');
      const outcome = planClaim(records.get(requestId), owner, ttlMs);
      if (outcome.kind === 'claimed') records.set(requestId, copy(outcome.record));
      return outcome.kind === 'claimed' ? { ...outcome, record: copy(outcome.record) } : outcome;
    },

    async renew(requestId: string, owner: string, ttlMs: number): Promise<boolean> {
      open('renew');
      const next = planRenew(records.get(requestId), owner, ttlMs);
      if (next) records.set(requestId, next);
      return next !== undefined;
    },

    async release(requestId: string, owner: string): Promise<boolean> {
      open('release');
      const next = planRelease(records.get(requestId), owner);
      if (next) records.set(requestId, next);
      return next !== undefined;
    },

    async close(): Promise<void> {
      closed = true;
    },
  };
}
