import type { FalClient, PendingStore, Redactor } from '@falai/core';
import type {
  CompletedRequest,
  Deadline,
  RequestExpectation,
  RequestTarget,
} from '@falai/core/internal';
import { deadlineAfter, ProgressTracker, waitAndFinalise } from '@falai/core/internal';
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
  /** What fal expects of the request (duration estimate, analytics), for the ETA. */
  readonly expectation?: () => Promise<RequestExpectation>;
  /** The command's redactor, for everything printed while waiting. */
  readonly redactor: Redactor;
}): Promise<CompletedRequest> {
  const { target, tty, logs } = options;
  // The ETA and the queue's trend (congested vs likely stalled): core's tracker, fed below.
  const tracker = new ProgressTracker();
  if (tty || logs) {
    options
      .expectation?.()
      .then((expected) => tracker.expect(expected))
      .catch(() => undefined);
  }
  let saidTrend: string | undefined;
  const progress = new ProgressLine(
    sanitise(target.requestId, options.redactor, { singleLine: true }),
    tty,
    options.redactor,
    process.stderr,
    () => tracker.estimate().text,
  );
  try {
    return await waitAndFinalise({
      client: options.client,
      store: options.store,
      endpointId: target.endpointId,
      requestId: target.requestId,
      ...(target.record ? { record: target.record } : {}),
      deadline: options.deadline,
      signal: options.signal,
      logs: logs || tty,
      onProgress: (event) => {
        tracker.update(event);
        if (tty || logs) progress.update(event);
        // Without a terminal (--logs), say once when the queue turns congested or stalled.
        const trend = tracker.estimate();
        if (!tty && logs && trend.trend !== saidTrend) {
          if (trend.trend === 'congested' || trend.trend === 'stalled')
            process.stderr.write(
              `  ${sanitise(trend.text, options.redactor, { singleLine: true })}\n`,
            );
          saidTrend = trend.trend;
        }
      },
    });
  } finally {
    progress.stop();
  }
}
