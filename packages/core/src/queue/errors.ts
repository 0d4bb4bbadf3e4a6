import {
  AbortedError,
  ApiError,
  AuthError,
  type FalaiError,
  InputError,
  type InputIssue,
  NetworkError,
  RateLimitError,
} from '../errors/index.js';
import { parseRetryAfter, UNSENT_NETWORK_CODES } from './retry.js';

/** The parts of an HTTP response the error mapping needs. */
export interface ErrorResponse {
  readonly status: number;
  readonly statusText?: string;
  readonly headers: { get(name: string): string | null };
  /** Parsed JSON body, or text. */
  readonly data: unknown;
}

/** What the failing call was about, for messages. */
export interface ErrorContext {
  /** `submit`, `status`, `result`, `cancel`, `stream`, `upload`. */
  readonly operation: string;
  /** What the call is about when the operation alone does not say (e.g. `part 3 of 12`). */
  readonly label?: string;
  readonly endpointId?: string;
  readonly requestId?: string;
  /** The statuses the operation's retry policy covers, for `retryable`. */
  readonly retryStatuses?: readonly number[];
  /** Cleans server-provided text of anything secret (the key). */
  readonly redact?: (text: string) => string;
}

function field(data: unknown, name: string): unknown {
  return typeof data === 'object' && data !== null
    ? (data as Record<string, unknown>)[name]
    : undefined;
}

function redactDeep(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === 'string') return redact(value);
  // Error details are printed with plain JSON.stringify: keep exact integers as their digits.
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, redact));
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, redactDeep(item, redact)]),
    );
  return value;
}

/** fal's `detail` as one line of text. */
export function detailText(detail: unknown): string | undefined {
  if (detail === undefined || detail === null) return undefined;
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail))
    return detail
      .map((item) => {
        const msg = field(item, 'msg');
        const loc = field(item, 'loc');
        const where = Array.isArray(loc) ? loc.filter((part) => part !== 'body').join('.') : '';
        return typeof msg === 'string' ? (where ? `${where}: ${msg}` : msg) : JSON.stringify(item);
      })
      .join('; ');
  return JSON.stringify(detail);
}

/**
 * 422 `detail` → input issues. `loc` loses its leading `body`; a string detail
 * becomes one issue about the whole input (as fal-js `ValidationError.fieldErrors`).
 */
export function issuesFromDetail(detail: unknown): InputIssue[] {
  if (Array.isArray(detail)) {
    return detail.map((item) => {
      const loc = field(item, 'loc');
      const path = Array.isArray(loc)
        ? loc
            .filter((part, index) => !(index === 0 && part === 'body'))
            .filter(
              (part): part is string | number =>
                typeof part === 'string' || typeof part === 'number',
            )
        : [];
      const msg = field(item, 'msg');
      const type = field(item, 'type');
      return {
        path,
        message: typeof msg === 'string' ? msg : JSON.stringify(item),
        ...(typeof type === 'string' ? { kind: type } : {}),
      };
    });
  }
  const text = detailText(detail);
  return [{ path: [], message: text ?? 'The model rejected the input', kind: 'value_error' }];
}

/** True when the 504 is fal's "your start timeout expired", which must not be retried. */
export function isUserTimeout(response: Pick<ErrorResponse, 'status' | 'headers'>): boolean {
  return (
    response.status === 504 &&
    (response.headers.get('x-fal-request-timeout-type') ?? '').toLowerCase() === 'user'
  );
}

/** `upload part 2 of 5 for fal-ai/x (request …)`: what a call was, for messages. */
export function describeCall(context: ErrorContext): string {
  const parts = [context.operation];
  if (context.label) parts.push(context.label);
  if (context.endpointId) parts.push(`for ${context.endpointId}`);
  if (context.requestId) parts.push(`(request ${context.requestId})`);
  return parts.join(' ');
}

/**
 * The ONE mapping from an HTTP error response to a FalaiError: 401/403 → AuthError
 * AUTH_REJECTED, 404 → ApiError NOT_FOUND, 422 → InputError with field paths,
 * 429 → RateLimitError (Retry-After), anything else → ApiError.
 */
export function responseToError(response: ErrorResponse, context: ErrorContext): FalaiError {
  const redact = context.redact ?? ((text: string) => text);
  const data = redactDeep(response.data, redact);
  const detail =
    field(data, 'detail') ??
    field(data, 'message') ??
    (typeof data === 'string' && data.trim() ? data.trim().slice(0, 500) : undefined);
  const text = detailText(detail);
  const errorType =
    (typeof field(data, 'error_type') === 'string'
      ? (field(data, 'error_type') as string)
      : undefined) ??
    response.headers.get('x-fal-error-type') ??
    undefined;
  const requestId = response.headers.get('x-fal-request-id') ?? context.requestId;
  const status = response.status;
  const what = describeCall(context);
  // fal's detail is often a sentence of its own; ours goes on after it with one period.
  const said = text ? `: ${text.replace(/[\s.]+$/, '')}` : '';
  const common = {
    ...(requestId ? { requestId } : {}),
    ...(detail !== undefined ? { detail } : {}),
    ...(errorType ? { errorType } : {}),
  };

  if (status === 401 || status === 403) {
    const locked = status === 403 && /locked|balance|billing/i.test(text ?? '');
    // fal's locked-account detail already says "Top up your balance at …": not twice.
    const fix = locked
      ? /top up/i.test(text ?? '')
        ? ''
        : ' Top up your balance at https://fal.ai/dashboard/billing.'
      : ' Check the key (falai check-key) or create a new one at https://fal.ai/dashboard/keys.';
    return new AuthError(
      'AUTH_REJECTED',
      `fal rejected the API key (HTTP ${status}) on ${what}${said}.${fix}`,
      {
        status,
        details: { status, ...common },
      },
    );
  }
  if (status === 404) {
    // A 404 at submit can only mean the endpoint: no request exists yet, so nothing expired.
    const fix =
      context.operation === 'submit'
        ? ` The endpoint id${context.endpointId ? ` ${context.endpointId}` : ''} is unknown to fal: check its spelling (owner/alias[/path]) at https://fal.ai/models.`
        : ' Check the endpoint id and the request id; results expire an hour after completion (6 minutes when the result is 10 KB or more).';
    return new ApiError(`fal found nothing (HTTP 404) on ${what}${said}.${fix}`, {
      status,
      code: 'NOT_FOUND',
      retryable: false,
      ...common,
    });
  }
  if (status === 422) {
    const issues = issuesFromDetail(detail);
    return new InputError(
      `The model rejected the input (HTTP 422) on ${what}: ${issues
        .map((issue) =>
          issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
        )
        .join('; ')}. Fix the input and submit again.`,
      issues,
      {
        ...(requestId ? { requestId } : {}),
        details: { status, issues, ...common },
      },
    );
  }
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    return new RateLimitError(
      `fal is rate limiting (HTTP 429) ${what}${said}. Wait${retryAfterMs !== undefined ? ` ${Math.ceil(retryAfterMs / 1000)} s` : ' a moment'} and try again, or lower the concurrency.`,
      {
        status,
        ...(requestId ? { requestId } : {}),
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        details: { status, ...common, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
      },
    );
  }
  const userTimeout = isUserTimeout(response);
  const retryable =
    !userTimeout && (context.retryStatuses ?? [429, 500, 502, 503, 504]).includes(status);
  const hint = userTimeout
    ? ' The request did not start within its start timeout; raise it or try later.'
    : status >= 500
      ? ' This is a problem on fal’s side; try again later.'
      : '';
  return new ApiError(`fal answered HTTP ${status} on ${what}${said}.${hint}`, {
    status,
    retryable,
    ...common,
  });
}

/** Node/undici error code of a failed fetch, digging through causes and AggregateErrors. */
export function networkErrorCode(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length) {
    const current = queue.shift();
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code.length > 0) return code;
    queue.push((current as { cause?: unknown }).cause);
    const errors = (current as { errors?: unknown }).errors;
    if (Array.isArray(errors)) queue.push(...errors);
  }
  return undefined;
}

/** A transport failure as a NetworkError with a message that says what it means. */
export function networkError(
  error: unknown,
  context: ErrorContext & { readonly url: string },
): NetworkError {
  const code = networkErrorCode(error);
  const host = (() => {
    try {
      return new URL(context.url).origin;
    } catch {
      return context.url;
    }
  })();
  const what = describeCall(context);
  const reason =
    code === 'ECONNREFUSED'
      ? `nothing is listening at ${host} (connection refused)`
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? `cannot resolve ${host}`
        : `the connection to ${host} failed (${code ?? 'network error'})`;
  const ambiguous =
    context.operation === 'submit' && code !== undefined && !UNSENT_NETWORK_CODES.has(code)
      ? ' The submit may have been accepted before the connection broke; it was not retried to avoid paying twice. Check your fal dashboard before submitting again.'
      : ' Check your network or FALAI_BASE_URL and try again.';
  return new NetworkError(`${what} failed: ${reason}.${ambiguous}`, {
    cause: error,
    details: {
      ...(code ? { code } : {}),
      url: host,
      ...(context.requestId ? { requestId: context.requestId } : {}),
    },
  });
}

/** A per-call timeout. */
export function timeoutError(context: ErrorContext, timeoutMs: number): AbortedError {
  return new AbortedError(
    'TIMEOUT',
    `${describeCall(context)} timed out after ${timeoutMs} ms.${context.operation === 'submit' ? ' The submit may still have been accepted; it was not retried.' : ' Try again or raise the timeout.'}`,
    { details: { timeoutMs, ...(context.requestId ? { requestId: context.requestId } : {}) } },
  );
}

/** The caller aborted. */
export function abortedError(context: ErrorContext, reason?: unknown): AbortedError {
  return new AbortedError('ABORTED', `${describeCall(context)} was aborted.`, {
    ...(reason !== undefined && !(reason instanceof Error && reason.name === 'AbortError')
      ? { details: { reason: String(reason) } }
      : {}),
  });
}
