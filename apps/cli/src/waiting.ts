import type { FalClient, OutputFile, PendingStore, RequestOutcome } from '@falai/core';
import { AbortedError, FalaiError } from '@falai/core';
import { type DownloadOptions, downloadOutputs } from './download.js';
import { sanitise } from './output.js';
import { ProgressLine } from './progress.js';
import { finalise, outcomeError } from './requests.js';

export interface WaitForOptions {
  readonly client: FalClient;
  readonly store: PendingStore;
  readonly endpointId: string;
  readonly requestId: string;
  readonly recorded: boolean;
  readonly timeoutMs?: number | undefined;
  /**
   * The command's `--timeout` (see {@link commandDeadline}): it covers the whole command, so
   * it replaces `timeoutMs` as the bound of this wait when given.
   */
  readonly deadline?: CommandDeadline | undefined;
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
  const progress = new ProgressLine(sanitise(options.requestId, { singleLine: true }), options.tty);
  const { deadline } = options;
  const signals = [options.signal, deadline?.signal].filter(
    (signal): signal is AbortSignal => signal !== undefined,
  );
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  let outcome: RequestOutcome;
  try {
    outcome = await options.client.wait(options.endpointId, options.requestId, {
      logs: options.logs || options.tty,
      ...(signal ? { signal } : {}),
      ...(options.timeoutMs === undefined || deadline ? {} : { timeoutMs: options.timeoutMs }),
      onProgress: (event) => {
        if (options.tty || options.logs) progress.update(event);
      },
    });
  } catch (error) {
    const timedOut =
      deadline?.signal.aborted === true ||
      (error instanceof AbortedError && error.code === 'TIMEOUT');
    if (timedOut && !options.signal?.aborted) {
      const after = deadline ? ` after --timeout ${deadline.label}` : ' after the timeout';
      throw new AbortedError(
        'TIMEOUT',
        `Stopped waiting for ${options.requestId}${after}; it is still pending at fal. Resume with: falai wait ${options.requestId}`,
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
  /** How each file is named (output-names.ts `outputTarget`); default `<id>-<index>.<ext>`. */
  readonly fileName?: DownloadOptions['fileName'];
  readonly force: boolean;
  readonly recorded: boolean;
  /** Files an earlier download saved: still there and unchanged, they are kept, not refused. */
  readonly previous?: DownloadOptions['previous'];
  readonly onKept?: DownloadOptions['onKept'];
  /** The command's `--timeout`: it bounds the downloads too. */
  readonly deadline?: CommandDeadline | undefined;
}): Promise<OutputFile[]> {
  const { deadline } = options;
  const outputs = await downloadOutputs({
    requestId: options.requestId,
    result: options.result,
    outDir: options.outDir,
    force: options.force,
    ...(options.fileName ? { fileName: options.fileName } : {}),
    ...(options.previous ? { previous: options.previous } : {}),
    ...(options.onKept ? { onKept: options.onKept } : {}),
    ...(deadline ? { signal: deadline.signal } : {}),
  }).catch((error: unknown) => {
    throw saveError(error, options.requestId, options.outDir, deadline);
  });
  if (options.recorded && outputs.length > 0) {
    await options.store.update(options.requestId, { outputs });
  }
  return outputs;
}

/** The `--timeout` of a whole command: one signal for submit, wait and download. */
export interface CommandDeadline {
  readonly signal: AbortSignal;
  /** How it was written, for messages (`90s`). */
  readonly label: string;
}

/** A deadline `ms` from now (`--timeout`), or none. Starts counting when called. */
export function commandDeadline(ms: number | undefined): CommandDeadline | undefined {
  if (ms === undefined) return undefined;
  const label = ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
  return { signal: AbortSignal.timeout(ms), label };
}

/** File-system errors that mean the outputs cannot be written where they were to go. */
const WRITE_FAILURES: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  EFBIG: 'the file is too large for this file system',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'the path is a folder',
  EIO: 'an input/output error',
};

/**
 * What a failed save becomes: the deadline passing is a `TIMEOUT`, a disk that cannot take
 * the files is `OUTPUT_WRITE_FAILED` naming the path; both say `falai download <id>` resumes
 * (the request completed and is recorded). Anything else is left as it is.
 */
function saveError(
  error: unknown,
  requestId: string,
  outDir: string,
  deadline: CommandDeadline | undefined,
): unknown {
  if (FalaiError.isInstance(error) && error.code === 'OUTPUT_EXISTS') return error;
  if (deadline?.signal.aborted) {
    return new AbortedError(
      'TIMEOUT',
      `Stopped saving the outputs of ${requestId} after --timeout ${deadline.label} (it covers the whole command). The request completed; save its files with: falai download ${requestId}`,
      { cause: error, details: { requestId } },
    );
  }
  const failure = errnoIn(error);
  if (!failure) return error;
  const path = (failure.path ?? outDir).replace(/\.\d+\.part$/, '');
  const why = WRITE_FAILURES[failure.code] ?? failure.code;
  const fix = ['ENOSPC', 'EDQUOT', 'EFBIG'].includes(failure.code)
    ? 'Free some space or choose another folder with --out'
    : 'Choose a folder you can write to with --out (or fix this one)';
  return new FalaiError(
    'OUTPUT_WRITE_FAILED',
    `Could not save the outputs of ${requestId} to ${path}: ${why} (${failure.code}). ${fix}, then resume with: falai download ${requestId}`,
    { cause: error, details: { requestId, path, errno: failure.code } },
  );
}

/** The first file-system error of WRITE_FAILURES in an error or its causes. */
function errnoIn(error: unknown): { code: string; path?: string } | undefined {
  for (let current = error, depth = 0; current && depth < 8; depth++) {
    const { code, path } = current as { code?: unknown; path?: unknown };
    if (typeof code === 'string' && code in WRITE_FAILURES) {
      return typeof path === 'string' ? { code, path } : { code };
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
