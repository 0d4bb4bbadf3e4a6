import { ApiError } from '../errors/falai-error.js';
import type { CancelResult, FalClient } from '../queue/types.js';
import { ACTIVE_STATUSES, type RequestStatus } from '../store/record.js';
import type { PendingStore } from '../store/types.js';
import { recordAfter, recordOutcome } from './outcome.js';
import type { RequestTarget } from './target.js';

/** The tag that marks a request whose cancellation was asked for but not yet confirmed. */
export const CANCEL_REQUESTED_TAG = 'cancelRequestedAt';

/** What asking fal to cancel did to the request and to its store record. */
export interface CancelRequestResult {
  readonly outcome: CancelResult['outcome'];
  /** The record's status afterwards (absent when the store does not know the request). */
  readonly status?: RequestStatus;
  /** When the cancel was asked for, if the request is still waiting for fal's verdict. */
  readonly cancelRequestedAt?: string;
}

/**
 * Asks fal to cancel, then records only what fal confirms. A running app may ignore the
 * cancel and still deliver its (paid) result (reference §6), so the record stays active with
 * a `cancelRequestedAt` tag and poll, wait and webhooks finalise it from what fal reports.
 * One status check right after the cancel settles the common case (a queued request that fal
 * removed at once); a failing check leaves the request for poll. An id fal does not know is a
 * NOT_FOUND error, and nothing in the store changes.
 */
export async function requestCancel(
  client: FalClient,
  store: PendingStore,
  target: RequestTarget,
): Promise<CancelRequestResult> {
  const { endpointId, requestId, record } = target;
  const { outcome } = await client.cancel(endpointId, requestId);
  if (outcome === 'not-found') {
    const message = record
      ? `fal no longer knows ${requestId} (${endpointId}), though the store does: it expired at fal or was submitted elsewhere. Nothing was changed; remove it with: falai forget ${requestId}`
      : `fal does not know ${requestId} at ${endpointId}: check the endpoint and the request id (falai list shows the requests in the store).`;
    throw new ApiError(message, {
      status: 404,
      code: 'NOT_FOUND',
      requestId,
      details: { requestId, endpointId, inStore: record !== undefined },
    });
  }
  if (!record) return { outcome };
  if (outcome === 'already-completed' || !ACTIVE_STATUSES.includes(record.status)) {
    return { outcome, status: record.status };
  }
  const cancelRequestedAt = new Date().toISOString();
  const tagged = await store.update(
    requestId,
    { tags: { ...record.tags, [CANCEL_REQUESTED_TAG]: cancelRequestedAt } },
    { status: ACTIVE_STATUSES },
  );
  let status: RequestStatus = tagged.kind === 'updated' ? tagged.record.status : record.status;
  try {
    const now = await client.status(endpointId, requestId);
    if (now.state === 'completed') {
      const final = await client.result(endpointId, requestId, { knownRequest: true });
      status = recordAfter(await recordOutcome(store, requestId, final))?.status ?? status;
    }
  } catch {
    // fal's verdict comes later: poll, wait or a webhook records it.
  }
  return ACTIVE_STATUSES.includes(status)
    ? { outcome, status, cancelRequestedAt }
    : { outcome, status };
}
