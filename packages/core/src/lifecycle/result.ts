import { ApiError } from '../errors/falai-error.js';
import type { FalClient, RequestOutcome } from '../queue/types.js';
import type { PendingRecord } from '../store/record.js';
import type { PendingStore } from '../store/types.js';
import { type CompletedRequest, settleOutcome } from './outcome.js';
import { storedResultHasFiles } from './save.js';

/** Options of {@link fetchResult}. */
export interface FetchResultOptions {
  readonly client: FalClient;
  readonly store: PendingStore;
  readonly endpointId: string;
  readonly requestId: string;
  /** The stored record, when the store knows the request (then the outcome is recorded). */
  readonly record?: PendingRecord;
  /**
   * What the result is for. `show` (default): a completed record's stored result is enough.
   * `files`: the output files are to be saved, so a stored result that kept an inline output
   * only as a digest (or was too large to keep) is fetched from fal again.
   */
  readonly need?: 'show' | 'files';
  /** The command that waits for a request still running, for the message. */
  readonly waitCommand?: string;
  readonly signal?: AbortSignal | undefined;
}

/** A completed request's output, and whether it came from the store. */
export interface FetchedResult extends CompletedRequest {
  readonly fromStore: boolean;
}

/**
 * A finished request's output. A completed record answers from the store (no HTTP call)
 * unless its stored result cannot serve `need`; otherwise fal's result endpoint is asked
 * (as a request fal accepted when the store knows it, so one fal has dropped is `expired`),
 * the outcome is recorded through the one outcome rule, and a failure, cancellation or
 * expiry throws its error. A request still running is an error that says how to wait for it.
 */
export async function fetchResult(options: FetchResultOptions): Promise<FetchedResult> {
  const { client, store, endpointId, requestId, record } = options;
  if (
    record?.status === 'completed' &&
    record.result !== undefined &&
    (options.need !== 'files' || (await storedResultHasFiles(record.result)))
  ) {
    return { requestId, endpointId, output: record.result, record, fromStore: true };
  }
  let outcome: RequestOutcome;
  try {
    outcome = await client.result(endpointId, requestId, {
      knownRequest: record !== undefined,
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof ApiError && error.status === 400) {
      throw new ApiError(
        `Request ${requestId} has not finished yet; wait for it with: ${options.waitCommand ?? `falai wait ${requestId}`}`,
        { status: 400, requestId, detail: error.detail },
      );
    }
    throw error;
  }
  return { ...(await settleOutcome(store, outcome, record)), fromStore: false };
}
