import * as v from 'valibot';
import { AbortedError, ApiError, AuthError, FalaiError } from '../errors/index.js';
import { parseJsonExact, stringifyJsonExact } from '../json/index.js';
import { formatBytes } from '../queue/byte-size.js';
import { networkError, networkErrorCode } from '../queue/errors.js';
import {
  DEFAULT_RETRY_POLICIES,
  isRetryableNetworkError,
  nextRetryDelay,
  parseRetryAfter,
  type RetryPolicy,
} from '../queue/retry.js';
import { redactKey } from '../redact/mask.js';
import { platformError } from './errors.js';

/**
 * Retries of Platform calls, as data: every call is a read (the estimate POST too, which
 * changes nothing), so they share the queue client's status policy: 429/500/502/503/504 and
 * any network error, 500 ms doubling with ±25 % jitter, `Retry-After` honoured up to 60 s.
 */
export const DEFAULT_PLATFORM_RETRY_POLICY: RetryPolicy = Object.freeze({
  ...DEFAULT_RETRY_POLICIES.status,
});

/** Largest Platform answer read. @default 4 MiB */
export const DEFAULT_PLATFORM_MAX_BYTES = 4 * 1024 * 1024;
/** Largest answer of a catalogue page with OpenAPI documents. @default 32 MiB */
export const DEFAULT_PLATFORM_OPENAPI_MAX_BYTES = 32 * 1024 * 1024;
/** Per attempt. @default 30 s */
export const DEFAULT_PLATFORM_TIMEOUT_MS = 30_000;

/** Shared state of one Platform client's calls. */
export interface PlatformHttpContext {
  readonly apiUrl: string;
  readonly fetch: typeof fetch;
  /** The key; throws AUTH_MISSING/AUTH_INVALID. */
  readonly getKey: () => Promise<string>;
  readonly userAgent: string;
  readonly policy: RetryPolicy;
  readonly timeoutMs: number;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random?: () => number;
}

/** One Platform call. */
export interface PlatformCall<T> {
  readonly method: 'GET' | 'POST';
  /** Below the API base, e.g. `/models/pricing`. */
  readonly path: string;
  readonly query?: URLSearchParams;
  readonly json?: unknown;
  /** `optional`: the key is sent when one is configured (the catalogue); `none`: never. */
  readonly auth: 'required' | 'optional' | 'none';
  /** The call needs an ADMIN key (for the 403 message). */
  readonly admin?: boolean;
  readonly schema: v.GenericSchema<unknown, T>;
  readonly maxBodyBytes: number;
  readonly signal?: AbortSignal | undefined;
}

class TooLarge extends Error {
  constructor(readonly received: number) {
    super('too large');
  }
}

/** Reads a body stream up to `max` bytes; more is cancelled at once. */
async function readCapped(body: ReadableStream<Uint8Array> | null, max: number): Promise<string> {
  if (!body) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw new TooLarge(size);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return parseJsonExact(text);
  } catch {
    return text.slice(0, 2000);
  }
}

/**
 * Runs one Platform call with ofetch under the retry policy: per-attempt timeout, caller abort,
 * `Retry-After`, a bounded body parsed exactly, no redirects, the answer checked with its
 * schema, and the error envelope mapped to falai's codes. The key never reaches an error.
 */
export async function platformCall<T>(ctx: PlatformHttpContext, call: PlatformCall<T>): Promise<T> {
  let key: string | undefined;
  if (call.auth === 'required') key = await ctx.getKey();
  else if (call.auth === 'optional') {
    try {
      key = await ctx.getKey();
    } catch (error) {
      // No key at all is fine for the catalogue; a malformed one is still an error.
      if (!(AuthError.isInstance(error) && error.code === 'AUTH_MISSING')) throw error;
    }
  }
  const operation = `${call.method} ${call.path}`;
  const redact = (text: string) => redactKey(text, key);
  const errorContext = {
    operation: `Platform API ${operation}`,
    retryStatuses: ctx.policy.statuses,
    redact,
  };
  const url = `${ctx.apiUrl}${call.path}${call.query && [...call.query].length > 0 ? `?${call.query}` : ''}`;
  const headers: Record<string, string> = {
    accept: 'application/json',
    'user-agent': ctx.userAgent,
  };
  if (key) headers.authorization = `Key ${key}`;
  if (call.json !== undefined) headers['content-type'] = 'application/json';
  // ofetch (and the fetch polyfill it loads) only when a Platform call is made: importing it
  // costs more than the rest of falai's start-up.
  const { createFetch } = await import('ofetch');
  const $fetch = createFetch({ fetch: ctx.fetch });

  const backoff = async (attempt: number, retryAfterMs?: number): Promise<boolean> => {
    const delay = nextRetryDelay(ctx.policy, attempt, retryAfterMs, ctx.random);
    if (delay === undefined) return false;
    try {
      await ctx.sleep(delay, call.signal);
    } catch (reason) {
      throw aborted(operation, reason);
    }
    return true;
  };

  for (let attempt = 0; ; attempt++) {
    if (call.signal?.aborted) throw aborted(operation, call.signal.reason);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error('timeout'));
    }, ctx.timeoutMs);
    const onAbort = () => controller.abort(call.signal?.reason);
    call.signal?.addEventListener('abort', onAbort, { once: true });
    let status: number;
    let responseHeaders: Headers;
    let text: string;
    try {
      const response = await $fetch.raw(url, {
        method: call.method,
        headers,
        ...(call.json !== undefined ? { body: stringifyJsonExact(call.json) } : {}),
        retry: false,
        ignoreResponseError: true,
        responseType: 'stream',
        redirect: 'manual',
        signal: controller.signal,
      });
      status = response.status;
      responseHeaders = response.headers;
      text = await readCapped(response.body, call.maxBodyBytes);
    } catch (error) {
      if (error instanceof TooLarge) {
        throw new ApiError(
          `fal's Platform API (${operation}) answered more than ${formatBytes(call.maxBodyBytes)} (at least ${formatBytes(error.received)}); it was not read further. Ask for fewer items (limit) or raise maxBodyBytes.`,
          { status: 200, retryable: false, details: { maxBytes: call.maxBodyBytes } },
        );
      }
      if (call.signal?.aborted) throw aborted(operation, call.signal.reason);
      if (timedOut) {
        throw new AbortedError(
          'TIMEOUT',
          `fal's Platform API (${operation}) did not answer within ${ctx.timeoutMs} ms. Try again or raise timeoutMs.`,
          { details: { timeoutMs: ctx.timeoutMs } },
        );
      }
      if (FalaiError.isInstance(error)) throw error;
      const code = networkErrorCode(error);
      if (isRetryableNetworkError(ctx.policy, code) && (await backoff(attempt))) continue;
      throw networkError(error, { ...errorContext, url });
    } finally {
      clearTimeout(timer);
      call.signal?.removeEventListener('abort', onAbort);
    }
    if (status >= 300 && status < 400) {
      throw new ApiError(
        `fal's Platform API (${operation}) redirected (HTTP ${status}); falai does not follow redirects with a key. Check FALAI_API_URL and any proxy in between.`,
        { status, retryable: false, details: { status } },
      );
    }
    const data = parseBody(text);
    if (status >= 200 && status < 300) {
      if (typeof data === 'string' || data === undefined) {
        throw new ApiError(
          `fal's Platform API (${operation}) answered HTTP ${status} with something that is not JSON; nothing was used. Check FALAI_API_URL and any proxy in between.`,
          { status, retryable: false, details: { status } },
        );
      }
      const parsed = v.safeParse(call.schema, data);
      if (!parsed.success) {
        const issue = parsed.issues[0];
        const path = v.getDotPath(issue) ?? '(root)';
        throw new ApiError(
          `fal's Platform API (${operation}) answered in a shape falai does not understand (${path}: ${redact(issue.message)}); nothing was used. If fal changed its API, update falai.`,
          { status, retryable: false, details: { status, path } },
        );
      }
      return parsed.output;
    }
    if (
      ctx.policy.statuses.includes(status) &&
      (await backoff(attempt, parseRetryAfter(responseHeaders.get('retry-after'))))
    ) {
      continue;
    }
    throw platformError(status, responseHeaders, data, {
      operation,
      admin: call.admin ?? false,
      retryStatuses: ctx.policy.statuses,
      redact,
    });
  }
}

function aborted(operation: string, reason: unknown): AbortedError {
  return new AbortedError('ABORTED', `fal's Platform API call (${operation}) was aborted.`, {
    ...(reason !== undefined && !(reason instanceof Error && reason.name === 'AbortError')
      ? { details: { reason: String(reason) } }
      : {}),
  });
}
