import { findOutputFiles } from '../queue/download.js';
import {
  ACTIVE_STATUSES,
  type PendingRecord,
  type RequestStatus,
  TERMINAL_STATUSES,
} from '../store/record.js';
import type { PendingStore } from '../store/types.js';
import { findRecord } from './target.js';

/** What forgetting a request did. */
export interface ForgetResult {
  readonly requestId: string;
  readonly removed: boolean;
  /** The status the record had when it was forgotten. */
  readonly status?: RequestStatus;
  /** Set when the request was still queued or running: fal still runs (and bills) it. */
  readonly warning?: string;
}

/**
 * Stops tracking a request: its record is removed (fal is not told; see `requestCancel`).
 * Forgetting a queued or running request warns, since fal still runs and bills it. An unknown
 * id is not an error. The id may be a unique prefix of a stored one.
 */
export async function forgetRequest(store: PendingStore, id: string): Promise<ForgetResult> {
  const record = await findRecord(store, id, 'forget');
  const requestId = record?.requestId ?? id;
  const warning =
    record && ACTIVE_STATUSES.includes(record.status)
      ? `${requestId} is still ${record.status} at fal: forgetting it only stops falai tracking it. fal still runs it and bills it, and its result will not be fetched. To stop it: falai cancel ${requestId}`
      : undefined;
  const removed = record ? await store.remove(requestId) : false;
  return {
    requestId,
    removed,
    ...(record ? { status: record.status } : {}),
    ...(warning ? { warning } : {}),
  };
}

/** Options of {@link pruneRequests}. */
export interface PruneOptions {
  /** Only finished records submitted longer ago than this many ms. @default 0 (all) */
  readonly olderThanMs?: number;
  /** Also queued or running records submitted longer ago than this many ms ("stuck"). */
  readonly stuckMs?: number | undefined;
  /** Also completed records whose outputs were never downloaded. @default false */
  readonly includeUndownloaded?: boolean;
  /** Decide only; remove nothing. @default false */
  readonly dryRun?: boolean;
  /** The clock, in epoch ms. @default Date.now */
  readonly now?: () => number;
}

/** What a prune removed (or would remove) and kept. */
export interface PruneResult {
  readonly removed: { readonly requestId: string; readonly status: RequestStatus }[];
  /** Completed records kept because their outputs were never saved. */
  readonly kept: { readonly requestId: string; readonly reason: string }[];
}

/**
 * The seed's "manual cleanup": removes completed, failed, cancelled and expired records
 * (older than `olderThanMs`), except completed ones whose outputs were never downloaded
 * (unless `includeUndownloaded`), and, with `stuckMs`, queued or running ones submitted
 * longer ago than that.
 */
export async function pruneRequests(
  store: PendingStore,
  options: PruneOptions = {},
): Promise<PruneResult> {
  const now = (options.now ?? Date.now)();
  const olderThan = options.olderThanMs ?? 0;
  const finished = await store.list({
    status: TERMINAL_STATUSES,
    ...(olderThan > 0 ? { before: new Date(now - olderThan).toISOString() } : {}),
  });
  const kept: PruneResult['kept'] = [];
  const victims: PendingRecord[] = [];
  for (const record of finished) {
    const reason = options.includeUndownloaded ? undefined : notDownloaded(record);
    if (reason) kept.push({ requestId: record.requestId, reason });
    else victims.push(record);
  }
  if (options.stuckMs !== undefined) {
    victims.push(
      ...(await store.list({
        status: ACTIVE_STATUSES,
        before: new Date(now - options.stuckMs).toISOString(),
      })),
    );
  }
  const removed: PruneResult['removed'] = [];
  for (const record of victims) {
    if (options.dryRun || (await store.remove(record.requestId))) {
      removed.push({ requestId: record.requestId, status: record.status });
    }
  }
  return { removed, kept };
}

/** Why a finished record is worth keeping: a completed request whose files were never saved. */
function notDownloaded(record: PendingRecord): string | undefined {
  if (record.status !== 'completed' || (record.outputs?.length ?? 0) > 0) return undefined;
  if (record.result === undefined) return 'result never fetched';
  return findOutputFiles(record.result).length > 0 ? 'outputs never downloaded' : undefined;
}
