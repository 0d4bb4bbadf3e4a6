import { AbortedError, ApiError } from '../errors/falai-error.js';
import type { FalClient, RequestOutcome, WaitProgress } from '../queue/types.js';
import type { PendingRecord } from '../store/record.js';
import type { PendingStore } from '../store/types.js';
import { type CompletedRequest, settleOutcome } from './outcome.js';

/**
 * One bound for a whole job (submit, wait, save): an abort signal that fires when it runs out,
 * and how it is named in messages (`--timeout 90s`, `timeout 90s`).
 */
export interface Deadline {
  readonly signal: AbortSignal;
  readonly label: string;
}

/**
 * A deadline `ms` from now, or undefined for none. It starts counting when called. `name`
 * is how the bound is called in messages (the CLI passes `--timeout`).
 */
export function deadlineAfter(ms: number | undefined, name = 'timeout'): Deadline | undefined {
  if (ms === undefined) return undefined;
  const amount = ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
  return { signal: AbortSignal.timeout(ms), label: `${name} ${amount}` };
}

/** Options of {@link waitAndFinalise}. */
export interface WaitAndFinaliseOptions {
  readonly client: FalClient;
  readonly store: PendingStore;
  readonly endpointId: string;
  readonly requestId: string;
  /**
   * The stored record, when the store knows the request: the outcome is recorded, and a
   * request fal no longer knows (status NOT_FOUND) is checked as one fal accepted, which ends
   * as `expired` instead of an error that would leave it pending forever.
   */
  readonly record?: PendingRecord;
  /** Stops waiting (the request keeps running at fal); ABORTED. */
  readonly signal?: AbortSignal | undefined;
  /** The job's bound (it replaces `timeoutMs`); TIMEOUT naming it and how to resume. */
  readonly deadline?: Deadline | undefined;
  /** Gives up waiting after this many ms (the request keeps running at fal); TIMEOUT. */
  readonly timeoutMs?: number;
  /** Collect log lines for `onProgress`. @default false */
  readonly logs?: boolean;
  /** Queue position, state and new log lines as they change. */
  readonly onProgress?: (progress: WaitProgress) => void;
}

/**
 * Waits for a request to end (the queue client's SSE stream, falling back to polling),
 * records the outcome in the store through the one outcome rule (when the store knows the
 * request; with `startedAt` from the first `running` seen), and returns the completed output.
 * A failed, cancelled or expired request throws its error after it is recorded. Stopping
 * (signal, timeout, deadline) leaves the request pending at fal and in the store, and the
 * error says how to pick the wait up again.
 */
export async function waitAndFinalise(options: WaitAndFinaliseOptions): Promise<CompletedRequest> {
  const { client, store, endpointId, requestId, record, deadline } = options;
  const signals = [options.signal, deadline?.signal].filter(
    (signal): signal is AbortSignal => signal !== undefined,
  );
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  let startedAt: string | undefined;
  let outcome: RequestOutcome;
  try {
    outcome = await client.wait(endpointId, requestId, {
      logs: options.logs ?? false,
      signal,
      ...(options.timeoutMs === undefined || deadline ? {} : { timeoutMs: options.timeoutMs }),
      onProgress: (progress) => {
        if (progress.state === 'running') startedAt ??= new Date().toISOString();
        options.onProgress?.(progress);
      },
    });
  } catch (error) {
    const forgotten =
      record !== undefined && error instanceof ApiError && error.code === 'NOT_FOUND';
    if (forgotten) {
      // fal answers 404 for a request it dropped after its retention period: ask the way one
      // asks about a request fal accepted, which reports `expired` rather than an unknown id.
      outcome = await client.result(endpointId, requestId, {
        knownRequest: true,
        signal,
      });
    } else {
      throw stoppedError(error, options);
    }
  }
  return settleOutcome(store, outcome, record, {
    ...(startedAt && !record?.startedAt ? { startedAt } : {}),
  });
}

/** A wait stopped by the deadline or the timeout says so and how to resume; else unchanged. */
function stoppedError(error: unknown, options: WaitAndFinaliseOptions): unknown {
  const { deadline, requestId } = options;
  const timedOut =
    deadline?.signal.aborted === true ||
    (error instanceof AbortedError && error.code === 'TIMEOUT');
  if (!timedOut || options.signal?.aborted) return error;
  const after = deadline ? ` after ${deadline.label}` : ' after the timeout';
  return new AbortedError(
    'TIMEOUT',
    `Stopped waiting for ${requestId}${after}; it is still pending at fal. Resume with: falai wait ${requestId}`,
    { cause: error, details: { requestId, endpointId: options.endpointId } },
  );
}
