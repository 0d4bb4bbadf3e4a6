import { DEFAULT_HISTORY_RETENTION_DAYS } from '../config/settings.js';
import type { PendingRecord } from '../store/record.js';
import { type HistoryQuery, promptOf, searchRecords } from '../store/search.js';
import type { PendingStore } from '../store/types.js';
import { seedOf, timingsOf } from './build.js';
import type { HistoryEntry } from './schema.js';

/** How many requests `falai history` shows unless told otherwise. */
export const DEFAULT_HISTORY_LIMIT = 50;

/**
 * Answers a history query from any store: `store.search` where the store has it (an index),
 * else its `list` filtered in memory. Newest first, at most `query.limit`.
 */
export async function searchHistory(
  store: PendingStore,
  query: HistoryQuery,
): Promise<PendingRecord[]> {
  if (store.search) return store.search(query);
  const records = await store.list({
    ...(query.status === undefined ? {} : { status: query.status }),
    ...(query.endpointId === undefined ? {} : { endpointId: query.endpointId }),
    ...(query.since === undefined ? {} : { since: query.since }),
    ...(query.before === undefined ? {} : { before: query.before }),
  });
  return searchRecords(records, query, (record) => record);
}

/** A record as `falai history` shows it: prompt, model, when, cost, seed, outputs, lineage. */
export function historyEntryOf(record: PendingRecord): HistoryEntry {
  const prompt = promptOf(record);
  const seed = record.provenance?.seed ?? seedOf(record.result, record.input?.fields);
  return {
    requestId: record.requestId,
    endpointId: record.endpointId,
    status: record.status,
    submittedAt: record.submittedAt,
    ...timingsOf(record),
    ...(prompt === undefined ? {} : { prompt }),
    ...(seed === undefined ? {} : { seed }),
    ...(record.provenance?.cost ? { cost: record.provenance.cost } : {}),
    outputs: (record.outputs ?? []).map((file) => file.path),
    ...(record.provenance?.parents?.length ? { parents: record.provenance.parents } : {}),
    ...(record.error ? { error: { code: record.error.code, message: record.error.message } } : {}),
  };
}

/**
 * The instant before which finished requests are past their retention (`retentionDays` ago);
 * `prune` removes those, and keeps newer ones for `falai history`. Undefined for `0` (keep all).
 */
export function retentionCutoff(
  retentionDays: number = DEFAULT_HISTORY_RETENTION_DAYS,
  now: number = Date.now(),
): string | undefined {
  if (!Number.isFinite(retentionDays) || retentionDays <= 0) return undefined;
  return new Date(now - retentionDays * 24 * 3600 * 1000).toISOString();
}
