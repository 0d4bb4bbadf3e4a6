import { AbortedError, AuthError, FalaiError } from '../errors/index.js';
import { sleep } from './http.js';
import { DEFAULT_POLL_POLICY, nextPollDelay, type PollPolicy } from './poll-policy.js';
import { outcomeFromStatusError } from './status.js';
import type {
  QueueStatus,
  RequestOutcome,
  ResultOptions,
  StatusOptions,
  StreamOptions,
  WaitOptions,
} from './types.js';

/** The client calls `wait` builds on. */
export interface WaitDeps {
  status(endpointId: string, requestId: string, options: StatusOptions): Promise<QueueStatus>;
  stream(endpointId: string, requestId: string, options: StreamOptions): AsyncIterable<QueueStatus>;
  result(endpointId: string, requestId: string, options: ResultOptions): Promise<RequestOutcome>;
}

/**
 * Waits for a request to end: follows the SSE status stream (two HTTP requests per
 * job: the stream and the result) and falls back to polling with a growing interval
 * when the stream cannot be opened or breaks. Auth errors and NOT_FOUND are not
 * "stream problems" and end the wait. The overall `timeoutMs` gives up waiting without
 * cancelling the request.
 */
export async function waitForRequest(
  deps: WaitDeps,
  endpointId: string,
  requestId: string,
  options: WaitOptions = {},
): Promise<RequestOutcome> {
  const started = Date.now();
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // An 'abort' listener added to a signal that is already aborted never runs.
  if (options.signal?.aborted) onAbort();
  let timedOut = false;
  const deadline =
    options.timeoutMs !== undefined
      ? setTimeout(() => {
          timedOut = true;
          controller.abort(new Error('wait timeout'));
        }, options.timeoutMs)
      : undefined;
  const signal = controller.signal;
  const mode = options.mode ?? 'auto';
  const logs = options.logs ?? false;
  let seenLogs = 0;
  let lastState: QueueStatus['state'] | undefined;
  let lastPosition: number | undefined;

  const report = (status: QueueStatus, via: 'stream' | 'poll', incrementalLogs: boolean) => {
    let newLogs = status.logs;
    if (!incrementalLogs) {
      newLogs = status.logs.slice(seenLogs);
      seenLogs = Math.max(seenLogs, status.logs.length);
    } else seenLogs += status.logs.length;
    const changed = status.state !== lastState || status.queuePosition !== lastPosition;
    lastState = status.state;
    lastPosition = status.queuePosition;
    if (options.onProgress && (changed || newLogs.length > 0)) {
      options.onProgress({
        state: status.state,
        ...(status.queuePosition !== undefined ? { queuePosition: status.queuePosition } : {}),
        newLogs,
        elapsedMs: Date.now() - started,
        via,
      });
    }
  };

  const finish = async (status: QueueStatus): Promise<RequestOutcome> => {
    try {
      // fal just answered the status, so it knows the request: a 404 now means expired.
      return await deps.result(endpointId, requestId, { signal, knownRequest: true });
    } catch (error) {
      // The status already says how it ended; if the result call cannot tell us more,
      // report the failure from the status rather than losing it.
      if (status.error && !(FalaiError.isInstance(error) && error.code === 'ABORTED'))
        return outcomeFromStatusError(status, { endpointId, requestId });
      throw error;
    }
  };

  try {
    if (mode !== 'poll') {
      let completed: QueueStatus | undefined;
      try {
        for await (const status of deps.stream(endpointId, requestId, {
          logs,
          signal,
          ...(options.streamIdleTimeoutMs !== undefined
            ? { idleTimeoutMs: options.streamIdleTimeoutMs }
            : {}),
        })) {
          report(status, 'stream', true);
          if (status.state === 'completed') {
            completed = status;
            break;
          }
        }
      } catch (error) {
        if (mode === 'stream' || !isStreamProblem(error) || signal.aborted) throw error;
      }
      // Outside the try: a failing result call is not a stream problem to fall back from.
      if (completed) return await finish(completed);
    }
    const policy: PollPolicy = { ...DEFAULT_POLL_POLICY, ...options.pollPolicy };
    let previousDelayMs: number | undefined;
    let changed = false;
    for (;;) {
      const before = lastState;
      const status = await deps.status(endpointId, requestId, { logs, signal });
      report(status, 'poll', false);
      if (status.state === 'completed') return await finish(status);
      changed = before !== undefined && before !== status.state;
      previousDelayMs = nextPollDelay(policy, {
        previousDelayMs,
        changed,
      });
      await sleep(previousDelayMs, signal);
    }
  } catch (error) {
    if (timedOut) {
      throw new AbortedError(
        'TIMEOUT',
        `Stopped waiting for request ${requestId} after ${options.timeoutMs} ms; it is still ${lastState ?? 'pending'} at fal. Resume with: falai wait ${requestId}`,
        { details: { requestId, endpointId, timeoutMs: options.timeoutMs, lastState } },
      );
    }
    if (options.signal?.aborted && !(FalaiError.isInstance(error) && error.code === 'ABORTED')) {
      throw new AbortedError('ABORTED', `Waiting for request ${requestId} was aborted.`, {
        details: { requestId, endpointId },
      });
    }
    throw error;
  } finally {
    clearTimeout(deadline);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Errors after which polling can still work: anything but auth and abort. A 404 on the
 * stream falls back too (a server without the stream route); polling then reports a
 * genuinely unknown request with its own 404.
 */
function isStreamProblem(error: unknown): boolean {
  if (!FalaiError.isInstance(error)) return true;
  if (error instanceof AuthError) return false;
  return !['ABORTED', 'AUTH_MISSING', 'AUTH_INVALID', 'AUTH_REJECTED'].includes(error.code);
}
