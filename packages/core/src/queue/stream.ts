import { ApiError, FalaiError, NetworkError } from '../errors/index.js';
import { parseJsonExact } from '../json/index.js';
import { abortedError } from './errors.js';
import { type HttpCall, type HttpContext, httpCall } from './http.js';
import { normaliseStatus } from './status.js';
import type { QueueStatus } from './types.js';

/**
 * The slice of eventsource-parser 3.x we use, typed here: the package's `source` export
 * condition would point our `source`-condition typecheck at its raw .ts files. The
 * specifier is a constant so TypeScript does not resolve it.
 */
type CreateParser = (callbacks: {
  onEvent: (event: { data: string }) => void;
  onComment?: (comment: string) => void;
}) => {
  feed(chunk: string): void;
};
const SSE_PARSER_MODULE = 'eventsource-parser';

/** Options of {@link streamStatusEvents}. */
export interface StreamCall
  extends Omit<HttpCall, 'responseType' | 'method' | 'operation' | 'auth'> {
  readonly idleTimeoutMs: number;
  /** Largest single event (and largest run of bytes without one); past it: API_ERROR. */
  readonly maxEventBytes: number;
}

/**
 * Follows fal's status stream (§4): one `data:` JSON status per event, keep-alive
 * comments, closed after COMPLETED. Yields normalised statuses and ends after the
 * completed one. A stream that ends early, goes silent past `idleTimeoutMs` or sends
 * invalid JSON raises NetworkError, so `wait` can fall back to polling.
 */
export async function* streamStatusEvents(
  ctx: HttpContext,
  call: StreamCall,
): AsyncGenerator<QueueStatus, void, undefined> {
  const response = await httpCall(ctx, {
    ...call,
    operation: 'stream',
    method: 'GET',
    auth: true,
    responseType: 'stream',
  });
  const body = response.data as ReadableStream<Uint8Array> | undefined;
  const context = {
    operation: 'stream',
    ...(call.endpointId ? { endpointId: call.endpointId } : {}),
    ...(call.requestId ? { requestId: call.requestId } : {}),
  };
  if (!body) {
    response.abort();
    throw new NetworkError(`The status stream of request ${call.requestId} had no body.`);
  }
  // Lazy: the SSE parser only loads when a stream is followed.
  const { createParser } = (await import(SSE_PARSER_MODULE)) as { createParser: CreateParser };
  const pending: string[] = [];
  // Bytes fed since the parser last completed an event: bounds what a stream that never ends
  // an event can make the parser hold.
  let sinceEvent = 0;
  const parser = createParser({
    onEvent: (event) => {
      sinceEvent = 0;
      pending.push(event.data);
    },
    onComment: () => {
      sinceEvent = 0;
    },
  });
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let idle = false;
  let idleTimer: NodeJS.Timeout | undefined;
  const armIdle = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      idle = true;
      response.abort();
    }, call.idleTimeoutMs);
  };
  try {
    armIdle();
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (call.signal?.aborted) throw abortedError(context, call.signal.reason);
        if (idle)
          throw new NetworkError(
            `The status stream of request ${call.requestId} was silent for ${call.idleTimeoutMs} ms.`,
            { details: { requestId: call.requestId } },
          );
        throw new NetworkError(`The status stream of request ${call.requestId} broke.`, {
          cause: error,
          details: { requestId: call.requestId },
        });
      }
      if (chunk.done) break;
      armIdle();
      sinceEvent += chunk.value.byteLength;
      parser.feed(decoder.decode(chunk.value, { stream: true }));
      if (sinceEvent > call.maxEventBytes)
        throw new ApiError(
          `The status stream of request ${call.requestId} sent more than ${call.maxEventBytes} bytes without completing an event; it was closed. Raise maxStatusBytes if fal really sends events this large.`,
          { status: response.status, retryable: false, details: { maxBytes: call.maxEventBytes } },
        );
      while (pending.length) {
        const data = pending.shift() as string;
        let parsed: unknown;
        try {
          parsed = parseJsonExact(data);
        } catch (error) {
          throw new NetworkError(
            `The status stream of request ${call.requestId} sent invalid JSON.`,
            { cause: error, details: { requestId: call.requestId } },
          );
        }
        const status = normaliseStatus(parsed, context);
        yield status;
        if (status.state === 'completed') return;
      }
    }
    throw new NetworkError(
      `The status stream of request ${call.requestId} ended before the request completed.`,
      { details: { requestId: call.requestId } },
    );
  } catch (error) {
    if (FalaiError.isInstance(error)) throw error;
    throw new NetworkError(`The status stream of request ${call.requestId} failed.`, {
      cause: error,
    });
  } finally {
    clearTimeout(idleTimer);
    reader.cancel().catch(() => {});
    response.abort();
  }
}
