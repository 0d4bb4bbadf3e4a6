import type {
  CompletedRequest,
  Deadline,
  FalClient,
  PendingStore,
  RequestTarget,
} from '@falai/core';
import { deadlineAfter, waitAndFinalise } from '@falai/core';
import { sanitise } from './output.js';
import { ProgressLine } from './progress.js';

/** The `--timeout` of a whole command: one deadline for submit, wait and download. */
export function commandDeadline(ms: number | undefined): Deadline | undefined {
  return deadlineAfter(ms, '--timeout');
}

/**
 * Waits for a request with core's `waitAndFinalise` (stream with a polling fallback, the
 * outcome recorded by the one outcome rule), drawing its progress: a spinner on a terminal,
 * new log lines with `--logs`. Failures, cancellations and expiries throw their errors.
 */
export async function waitFor(options: {
  readonly client: FalClient;
  readonly store: PendingStore;
  readonly target: RequestTarget;
  /** The command's `--timeout` (see {@link commandDeadline}). */
  readonly deadline: Deadline | undefined;
  /** Show the spinner (TTY, not --json, not --quiet). */
  readonly tty: boolean;
  /** Print new log lines even without a TTY. */
  readonly logs: boolean;
  readonly signal?: AbortSignal;
}): Promise<CompletedRequest> {
  const { target, tty, logs } = options;
  const progress = new ProgressLine(sanitise(target.requestId, { singleLine: true }), tty);
  try {
    return await waitAndFinalise({
      client: options.client,
      store: options.store,
      endpointId: target.endpointId,
      requestId: target.requestId,
      ...(target.record ? { record: target.record } : {}),
      ...(options.deadline ? { deadline: options.deadline } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      logs: logs || tty,
      onProgress: (event) => {
        if (tty || logs) progress.update(event);
      },
    });
  } finally {
    progress.stop();
  }
}
