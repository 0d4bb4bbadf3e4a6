import type { IncomingMessage, ServerResponse } from 'node:http';
import { FalaiError, toFalaiError } from '../errors/index.js';
import type { OutputFile, PendingPatch, PendingRecord } from '../store/record.js';
import type { PendingStore } from '../store/types.js';
import { parseWebhookPayload } from './payload.js';
import type { WebhookDelivery, WebhookRejectionReason } from './types.js';
import type { WebhookVerifier } from './verify.js';

/** Bodies larger than this are refused with 413 before they are buffered. */
export const DEFAULT_WEBHOOK_MAX_BODY_BYTES = 25 * 1024 * 1024;

/** What the receiver did with one request; passed to `onDelivery` (the CLI prints these). */
export type WebhookEvent =
  | {
      readonly kind: 'finalised';
      readonly delivery: WebhookDelivery;
      readonly record: PendingRecord;
    }
  /** A replay (fal retries, or two receivers got the same delivery): nothing changed. */
  | {
      readonly kind: 'duplicate';
      readonly delivery: WebhookDelivery;
      readonly record: PendingRecord;
    }
  /**
   * Verified, but the store has no such request. Within `unknownGraceMs` of its first
   * delivery it is answered 404 so fal delivers it again (`retrying: true`): the webhook can
   * beat the submitter's store write. After that it is acknowledged with 200 and dropped.
   */
  | { readonly kind: 'unknown'; readonly delivery: WebhookDelivery; readonly retrying: boolean }
  | {
      readonly kind: 'rejected';
      readonly status: number;
      readonly reason: WebhookRejectionReason | 'malformed-payload' | 'too-large' | 'method';
      readonly message: string;
    }
  | { readonly kind: 'downloaded'; readonly requestId: string; readonly outputs: OutputFile[] }
  /** Saving the outputs failed; the error is kept in the record's `downloadError` tag. */
  | { readonly kind: 'download-failed'; readonly requestId: string; readonly message: string }
  /**
   * A `completed-without-payload` delivery: fal finished but could not put the output in the
   * webhook. The record stays active, tagged `webhookPayloadError` (answered 200, so fal does
   * not retry), and polling fetches the result.
   */
  | { readonly kind: 'payload-pending'; readonly requestId: string; readonly message: string }
  /** The store failed; the delivery was answered 503 so fal delivers it again. */
  | { readonly kind: 'store-error'; readonly requestId: string; readonly message: string };

/** Options of {@link createWebhookHandler}. */
export interface WebhookHandlerOptions {
  readonly verifier: WebhookVerifier;
  readonly store: PendingStore;
  /** Called for every event, synchronously; exceptions it throws are ignored. */
  readonly onDelivery?: (event: WebhookEvent) => void;
  /**
   * Saves a completed request's outputs; runs after the response is sent. Its files are
   * written to the record's `outputs`; a failure is recorded in the tag `downloadError`.
   */
  readonly download?: (record: PendingRecord) => Promise<OutputFile[]>;
  /** @default 25 MiB */
  readonly maxBodyBytes?: number;
  /**
   * How long after the first delivery of an unknown request id it is still answered 404 (so
   * fal retries) rather than acknowledged: a fast request can finish before the submitter
   * has written its record. 0 acknowledges unknown ids at once. @default 600_000 (10 min)
   */
  readonly unknownGraceMs?: number;
  /** The clock, in epoch ms. @default Date.now */
  readonly now?: () => number;
}

/** Unknown ids remembered for the grace period; bounded so a flood cannot grow memory. */
const MAX_REMEMBERED_UNKNOWN = 10_000;

/** A node:http request listener, plus a way to wait for its background downloads. */
export interface WebhookHandler {
  (request: IncomingMessage, response: ServerResponse): void;
  /** Resolves when every download started so far has settled. */
  idle(): Promise<void>;
}

class BodyTooLarge extends Error {}

function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.removeAllListeners('data');
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: Record<string, unknown>): void {
  if (response.headersSent) return;
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...(status === 413 ? { connection: 'close' } : {}),
  });
  response.end(text);
}

/** The tag a `completed-without-payload` delivery leaves on the still-active record. */
export const WEBHOOK_PAYLOAD_ERROR_TAG = 'webhookPayloadError';

/**
 * The store patch that finalises a record: the same fields polling writes (`outcomePatch` in
 * the CLI), so a record finalised by webhook is indistinguishable from a polled one. Undefined
 * for `completed-without-payload`: that delivery must not finalise the record.
 */
export function finalisePatch(delivery: WebhookDelivery): PendingPatch | undefined {
  const { outcome } = delivery;
  switch (outcome.state) {
    case 'completed-without-payload':
      return undefined;
    case 'completed':
      return { status: 'completed', result: outcome.output, error: null, queuePosition: null };
    case 'failed': {
      const { code, message, details } = outcome.error.toJSON();
      return {
        status: 'failed',
        error: details === undefined ? { code, message } : { code, message, details },
        queuePosition: null,
      };
    }
    case 'cancelled':
      return {
        status: 'cancelled',
        error: { code: 'REQUEST_CANCELLED', message: 'The request was cancelled.' },
        queuePosition: null,
      };
  }
}

/**
 * A node:http listener that receives fal webhooks: it reads the raw body (413 past
 * `maxBodyBytes`), verifies it (401 with `{ok:false, reason}`, 503 when the JWKS cannot be
 * loaded so fal tries again), normalises it and finalises the record with a conditional update
 * (`queued`/`running` → terminal), so a replay or a second receiver sharing the store changes
 * nothing and gets `{"ok":true,"duplicate":true}`. An unknown request id is answered 404 for
 * `unknownGraceMs` after its first delivery (the webhook may beat the submitter's store
 * write, and fal retries non-2xx), then 200 `{"ok":true,"unknown":true}` so fal stops
 * retrying. A completed delivery without its output (`payload_error`) does not finalise: the
 * record stays active, tagged `webhookPayloadError`, answered 200 `{"payloadPending":true}`, and
 * polling fetches the result. The answer is sent as soon as the store is updated; downloads
 * run afterwards.
 */
export function createWebhookHandler(options: WebhookHandlerOptions): WebhookHandler {
  const limit = options.maxBodyBytes ?? DEFAULT_WEBHOOK_MAX_BODY_BYTES;
  const graceMs = options.unknownGraceMs ?? 600_000;
  const clock = options.now ?? Date.now;
  const firstSeenUnknown = new Map<string, number>();
  /** True while an unknown id is young enough to ask fal for another delivery. */
  const stillInGrace = (requestId: string): boolean => {
    if (graceMs <= 0) return false;
    const now = clock();
    let first = firstSeenUnknown.get(requestId);
    if (first === undefined) {
      if (firstSeenUnknown.size >= MAX_REMEMBERED_UNKNOWN) {
        const oldest = firstSeenUnknown.keys().next().value;
        if (oldest !== undefined) firstSeenUnknown.delete(oldest);
      }
      first = now;
      firstSeenUnknown.set(requestId, first);
    }
    if (now - first < graceMs) return true;
    firstSeenUnknown.delete(requestId);
    return false;
  };
  const background = new Set<Promise<void>>();
  const emit = (event: WebhookEvent): void => {
    try {
      options.onDelivery?.(event);
    } catch {
      // A failing observer must not break deliveries.
    }
  };
  const rejectWith = (
    response: ServerResponse,
    status: number,
    reason: Extract<WebhookEvent, { kind: 'rejected' }>['reason'],
    message: string,
  ): void => {
    send(response, status, { ok: false, reason, message });
    emit({ kind: 'rejected', status, reason, message });
  };

  const runDownload = (record: PendingRecord): void => {
    const download = options.download;
    if (!download) return;
    const task = (async () => {
      try {
        const outputs = await download(record);
        await options.store.update(record.requestId, { outputs });
        emit({ kind: 'downloaded', requestId: record.requestId, outputs });
      } catch (error) {
        const message = toFalaiError(error).message;
        emit({ kind: 'download-failed', requestId: record.requestId, message });
        try {
          const current = await options.store.get(record.requestId);
          await options.store.update(record.requestId, {
            tags: { ...(current?.tags ?? {}), downloadError: message.slice(0, 500) },
          });
        } catch {
          // The event above already reported the failure.
        }
      }
    })();
    background.add(task);
    void task.finally(() => background.delete(task));
  };

  /**
   * A completed request whose output fal could not put in the webhook: tag the active record
   * (polling fetches the result) and answer 200 so fal does not retry. False when `id` is not
   * in the store.
   */
  const notePayloadError = async (
    id: string,
    delivery: WebhookDelivery,
    payloadError: string,
    response: ServerResponse,
  ): Promise<boolean> => {
    const current = await options.store.get(id);
    if (!current) return false;
    const tags = {
      ...(current.tags ?? {}),
      [WEBHOOK_PAYLOAD_ERROR_TAG]: payloadError.slice(0, 500),
    };
    const outcome = await options.store.update(id, { tags }, { status: ['queued', 'running'] });
    if (outcome.kind === 'missing') return false;
    firstSeenUnknown.delete(delivery.requestId);
    if (outcome.kind === 'conflict') {
      send(response, 200, { ok: true, duplicate: true, requestId: id });
      emit({ kind: 'duplicate', delivery, record: outcome.current });
      return true;
    }
    const status = outcome.record.status;
    send(response, 200, { ok: true, requestId: id, status, payloadPending: true });
    emit({
      kind: 'payload-pending',
      requestId: id,
      message: `fal completed the request but could not put its output in the webhook (${payloadError}); falai poll fetches it from fal.`,
    });
    return true;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method === 'GET' || request.method === 'HEAD') {
      // A health check for proxies, tunnels and start-up scripts; not a delivery.
      request.resume();
      send(response, 200, { ok: true, service: 'falai webhook receiver' });
      return;
    }
    if (request.method !== 'POST') {
      response.setHeader('allow', 'POST');
      rejectWith(response, 405, 'method', 'Webhook deliveries are POST requests.');
      request.resume();
      return;
    }
    let rawBody: Buffer;
    try {
      rawBody = await readBody(request, limit);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        rejectWith(response, 413, 'too-large', `The body exceeds ${limit} bytes.`);
        return;
      }
      throw error;
    }
    const verification = await options.verifier.verify({ headers: request.headers, rawBody });
    if (!verification.ok) {
      const status = verification.reason === 'jwks-unavailable' ? 503 : 401;
      rejectWith(response, status, verification.reason, verification.message);
      return;
    }
    let delivery: WebhookDelivery;
    try {
      delivery = parseWebhookPayload(JSON.parse(rawBody.toString('utf8')));
    } catch (error) {
      const message = FalaiError.isInstance(error)
        ? error.message
        : 'Not a fal webhook body: invalid JSON.';
      rejectWith(response, 400, 'malformed-payload', message);
      return;
    }

    const finalPatch = finalisePatch(delivery);
    const condition = { status: ['queued', 'running'] as const };
    try {
      // fal may re-key a retried request: the record is under request_id, else the gateway id.
      const ids = [delivery.requestId, delivery.gatewayRequestId].filter(
        (id, index, all): id is string => id !== undefined && all.indexOf(id) === index,
      );
      for (const id of ids) {
        if (delivery.outcome.state === 'completed-without-payload') {
          const { payloadError } = delivery.outcome;
          const done = await notePayloadError(id, delivery, payloadError, response);
          if (done) return;
          continue;
        }
        const outcome = await options.store.update(id, finalPatch ?? {}, condition);
        if (outcome.kind === 'updated') {
          firstSeenUnknown.delete(delivery.requestId);
          send(response, 200, { ok: true, requestId: id, status: outcome.record.status });
          emit({ kind: 'finalised', delivery, record: outcome.record });
          if (outcome.record.status === 'completed') runDownload(outcome.record);
          return;
        }
        if (outcome.kind === 'conflict') {
          send(response, 200, { ok: true, duplicate: true, requestId: id });
          emit({ kind: 'duplicate', delivery, record: outcome.current });
          return;
        }
      }
    } catch (error) {
      const message = toFalaiError(error).message;
      send(response, 503, { ok: false, reason: 'store-error', message });
      emit({ kind: 'store-error', requestId: delivery.requestId, message });
      return;
    }
    if (stillInGrace(delivery.requestId)) {
      send(response, 404, {
        ok: false,
        reason: 'unknown-request',
        message: `No pending request ${delivery.requestId} in the store yet; deliver again later.`,
      });
      emit({ kind: 'unknown', delivery, retrying: true });
      return;
    }
    send(response, 200, { ok: true, unknown: true, requestId: delivery.requestId });
    emit({ kind: 'unknown', delivery, retrying: false });
  };

  const handler = ((request: IncomingMessage, response: ServerResponse) => {
    handle(request, response).catch((error: unknown) => {
      const message = toFalaiError(error).message;
      send(response, 500, { ok: false, reason: 'internal', message });
    });
  }) as WebhookHandler;
  handler.idle = async () => {
    while (background.size > 0) await Promise.allSettled([...background]);
  };
  return handler;
}
