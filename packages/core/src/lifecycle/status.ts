import { ApiError } from '../errors/falai-error.js';
import { CANCEL_ERROR_TYPES } from '../queue/status.js';
import type { FalClient, LogEntry, QueueStatus } from '../queue/types.js';
import {
  ACTIVE_STATUSES,
  type PendingPatch,
  type PendingRecord,
  type RecordError,
  type RequestStatus,
} from '../store/record.js';
import type { PendingStore } from '../store/types.js';
import { recordError, recordOutcome } from './outcome.js';
import type { RequestTarget } from './target.js';

/** The patch that records where an active request is (queued with its position, or running). */
export function progressPatch(
  record: Pick<PendingRecord, 'startedAt'> | undefined,
  status: Pick<QueueStatus, 'state' | 'queuePosition'> & { state: 'queued' | 'running' },
  now: Date = new Date(),
): PendingPatch {
  return {
    status: status.state,
    queuePosition: status.queuePosition ?? null,
    ...(status.state === 'running' && !record?.startedAt ? { startedAt: now.toISOString() } : {}),
  };
}

/** What one status check found. */
export interface StatusReport {
  readonly requestId: string;
  readonly endpointId: string;
  /** falai's status: fal's COMPLETED with an error is `failed` or `cancelled`; a dropped request `expired`. */
  readonly status: RequestStatus;
  readonly queuePosition?: number;
  readonly logs: readonly LogEntry[];
  /** Why it did not complete (failed, cancelled, expired). */
  readonly error?: RecordError;
  /** True when the store knows the request (its record was updated). */
  readonly recorded: boolean;
}

/**
 * Asks fal where a request is and records it: queued (with its position) or running. fal has
 * no FAILED or CANCELLED status (both are COMPLETED with an error): a cancel shows as a client
 * error type, or, when fal sends none, as what the store already recorded. A request the
 * store knows but fal answers NOT_FOUND for is checked as one fal accepted: it ends as
 * `expired` and is recorded so, instead of staying pending forever.
 */
export async function checkStatus(
  client: FalClient,
  store: PendingStore,
  target: RequestTarget,
  options: { readonly logs?: boolean | undefined; readonly signal?: AbortSignal | undefined } = {},
): Promise<StatusReport> {
  const { endpointId, requestId, record } = target;
  let status: QueueStatus;
  try {
    status = await client.status(endpointId, requestId, {
      logs: options.logs ?? false,
      signal: options.signal,
    });
  } catch (error) {
    if (!record || !(error instanceof ApiError && error.code === 'NOT_FOUND')) throw error;
    const outcome = await client.result(endpointId, requestId, { knownRequest: true });
    await recordOutcome(store, requestId, outcome);
    return {
      requestId,
      endpointId,
      status: outcome.state,
      logs: [],
      ...(outcome.state === 'expired' || outcome.state === 'failed'
        ? { error: recordError(outcome.error) }
        : {}),
      recorded: true,
    };
  }
  const errored = status.state === 'completed' && status.error !== undefined;
  const cancelled =
    errored && (CANCEL_ERROR_TYPES.has(status.errorType ?? '') || record?.status === 'cancelled');
  const failed = errored && !cancelled;
  const state: RequestStatus = cancelled ? 'cancelled' : failed ? 'failed' : status.state;
  if (record && (status.state === 'queued' || status.state === 'running')) {
    await store.update(requestId, progressPatch(record, { ...status, state: status.state }), {
      status: ACTIVE_STATUSES,
    });
  }
  return {
    requestId,
    endpointId,
    status: state,
    ...(status.queuePosition === undefined ? {} : { queuePosition: status.queuePosition }),
    logs: status.logs,
    ...(errored
      ? {
          error: {
            code: cancelled ? 'REQUEST_CANCELLED' : 'REQUEST_FAILED',
            message: String(status.error),
            ...(status.errorType ? { details: { errorType: status.errorType } } : {}),
          },
        }
      : {}),
    recorded: record !== undefined,
  };
}
