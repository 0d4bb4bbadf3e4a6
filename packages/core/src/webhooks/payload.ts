import { FalaiError, InputError, type InputIssue, QueueError } from '../errors/index.js';
import { issuesFromDetail } from '../queue/errors.js';
import type { RequestOutcome } from '../queue/index.js';
import { CANCEL_ERROR_TYPES, TIMEOUT_ERROR_TYPES } from '../queue/status.js';
import type { WebhookDelivery, WebhookOutcome } from './types.js';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function invalid(message: string): FalaiError {
  return new FalaiError('WEBHOOK_INVALID', `Not a fal webhook body: ${message}`);
}

function describeIssues(issues: readonly InputIssue[]): string {
  return issues
    .slice(0, 3)
    .map((issue) =>
      issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
    )
    .join('; ');
}

/** The outcome of a `status: "ERROR"` delivery, with the errors polling would raise. */
function failureOf(body: Record<string, unknown>, requestId: string): WebhookOutcome {
  const errorText = typeof body.error === 'string' ? body.error : 'The request failed';
  const payload = body.payload;
  const detail = isObject(payload) ? payload.detail : undefined;
  const errorType =
    isObject(payload) && typeof payload.error_type === 'string' ? payload.error_type : undefined;
  const statusMatch = /\b([1-5]\d\d)\b/.exec(errorText);
  const status = statusMatch ? Number(statusMatch[1]) : undefined;
  const details = {
    requestId,
    ...(status === undefined ? {} : { status }),
    ...(errorType === undefined ? {} : { errorType }),
    ...(detail === undefined ? {} : { detail }),
  };

  if (errorType && CANCEL_ERROR_TYPES.has(errorType)) return { state: 'cancelled', requestId };
  if (status === 422 || (status === undefined && Array.isArray(detail))) {
    const issues = detail === undefined ? [] : issuesFromDetail(detail);
    const summary = issues.length ? describeIssues(issues) : errorText;
    return {
      state: 'failed',
      requestId,
      error: new InputError(
        `The model rejected the input: ${summary}. Fix the input and submit again.`,
        issues,
        { requestId, details: { ...details, issues } },
      ),
    };
  }
  const reason = typeof detail === 'string' ? `${errorText}: ${detail}` : errorText;
  const timedOut = errorType !== undefined && TIMEOUT_ERROR_TYPES.has(errorType);
  const error = timedOut
    ? new QueueError('REQUEST_TIMEOUT', `The request timed out on fal (${errorType}): ${reason}.`, {
        requestId,
        details,
      })
    : new QueueError('REQUEST_FAILED', `The request failed on fal: ${reason}.`, {
        requestId,
        details,
      });
  return { state: 'failed', requestId, error };
}

/**
 * Normalises a fal webhook body (already JSON-parsed) to the terminal state polling reports:
 * `OK` → completed with the output; `ERROR` → failed with the error `result()` would raise
 * (a 422 is an `InputError` with issues; timeouts are `REQUEST_TIMEOUT`; `client_cancelled`
 * is the `cancelled` state; anything else `REQUEST_FAILED`). `OK` with a null payload and
 * `payload_error` → `completed-without-payload`: the job completed but fal could not put the
 * output in the webhook; the result endpoint still has it, so callers must not finalise the
 * request from this delivery but fetch the result (`falai poll`).
 * Throws `FalaiError('WEBHOOK_INVALID')` for a body that is not a fal delivery.
 */
export function parseWebhookPayload(json: unknown): WebhookDelivery {
  if (!isObject(json)) throw invalid('expected a JSON object.');
  const requestId = json.request_id;
  if (typeof requestId !== 'string' || requestId.length === 0) {
    throw invalid('"request_id" is missing.');
  }
  const gateway =
    typeof json.gateway_request_id === 'string' && json.gateway_request_id.length > 0
      ? { gatewayRequestId: json.gateway_request_id }
      : {};
  const status = json.status;
  let outcome: WebhookOutcome;
  if (status === 'OK' && json.payload === null && typeof json.payload_error === 'string') {
    outcome = { state: 'completed-without-payload', requestId, payloadError: json.payload_error };
  } else if (status === 'OK') {
    outcome = { state: 'completed', requestId, output: json.payload };
  } else if (status === 'ERROR') {
    outcome = failureOf(json, requestId);
  } else {
    throw invalid(`unknown "status" ${JSON.stringify(status)} (expected "OK" or "ERROR").`);
  }
  return { requestId, ...gateway, outcome };
}

/**
 * The delivery's outcome as the queue client's `RequestOutcome`, given the stored endpoint id;
 * undefined for `completed-without-payload`, which is no final outcome (fetch the result).
 */
export function toRequestOutcome(
  delivery: WebhookDelivery,
  endpointId: string,
): RequestOutcome | undefined {
  if (delivery.outcome.state === 'completed-without-payload') return undefined;
  return { ...delivery.outcome, endpointId } as RequestOutcome;
}
