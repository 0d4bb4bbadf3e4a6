import { ApiError, FalaiError, NetworkError } from '../errors/index.js';
import { parseJsonExact, stringifyJsonExact } from '../json/index.js';
import { redactKey } from '../redact/mask.js';
import { formatBytes } from './byte-size.js';
import {
  abortedError,
  describeCall,
  type ErrorContext,
  isUserTimeout,
  networkError,
  networkErrorCode,
  responseToError,
  timeoutError,
} from './errors.js';
import {
  isRetryableNetworkError,
  isRetryableStatus,
  nextRetryDelay,
  parseRetryAfter,
  type RetryPolicy,
} from './retry.js';

/** A request body other than JSON: bytes or a stream. */
export type RawBody = Uint8Array | ReadableStream<Uint8Array> | string;

/** Largest status (and submit, cancel, upload) answer read. @default 1 MiB */
export const DEFAULT_MAX_STATUS_BYTES = 1024 * 1024;
/** Largest result answer read (data-URI outputs are inline). @default 64 MiB */
export const DEFAULT_MAX_RESULT_BYTES = 64 * 1024 * 1024;
/** Same-host redirects followed for one API call; another host is never followed. */
export const MAX_REDIRECTS = 5;

/** Shared state of one client's HTTP calls. */
export interface HttpContext {
  readonly fetch: typeof fetch;
  /** Returns the key; throws AUTH_MISSING/AUTH_INVALID. Called once per authenticated call. */
  readonly getKey: () => Promise<string>;
  readonly userAgent: string;
  readonly defaultTimeoutMs: number;
  /** Jitter source of retry delays. @default Math.random */
  readonly random?: () => number;
  /** Waits between retries. @default {@link sleep} */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** One logical call (possibly several attempts). */
export interface HttpCall {
  readonly operation: 'submit' | 'status' | 'result' | 'cancel' | 'stream' | 'upload';
  /** Names what the call is about in messages (e.g. `part 3 of 12`). */
  readonly label?: string;
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly url: string;
  readonly headers?: Record<string, string>;
  /** A JSON value, or a factory for a raw body (called per attempt so streams can restart). */
  readonly json?: unknown;
  readonly rawBody?: () => RawBody | Promise<RawBody>;
  /** Send `Authorization: Key …` (false for pre-signed upload URLs). */
  readonly auth: boolean;
  readonly policy: RetryPolicy;
  readonly signal?: AbortSignal | undefined;
  /** A total limit per attempt (API calls). Ignored when `idleTimeoutMs` is set. */
  readonly timeoutMs?: number;
  /**
   * No total limit: an attempt fails when nothing moves (request body pulled, headers or
   * response bytes received) for this long. For uploads, whose duration depends on the uplink.
   */
  readonly idleTimeoutMs?: number;
  readonly responseType?: 'json' | 'stream';
  /**
   * What a 2xx body must be: `json` (anything else is an API_ERROR), `json-or-empty`, or `any`
   * (JSON when it parses, else the text; pre-signed storage PUTs answer with empty or XML bodies).
   * @default 'json'
   */
  readonly expect?: 'json' | 'json-or-empty' | 'any';
  /** Largest answer read; past it the call fails with API_ERROR. @default 1 MiB */
  readonly maxBodyBytes?: number;
  /** Tells the caller how to raise `maxBodyBytes` in the error message. */
  readonly maxBodyHint?: string;
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

/** Thrown inside an attempt when the body passes the cap. */
class TooLarge extends Error {
  constructor(readonly received: number) {
    super('too large');
  }
}

/**
 * Reads a body up to `max` bytes as a stream: never more than the cap is held, and a body that
 * goes on past it (announced or not) is cancelled at once. `onChunk` marks progress.
 */
async function readCapped(
  response: Response,
  max: number,
  onChunk: () => void,
): Promise<Uint8Array> {
  const announced = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(announced) && announced > max) {
    await response.body?.cancel().catch(() => {});
    throw new TooLarge(announced);
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    onChunk();
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw new TooLarge(size);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return all;
}

/** A non-2xx body: JSON when it parses, else its text (bounded), else undefined. */
function errorBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return parseJsonExact(text);
  } catch {
    return text.slice(0, 2000);
  }
}

/**
 * Bytes in memory as a pull-driven stream of views (no copies), `chunk` bytes at a time: an
 * idle timer sees the upload progress, and nothing is read ahead of the HTTP client.
 */
export function bytesStream(bytes: Uint8Array, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  let position = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (position >= bytes.byteLength) {
          controller.close();
          return;
        }
        const next = Math.min(position + chunk, bytes.byteLength);
        controller.enqueue(bytes.subarray(position, next));
        position = next;
      },
    },
    { highWaterMark: 0 },
  );
}

/** Passes a stream through, calling `onChunk` each time the HTTP client takes a chunk. */
function watched(
  stream: ReadableStream<Uint8Array>,
  onChunk: () => void,
): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          return;
        }
        onChunk();
        controller.enqueue(value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * Runs one call with its retry policy: per-attempt total or idle timeout, caller abort,
 * Retry-After, bounded bodies, same-host redirects only, and the one error mapping. Raw fetch
 * errors never leave this function.
 */
export async function httpCall(ctx: HttpContext, call: HttpCall): Promise<HttpResponse> {
  const idleMs = call.idleTimeoutMs;
  const timeoutMs = call.timeoutMs ?? ctx.defaultTimeoutMs;
  const maxBody = call.maxBodyBytes ?? DEFAULT_MAX_STATUS_BYTES;
  const wait = ctx.sleep ?? sleep;
  let key: string | undefined;
  if (call.auth) key = await ctx.getKey();
  const errorContext: ErrorContext = {
    operation: call.operation,
    ...(call.label ? { label: call.label } : {}),
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
  const what = describeCall(errorContext);

  const backoff = async (attempt: number, retryAfterMs?: number): Promise<boolean> => {
    const delay = nextRetryDelay(call.policy, attempt, retryAfterMs, ctx.random);
    if (delay === undefined) return false;
    try {
      await wait(delay, call.signal);
    } catch (reason) {
      throw abortedError(errorContext, reason);
    }
    return true;
  };

  for (let attempt = 0; ; attempt++) {
    if (call.signal?.aborted) throw abortedError(errorContext, call.signal.reason);
    const controller = new AbortController();
    let expired: 'timeout' | 'stall' | undefined;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        expired = idleMs !== undefined ? 'stall' : 'timeout';
        controller.abort(new Error(expired));
      }, idleMs ?? timeoutMs);
    };
    // Progress re-arms the idle timer; a total timer is armed once.
    const touch = idleMs !== undefined ? arm : () => {};
    arm();
    const onCallerAbort = () => controller.abort(call.signal?.reason);
    call.signal?.addEventListener('abort', onCallerAbort, { once: true });
    const release = () => {
      clearTimeout(timer);
      call.signal?.removeEventListener('abort', onCallerAbort);
    };
    const body = async (): Promise<RequestInit['body'] | undefined> => {
      if (call.json !== undefined) return stringifyJsonExact(call.json);
      if (!call.rawBody) return undefined;
      const raw = await call.rawBody();
      if (idleMs === undefined) return raw as RequestInit['body'];
      if (typeof raw === 'string') return raw;
      return watched(raw instanceof Uint8Array ? bytesStream(raw) : raw, touch);
    };

    let raw: Response;
    let status = 0;
    let bytes: Uint8Array | undefined;
    try {
      let url = call.url;
      for (let hop = 0; ; hop++) {
        const init: RequestInit & { duplex?: 'half' } = {
          method: call.method,
          headers,
          redirect: 'manual',
          signal: controller.signal,
        };
        const payload = await body();
        if (payload !== undefined) {
          init.body = payload;
          if (payload instanceof ReadableStream) init.duplex = 'half';
        }
        raw = await ctx.fetch(url, init);
        status = raw.status;
        touch();
        const location = raw.headers.get('location');
        if (!REDIRECTS.has(raw.status) || location === null) break;
        await raw.body?.cancel().catch(() => {});
        const next = new URL(location, url).href;
        if (originOf(next) !== originOf(url))
          throw new ApiError(
            `${what} was redirected (HTTP ${raw.status}) to another host, ${originOf(next) ?? 'an invalid URL'}; falai does not follow that (the answer would not be fal's). Check FALAI_BASE_URL and any proxy in between.`,
            { status: raw.status, retryable: false, details: { status: raw.status } },
          );
        if (hop >= MAX_REDIRECTS)
          throw new ApiError(
            `${what} was redirected more than ${MAX_REDIRECTS} times; check FALAI_BASE_URL and any proxy in between.`,
            { status: raw.status, retryable: false },
          );
        // 301/302/303 turn a POST or PUT into a body-less GET: not what the caller asked for.
        if (call.method !== 'GET' && raw.status !== 307 && raw.status !== 308)
          throw new ApiError(
            `${what} was redirected (HTTP ${raw.status}) in a way that would drop its body; falai does not follow that. Check FALAI_BASE_URL and any proxy in between.`,
            { status: raw.status, retryable: false },
          );
        url = next;
      }
      const isStream = call.responseType === 'stream' && raw.status >= 200 && raw.status < 300;
      if (!isStream) bytes = await readCapped(raw, maxBody, touch);
    } catch (error) {
      release();
      if (FalaiError.isInstance(error)) throw error;
      if (error instanceof TooLarge) throw tooLarge(what, error.received, maxBody, call, status);
      if (call.signal?.aborted) throw abortedError(errorContext, call.signal.reason);
      if (expired === 'stall') {
        if (call.policy.retryStalls && (await backoff(attempt))) continue;
        throw stallError(what, idleMs ?? 0, attempt + 1, call);
      }
      if (expired === 'timeout') throw timeoutError(errorContext, timeoutMs);
      const native = (error as { cause?: unknown }).cause ?? error;
      const code = networkErrorCode(native);
      if (isRetryableNetworkError(call.policy, code) && (await backoff(attempt))) continue;
      throw networkError(native, { ...errorContext, url: call.url });
    }

    const ok = raw.status >= 200 && raw.status < 300;
    if (bytes === undefined) {
      // A stream keeps the caller's abort but not the timer: the body has its own idle timer.
      clearTimeout(timer);
      return {
        status: raw.status,
        statusText: raw.statusText,
        headers: raw.headers,
        data: raw.body,
        attempts: attempt + 1,
        abort: () => {
          release();
          controller.abort(new Error('closed'));
        },
      };
    }
    release();
    const text = new TextDecoder().decode(bytes);
    let data: unknown;
    if (ok) {
      data = parseOk(text, call.expect ?? 'json', raw, what, errorContext.redact ?? ((t) => t));
    } else data = errorBody(text);
    const response: HttpResponse = {
      status: raw.status,
      statusText: raw.statusText,
      headers: raw.headers,
      data,
      attempts: attempt + 1,
      abort: () => {},
    };
    if (ok) return response;
    if (call.accept?.(response)) return response;
    const hasRequestId = raw.headers.get('x-fal-request-id') !== null;
    const retryableStatus =
      isRetryableStatus(call.policy, raw.status, hasRequestId) &&
      !isUserTimeout(response) &&
      !(call.isFinal?.(response) ?? false);
    if (
      retryableStatus &&
      (await backoff(attempt, parseRetryAfter(raw.headers.get('retry-after'))))
    )
      continue;
    throw responseToError(response, {
      ...errorContext,
      retryStatuses: [
        ...call.policy.statuses,
        ...(hasRequestId ? [] : (call.policy.statusesWithoutRequestId ?? [])),
      ],
    });
  }
}

/** A 2xx body as the call expects it; a body that is not what fal sends is an API_ERROR. */
function parseOk(
  text: string,
  expect: NonNullable<HttpCall['expect']>,
  raw: Response,
  what: string,
  redact: (text: string) => string,
): unknown {
  if (text.trim() === '') {
    if (expect === 'json')
      throw new ApiError(
        `${what} got an empty answer (HTTP ${raw.status}) where fal sends JSON; nothing was used. Try again; if it repeats, check FALAI_BASE_URL and any proxy in between.`,
        { status: raw.status, retryable: false },
      );
    return undefined;
  }
  try {
    return parseJsonExact(text);
  } catch {
    if (expect === 'any') return text;
    const type = raw.headers.get('content-type') ?? 'no content type';
    const start = redact(text.trim().slice(0, 80)).replace(/\s+/g, ' ');
    throw new ApiError(
      `${what} got an answer that is not JSON (HTTP ${raw.status}, ${type}, starting ${JSON.stringify(start)}); fal always answers JSON, so this came from something in between (a proxy or captive portal) and was not used. Check your network and FALAI_BASE_URL, then try again.`,
      { status: raw.status, retryable: false, details: { status: raw.status, contentType: type } },
    );
  }
}

function tooLarge(
  what: string,
  received: number,
  max: number,
  call: HttpCall,
  status: number,
): ApiError {
  return new ApiError(
    `${what} got an answer larger than the ${formatBytes(max)} cap (at least ${formatBytes(received)}); it was not read further. ${call.maxBodyHint ?? 'Raise the cap if the answer is expected to be this large.'}`,
    {
      status,
      retryable: false,
      details: { status, maxBytes: max, receivedBytes: received },
      ...(call.requestId ? { requestId: call.requestId } : {}),
    },
  );
}

function stallError(what: string, idleMs: number, attempts: number, call: HttpCall): NetworkError {
  return new NetworkError(
    `${what} stalled: nothing was sent or received for ${idleMs} ms${attempts > 1 ? ` (${attempts} attempts)` : ''}. Check your connection and try again${call.operation === 'upload' ? ', or raise the upload idle timeout (uploadIdleTimeoutMs)' : ''}.`,
    { details: { code: 'STALLED', idleTimeoutMs: idleMs, attempts } },
  );
}
