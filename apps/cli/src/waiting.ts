import type { FalClient, OutputFile, PendingStore, RequestOutcome } from '@falai/core';
import { AbortedError } from '@falai/core';
import { downloadOutputs } from './download.js';
import { ProgressLine } from './progress.js';
import { finalise, outcomeError } from './requests.js';

export interface WaitForOptions {
  readonly client: FalClient;
  readonly store: PendingStore;
  readonly endpointId: string;
  readonly requestId: string;
  readonly recorded: boolean;
  readonly timeoutMs?: number | undefined;
  /** Show the spinner (TTY, not --json, not --quiet). */
  readonly tty: boolean;
  /** Print new log lines even without a TTY. */
  readonly logs: boolean;
  readonly signal?: AbortSignal;
}

/**
 * Waits for a request (SSE with a polling fallback, in core), records the outcome in the
 * store, and returns the completed output; failures and cancellations throw their errors.
 */
export async function waitFor(
  options: WaitForOptions,
): Promise<RequestOutcome & { state: 'completed' }> {
  const progress = new ProgressLine(options.requestId, options.tty);
  let outcome: RequestOutcome;
  try {
    outcome = await options.client.wait(options.endpointId, options.requestId, {
      logs: options.logs || options.tty,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      onProgress: (event) => {
        if (options.tty || options.logs) progress.update(event);
      },
    });
  } catch (error) {
    if (error instanceof AbortedError && error.code === 'TIMEOUT') {
      throw new AbortedError(
        'TIMEOUT',
        `Stopped waiting for ${options.requestId} after the timeout; it is still pending at fal. Resume with: falai wait ${options.requestId}`,
        { cause: error, details: { requestId: options.requestId } },
      );
    }
    throw error;
  } finally {
    progress.stop();
  }
  if (options.recorded) await finalise(options.store, options.requestId, outcome);
  const failure = outcomeError(outcome);
  if (failure) throw failure;
  return outcome as RequestOutcome & { state: 'completed' };
}

/** Downloads a completed request's outputs and records them on its store record. */
export async function saveOutputs(options: {
  readonly store: PendingStore;
  readonly requestId: string;
  readonly result: unknown;
  readonly outDir: string;
  readonly force: boolean;
  readonly recorded: boolean;
}): Promise<OutputFile[]> {
  const outputs = await downloadOutputs({
    requestId: options.requestId,
    result: options.result,
    outDir: options.outDir,
    force: options.force,
  });
  if (options.recorded && outputs.length > 0) {
    await options.store.update(options.requestId, { outputs });
  }
  return outputs;
}
