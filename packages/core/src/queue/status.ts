import { ApiError, type FalaiError, InputError, QueueError } from '../errors/index.js';
import { responseToError } from './errors.js';
import type { HttpResponse } from './http.js';
import type { LogEntry, QueueStatus, RequestOutcome } from './types.js';

function field(data: unknown, name: string): unknown {
  return typeof data === 'object' && data !== null
    ? (data as Record<string, unknown>)[name]
    : undefined;
}

function logEntries(value: unknown): LogEntry[] {
  if (!Array.isArray(value)) return [];
  return value.map((item) => {
    if (typeof item === 'string') return { message: item };
    const message = field(item, 'message');
    const level = field(item, 'level');
    const source = field(item, 'source');
    const timestamp = field(item, 'timestamp');
    return {
      message: typeof message === 'string' ? message : JSON.stringify(item),
      ...(typeof level === 'string' ? { level } : {}),
      ...(typeof source === 'string' ? { source } : {}),
      ...(typeof timestamp === 'string' ? { timestamp } : {}),
    };
  });
}

const STATES: Record<string, QueueStatus['state']> = {
  IN_QUEUE: 'queued',
  IN_PROGRESS: 'running',
  COMPLETED: 'completed',
};

/**
 * fal's status object → {@link QueueStatus}. There is no FAILED/CANCELLED on the wire
 * (§4); a failure is COMPLETED with `error`/`error_type`, and its details come from
 * the result call.
 */
export function normaliseStatus(
  raw: unknown,
  context: { endpointId?: string; requestId?: string } = {},
): QueueStatus {
  const status = field(raw, 'status');
  const state = typeof status === 'string' ? STATES[status] : undefined;
  if (!state) {
    throw new ApiError(
      `fal sent an unexpected status ${JSON.stringify(status ?? null)} for request ${context.requestId ?? '?'}. Update falai or report this.`,
      {
        status: 200,
        ...(context.requestId ? { requestId: context.requestId } : {}),
        detail: raw,
      },
    );
  }
  const position = field(raw, 'queue_position');
  const metrics = field(raw, 'metrics');
  const inference = field(metrics, 'inference_time');
  const error = field(raw, 'error');
  const errorType = field(raw, 'error_type');
  return {
    state,
    ...(typeof position === 'number' ? { queuePosition: position } : {}),
    logs: logEntries(field(raw, 'logs')),
    ...(metrics && typeof metrics === 'object'
      ? { metrics: { inferenceTime: typeof inference === 'number' ? inference : null } }
      : {}),
    ...(typeof error === 'string' && error ? { error } : {}),
    ...(typeof errorType === 'string' && errorType ? { errorType } : {}),
    raw,
  };
}

/** fal `error_type`s (HTTP 499) that mean the request was cancelled, not that it failed. */
export const CANCEL_ERROR_TYPES: ReadonlySet<string> = new Set([
  'client_cancelled',
  'client_disconnected',
]);
/** fal `error_type`s (HTTP 504) that mean the request timed out on fal's side. */
export const TIMEOUT_ERROR_TYPES: ReadonlySet<string> = new Set([
  'request_timeout',
  'startup_timeout',
]);

/**
 * True when a non-2xx result response is the request's own stored outcome rather than
 * a gateway hiccup: fal returns the model's status and body on the result call (§5),
 * tagged with `x-fal-request-id` and/or an error type. Such answers are never retried.
 */
export function isStoredResultError(
  response: Pick<HttpResponse, 'status' | 'headers' | 'data'>,
): boolean {
  return (
    response.headers.get('x-fal-request-id') !== null ||
    response.headers.get('x-fal-error-type') !== null ||
    typeof field(response.data, 'error_type') === 'string'
  );
}

/**
 * The result call answered 400 or 404 but the status says the request has not completed: it is
 * still pending, whatever the answer's text says (fal's wording is not part of the protocol).
 */
export function stillRunningError(
  status: QueueStatus,
  response: Pick<HttpResponse, 'status'>,
  context: { endpointId: string; requestId: string },
): ApiError {
  return new ApiError(
    `Request ${context.requestId} (${context.endpointId}) has not finished yet: fal says it is ${status.state} (the result call answered HTTP ${response.status}). Wait for it, e.g. falai wait ${context.requestId}.`,
    {
      status: response.status,
      requestId: context.requestId,
      retryable: true,
      details: { status: response.status, requestId: context.requestId, state: status.state },
    },
  );
}

/**
 * The request completed, but fal no longer holds its result (404 after completion): fal keeps
 * results about an hour, or about 6 minutes when they are 10 KB or larger (§5).
 */
export function expiredOutcome(context: { endpointId: string; requestId: string }): RequestOutcome {
  return {
    state: 'expired',
    ...context,
    error: new QueueError(
      'REQUEST_FAILED',
      `The result of request ${context.requestId} (${context.endpointId}) has expired: fal no longer holds it (fal keeps results about 1 hour after completion, about 6 minutes when they are 10 KB or larger). Submit the request again for a new result, and fetch results sooner (falai wait, or a webhook).`,
      { ...context, details: { reason: 'expired', requestId: context.requestId } },
    ),
  };
}

/**
 * The result call's answer → one terminal state: 2xx completed; 499 with a client
 * error type cancelled; 422 failed with InputError; other errors failed with
 * QueueError (REQUEST_TIMEOUT for fal-side timeouts) carrying the ApiError as cause.
 */
export function outcomeFromResult(
  response: Pick<HttpResponse, 'status' | 'statusText' | 'headers' | 'data'>,
  context: { endpointId: string; requestId: string; redact?: (text: string) => string },
): RequestOutcome {
  const { endpointId, requestId } = context;
  const units = billableUnitsOf(response.headers);
  const billed = units === undefined ? {} : { billableUnits: units };
  if (response.status >= 200 && response.status < 300)
    return { state: 'completed', requestId, endpointId, output: response.data, ...billed };
  const mapped = responseToError(response, {
    operation: 'result',
    endpointId,
    requestId,
    ...(context.redact ? { redact: context.redact } : {}),
  });
  const errorType =
    (field(response.data, 'error_type') as string | undefined) ??
    response.headers.get('x-fal-error-type') ??
    undefined;
  if (response.status === 499 || (errorType && CANCEL_ERROR_TYPES.has(errorType)))
    return { state: 'cancelled', requestId, endpointId };
  return {
    state: 'failed',
    requestId,
    endpointId,
    error: failure(mapped, response, errorType, context),
    ...billed,
  };
}

/** Most units a result may claim; anything larger is not a number fal would bill. */
const MAX_BILLABLE_UNITS = 1e9;

/**
 * The `x-fal-billable-units` header as a number (fal-platform-api.md §2: what the request was
 * billed; cost = units × unit price), or undefined when absent or not a plain non-negative
 * number within bounds (a value from outside is checked before it is used).
 */
export function billableUnitsOf(headers: { get(name: string): string | null }): number | undefined {
  const raw = headers.get('x-fal-billable-units')?.trim();
  if (!raw || raw.length > 32 || !/^\d+(\.\d+)?([eE][-+]?\d+)?$/.test(raw)) return undefined;
  const units = Number(raw);
  return Number.isFinite(units) && units >= 0 && units <= MAX_BILLABLE_UNITS ? units : undefined;
}

function failure(
  mapped: FalaiError,
  response: Pick<HttpResponse, 'status' | 'headers'>,
  errorType: string | undefined,
  context: { endpointId: string; requestId: string },
): FalaiError {
  if (mapped instanceof InputError) return mapped;
  const timedOut =
    (errorType !== undefined && TIMEOUT_ERROR_TYPES.has(errorType)) ||
    (response.status === 504 &&
      (response.headers.get('x-fal-request-timeout-type') ?? '').toLowerCase() === 'user');
  const code = timedOut ? 'REQUEST_TIMEOUT' : 'REQUEST_FAILED';
  const why = timedOut ? 'timed out on fal’s side' : 'failed';
  return new QueueError(
    code,
    `Request ${context.requestId} (${context.endpointId}) ${why}: ${mapped.message}`,
    {
      requestId: context.requestId,
      endpointId: context.endpointId,
      cause: mapped,
      details: mapped.toJSON(),
    },
  );
}

/** A failure known only from a COMPLETED status (when the result call is unavailable). */
export function outcomeFromStatusError(
  status: QueueStatus,
  context: { endpointId: string; requestId: string },
): RequestOutcome {
  if (status.errorType && CANCEL_ERROR_TYPES.has(status.errorType))
    return { state: 'cancelled', ...context };
  const timedOut = status.errorType !== undefined && TIMEOUT_ERROR_TYPES.has(status.errorType);
  return {
    state: 'failed',
    ...context,
    error: new QueueError(
      timedOut ? 'REQUEST_TIMEOUT' : 'REQUEST_FAILED',
      `Request ${context.requestId} (${context.endpointId}) failed: ${status.error ?? 'unknown error'}${status.errorType ? ` (${status.errorType})` : ''}.`,
      { ...context, details: { error: status.error, errorType: status.errorType } },
    ),
  };
}
