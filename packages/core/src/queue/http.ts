import type { $Fetch } from 'ofetch';
import { redactKey } from '../auth/mask.js';
import { FalaiError } from '../errors/index.js';
import {
  abortedError,
  type ErrorContext,
  isUserTimeout,
  networkError,
  networkErrorCode,
  responseToError,
  timeoutError,
} from './errors.js';
import {
  isRetryableNetworkError,
  nextRetryDelay,
  parseRetryAfter,
  type RetryPolicy,
} from './retry.js';

/** A request body other than JSON: bytes or a stream. */
export type RawBody = Uint8Array | ReadableStream<Uint8Array> | string;

/** Shared state of one client's HTTP calls. */
export interface HttpContext {
  /**
   * The ofetch instance, created on the first call: ofetch (with node-fetch-native) costs
   * ~30 ms to import, which CLI commands that never reach the network must not pay.
   */
  readonly $fetch: () => Promise<$Fetch>;
  /** Returns the key; throws AUTH_MISSING/AUTH_INVALID. Called once per authenticated call. */
  readonly getKey: () => Promise<string>;
  readonly userAgent: string;
  readonly defaultTimeoutMs: number;
  readonly random?: () => number;
}

/** One logical call (possibly several attempts). */
export interface HttpCall {
  readonly operation: 'submit' | 'status' | 'result' | 'cancel' | 'stream' | 'upload';
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly url: string;
  readonly headers?: Record<string, string>;
  /** A JSON value, or a factory for a raw body (called per attempt so streams can restart). */
  readonly json?: unknown;
  readonly rawBody?: () => RawBody | Promise<RawBody>;
  /** Send `Authorization: Key …` (false for pre-signed upload URLs). */
  readonly auth: boolean;
  readonly policy: RetryPolicy;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  readonly responseType?: 'json' | 'stream';
  readonly endpointId?: string;
  readonly requestId?: string;
  /** Non-2xx statuses the caller handles itself (returned, not thrown). */
  readonly accept?: (response: HttpResponse) => boolean;
  /** A retryable status that is nevertheless a final answer (e.g. a stored result error). */
  readonly isFinal?: (response: HttpResponse) => boolean;
}

/** A response the caller gets back. */
export interface HttpResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  /** Parsed JSON (or text), or a ReadableStream for `responseType: 'stream'`. */
  readonly data: unknown;
  /** Attempts that reached the network. */
  readonly attempts: number;
  /** Aborts the underlying request (ends a stream). */
  readonly abort: () => void;
}

/** Sleeps, rejecting early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function readErrorBody(data: unknown): Promise<unknown> {
  if (data && typeof (data as ReadableStream).getReader === 'function') {
    const text = await new Response(data as ReadableStream).text().catch(() => '');
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return data;
}

/**
 * Runs one call with its retry policy: per-attempt timeout, caller abort, Retry-After,
 * and the one error mapping. ofetch's own errors never leave this function.
 */
export async function httpCall(ctx: HttpContext, call: HttpCall): Promise<HttpResponse> {
  const timeoutMs = call.timeoutMs ?? ctx.defaultTimeoutMs;
  let key: string | undefined;
  if (call.auth) key = await ctx.getKey();
  const errorContext: ErrorContext = {
    operation: call.operation,
    ...(call.endpointId ? { endpointId: call.endpointId } : {}),
    ...(call.requestId ? { requestId: call.requestId } : {}),
    retryStatuses: call.policy.statuses,
    redact: (text) => redactKey(text, key),
  };
  const headers: Record<string, string> = {
    accept: call.responseType === 'stream' ? 'text/event-stream' : 'application/json',
    'user-agent': ctx.userAgent,
    ...call.headers,
  };
  if (call.json !== undefined) headers['content-type'] = 'application/json';
  if (key) headers.authorization = `Key ${key}`;

  for (let attempt = 0; ; attempt++) {
    if (call.signal?.aborted) throw abortedError(errorContext, call.signal.reason);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error('timeout'));
    }, timeoutMs);
    const onCallerAbort = () => controller.abort(call.signal?.reason);
    call.signal?.addEventListener('abort', onCallerAbort, { once: true });
    const release = () => {
      clearTimeout(timer);
      call.signal?.removeEventListener('abort', onCallerAbort);
    };

    let raw: Awaited<ReturnType<$Fetch['raw']>>;
    try {
      const body =
        call.json !== undefined
          ? JSON.stringify(call.json)
          : call.rawBody
            ? await call.rawBody()
            : undefined;
      raw = await (await ctx.$fetch()).raw(call.url, {
        method: call.method,
        headers,
        ...(body !== undefined ? { body } : {}),
        retry: 0,
        ignoreResponseError: true,
        signal: controller.signal,
        ...(call.responseType === 'stream' ? { responseType: 'stream' as const } : {}),
      });
    } catch (error) {
      release();
      if (FalaiError.isInstance(error)) throw error;
      if (call.signal?.aborted) throw abortedError(errorContext, call.signal.reason);
      if (timedOut) throw timeoutError(errorContext, timeoutMs);
      // ofetch wraps the native failure; keep only the native one (no request options).
      const native = (error as { cause?: unknown }).cause ?? error;
      const code = networkErrorCode(native);
      if (isRetryableNetworkError(call.policy, code)) {
        const delay = nextRetryDelay(call.policy, attempt, undefined, ctx.random);
        if (delay !== undefined) {
          await waitOrAbort(delay, call.signal, errorContext);
          continue;
        }
      }
      throw networkError(native, { ...errorContext, url: call.url });
    }

    const isStream = call.responseType === 'stream';
    // Streams keep the timer only until headers arrive; the body has its own idle timer.
    if (isStream) clearTimeout(timer);
    else release();
    const response: HttpResponse = {
      status: raw.status,
      statusText: raw.statusText,
      headers: raw.headers,
      data: raw._data,
      attempts: attempt + 1,
      abort: () => {
        release();
        controller.abort(new Error('closed'));
      },
    };
    if (raw.status >= 200 && raw.status < 300) return response;
    const data = await readErrorBody(raw._data);
    const settled = { ...response, data };
    if (isStream) release();
    if (call.accept?.(settled)) return settled;
    const retryableStatus =
      call.policy.statuses.includes(raw.status) &&
      !isUserTimeout(settled) &&
      !(call.isFinal?.(settled) ?? false);
    if (retryableStatus) {
      const delay = nextRetryDelay(
        call.policy,
        attempt,
        parseRetryAfter(raw.headers.get('retry-after')),
        ctx.random,
      );
      if (delay !== undefined) {
        await waitOrAbort(delay, call.signal, errorContext);
        continue;
      }
    }
    throw responseToError(settled, errorContext);
  }
}

async function waitOrAbort(
  ms: number,
  signal: AbortSignal | undefined,
  context: ErrorContext,
): Promise<void> {
  try {
    await sleep(ms, signal);
  } catch (reason) {
    throw abortedError(context, reason);
  }
}
