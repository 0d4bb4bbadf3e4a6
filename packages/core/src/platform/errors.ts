import * as v from 'valibot';
import {
  ApiError,
  AuthError,
  type FalaiError,
  InputError,
  RateLimitError,
} from '../errors/index.js';
import { parseRetryAfter } from '../queue/retry.js';
import { ErrorEnvelopeSchema } from './schemas.js';

/** What a failing Platform call was, for messages. */
export interface PlatformErrorContext {
  /** e.g. `GET /models/pricing`. */
  readonly operation: string;
  /** The call needs an ADMIN key (billing events, usage, account billing). */
  readonly admin: boolean;
  /** Statuses the call's retry policy covers, for `retryable`. */
  readonly retryStatuses: readonly number[];
  /** Cleans server text of the key. */
  readonly redact: (text: string) => string;
}

/** The envelope's `type` and `message`, or the plain text of a body that is not one. */
function envelope(data: unknown): { type?: string; message?: string; requestId?: string } {
  const parsed = v.safeParse(ErrorEnvelopeSchema, data);
  if (parsed.success) {
    return {
      ...(parsed.output.error.type ? { type: parsed.output.error.type } : {}),
      ...(parsed.output.error.message ? { message: parsed.output.error.message } : {}),
      ...(parsed.output.error.request_id ? { requestId: parsed.output.error.request_id } : {}),
    };
  }
  // Something in between (a proxy, the queue hosts' `{"detail"}`) answered instead.
  if (typeof data === 'string' && data.trim()) return { message: data.trim().slice(0, 300) };
  const detail = (data as { detail?: unknown } | undefined)?.detail;
  return typeof detail === 'string' ? { message: detail } : {};
}

/**
 * The Platform error envelope as a FalaiError: 401 → AUTH_REJECTED, 403 → AUTH_REJECTED (an
 * ADMIN endpoint says an ADMIN key is needed), 404 → NOT_FOUND, 400/422 `validation_error` →
 * INPUT_INVALID, 429 → RATE_LIMITED (with Retry-After), anything else → API_ERROR. The key
 * never appears: server text goes through `redact`.
 */
export function platformError(
  status: number,
  headers: { get(name: string): string | null },
  data: unknown,
  context: PlatformErrorContext,
): FalaiError {
  const { type, message, requestId } = envelope(data);
  const text = message ? context.redact(message).replace(/[\s.]+$/, '') : undefined;
  const said = text ? `: ${text}` : '';
  const what = `fal's Platform API (${context.operation})`;
  const common = {
    status,
    ...(type ? { errorType: type } : {}),
    ...(text ? { detail: text } : {}),
    ...(requestId ? { requestId } : {}),
  };
  const details = { status, ...(type ? { type } : {}), ...(text ? { message: text } : {}) };
  if (status === 401) {
    return new AuthError(
      'AUTH_REJECTED',
      `${what} rejected the key (HTTP 401)${said}. Check the key (falai check-key) or create one at https://fal.ai/dashboard/keys.`,
      { status, details },
    );
  }
  if (status === 403) {
    const fix = context.admin
      ? ' This needs an ADMIN key: an API key cannot read billing. Create a key with the ADMIN scope at https://fal.ai/dashboard/keys and use it for this call.'
      : ' Check that the key belongs to the account and may use this endpoint.';
    return new AuthError('AUTH_REJECTED', `${what} refused the key (HTTP 403)${said}.${fix}`, {
      status,
      details: { ...details, adminRequired: context.admin },
    });
  }
  if (status === 404) {
    return new ApiError(
      `${what} found nothing (HTTP 404)${said}. Check the endpoint and request ids.`,
      {
        ...common,
        code: 'NOT_FOUND',
        retryable: false,
        details,
      },
    );
  }
  if (status === 422 || status === 400 || type === 'validation_error') {
    return new InputError(
      `${what} refused the request (HTTP ${status})${said}. Fix the parameters and try again.`,
      [{ path: [], message: text ?? 'invalid request', kind: type ?? 'validation_error' }],
      { details },
    );
  }
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(headers.get('retry-after'));
    return new RateLimitError(
      `${what} is rate limiting (HTTP 429)${said}. Wait${retryAfterMs !== undefined ? ` ${Math.ceil(retryAfterMs / 1000)} s` : ' a moment'} and try again; a key raises the limit of the catalogue.`,
      {
        status,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        details: { ...details, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
      },
    );
  }
  const hint =
    status === 501 || type === 'not_implemented'
      ? ' fal does not offer this here.'
      : status >= 500
        ? ' This is a problem on fal’s side; try again later.'
        : '';
  return new ApiError(`${what} answered HTTP ${status}${said}.${hint}`, {
    ...common,
    retryable: context.retryStatuses.includes(status),
    details,
  });
}
