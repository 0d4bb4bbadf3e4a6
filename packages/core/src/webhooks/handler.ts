import type { IncomingMessage, ServerResponse } from 'node:http';
import { environmentRedactor } from '../config/settings.js';
import { FalaiError, toFalaiError } from '../errors/index.js';
import { parseJsonExact } from '../json/exact.js';
import { finaliseRecord, type OutcomePatchOptions, outcomePatch } from '../lifecycle/outcome.js';
import { outcomeFromResult } from '../queue/status.js';
import type { RequestOutcome } from '../queue/types.js';
import type { Redactor } from '../redact/redactor.js';
import type { OutputSummaryOptions } from '../store/output-summary.js';
import {
  ACTIVE_STATUSES,
  type OutputFile,
  type PendingPatch,
  type PendingRecord,
} from '../store/record.js';
import type { PendingStore } from '../store/types.js';
import { saveInlineOutputs } from './inline-outputs.js';
import { parseWebhookPayload } from './payload.js';
import type { WebhookDelivery, WebhookRejectionReason } from './types.js';
import type { WebhookVerifier } from './verify.js';

/**
 * Bodies larger than this are refused with 413; the body is read as a stream and reading stops
 * at the limit. A real delivery with output URLs is a few KB; 25 MiB leaves room for outputs
 * fal inlines as data URIs. (fal's own cap on a webhook body is not published; past it fal
 * sends `payload_error` instead of the output.)
 */
export const DEFAULT_WEBHOOK_MAX_BODY_BYTES = 25 * 1024 * 1024;
/** Deliveries read or handled at once; more are answered 503 with Retry-After. */
export const DEFAULT_WEBHOOK_MAX_IN_FLIGHT = 64;
/** Body bytes all deliveries together may hold in memory; past it, 503 with Retry-After. */
export const DEFAULT_WEBHOOK_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
/** The Retry-After of a 503 answered because the receiver is busy. */
export const DEFAULT_WEBHOOK_RETRY_AFTER_SECONDS = 10;

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
      readonly reason:
        | WebhookRejectionReason
        | 'malformed-payload'
        | 'too-large'
        | 'method'
        /** Too many deliveries in flight, or too many body bytes held: 503 with Retry-After. */
        | 'busy';
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
   * Saves a completed request's outputs and records them on the store record, with their
   * provenance: core's `saveOutputs` does all of it (it also takes in the inline outputs
   * already written to `inlineOutputDir`, named by the stored result). Runs after the response
   * is sent, with the record as stored (its `result` is the bounded summary, so inline data
   * URIs are not in it: see `inlineOutputDir`). A failure is recorded in the tag `downloadError`.
   */
  readonly download?: (record: PendingRecord) => Promise<OutputFile[]>;
  /**
   * Where inline `data:` URI outputs are written before the record is finalised. The record
   * never holds their bytes: its `result` keeps `{ $omitted: 'data-uri', digest, size, mime }`,
   * plus the `path` written here and an entry in `outputs`. Without it, only the digest, size
   * and type are kept (the result endpoint on fal still has the output for a while).
   */
  readonly inlineOutputDir?: string;
  /** Limits of the output summary kept in the record (`summariseOutput`). */
  readonly outputSummary?: Omit<OutputSummaryOptions, 'files'>;
  /** Largest body accepted; past it 413, and reading stops there. @default 25 MiB */
  readonly maxBodyBytes?: number;
  /** Deliveries being read or handled at once; past it 503 with Retry-After. @default 64 */
  readonly maxInFlight?: number;
  /** Body bytes held in memory by all deliveries together; past it 503. @default 64 MiB */
  readonly maxBufferedBytes?: number;
  /** Retry-After (seconds) of a busy 503. @default 10 */
  readonly retryAfterSeconds?: number;
  /**
   * Secrets never to echo in an event or an answer, on top of the keys `redactor` holds,
   * plain or URL-encoded.
   */
  readonly secrets?: readonly string[];
  /**
   * The keys never to echo (`settings.redactor`, which learns every key resolved with the
   * settings). @default the process environment's keys (`environmentRedactor()`)
   */
  readonly redactor?: Redactor;
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

/**
 * What the receiver has done since it started: the counters a test or a health probe reads to
 * see that hostile traffic costs nothing (no body bytes read for unsigned requests).
 */
export interface WebhookHandlerStats {
  /** Requests answered without reading a byte of their body (method, headers, size, busy). */
  readonly rejectedBeforeBody: number;
  /** Answered 413: declared or counted past `maxBodyBytes`. */
  readonly tooLarge: number;
  /** Answered 503 because `maxInFlight` or `maxBufferedBytes` was reached. */
  readonly busy: number;
  /** Deliveries being read or handled now. */
  readonly inFlight: number;
  /** Body bytes held in memory now. */
  readonly bufferedBytes: number;
  /** The most body bytes held at once so far. */
  readonly peakBufferedBytes: number;
  /** Body bytes read in total. */
  readonly bodyBytesRead: number;
}

/** A node:http request listener, plus a way to wait for its background downloads. */
export interface WebhookHandler {
  (request: IncomingMessage, response: ServerResponse): void;
  /** Resolves when every download started so far has settled. */
  idle(): Promise<void>;
  /** A snapshot of the counters. */
  stats(): WebhookHandlerStats;
}

/** Why reading a body stopped early. */
class BodyRefused extends Error {
  constructor(readonly kind: 'too-large' | 'busy' | 'aborted') {
    super(kind);
  }
}

/**
 * Answers with JSON. `close` asks node:http to drop the connection after the answer instead of
 * reading (and discarding) the rest of a body we refused: a stranger's trickle ends here.
 */
function send(
  response: ServerResponse,
  status: number,
  body: Record<string, unknown>,
  extra: { readonly close?: boolean; readonly retryAfter?: number | undefined } = {},
): void {
  if (response.headersSent) return;
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...(extra.close ? { connection: 'close' } : {}),
    ...(extra.retryAfter === undefined ? {} : { 'retry-after': String(extra.retryAfter) }),
  });
  response.end(text);
}

/**
 * Replaces every secret, as it is and URL-encoded, with `[redacted]`: fal's text, a forged
 * header or a store error must never carry a key into the receiver's log.
 */
function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      if (out.includes(form)) out = out.split(form).join('[redacted]');
    }
  }
  return out;
}

function redactDeep<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  const visit = (node: unknown): unknown => {
    if (typeof node === 'string') return redactText(node, secrets);
    if (Array.isArray(node)) return node.map(visit);
    if (
      node !== null &&
      typeof node === 'object' &&
      Object.getPrototypeOf(node) === Object.prototype
    ) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(node)) {
        Object.defineProperty(out, redactText(key, secrets), {
          value: visit(item),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    return node;
  };
  return visit(value) as T;
}

/** The tag a `completed-without-payload` delivery leaves on the still-active record. */
export const WEBHOOK_PAYLOAD_ERROR_TAG = 'webhookPayloadError';

/** Options of {@link finalisePatch}. */
export interface FinalisePatchOptions extends OutcomePatchOptions {
  /**
   * The stored request the delivery is for. With it, a failure is read exactly as the result
   * endpoint's answer with the same status and body would be (`outcomeFromResult`), so the
   * record holds the same error whether the webhook or polling finalised it.
   */
  readonly request?: { readonly requestId: string; readonly endpointId: string };
}

/**
 * The store patch that finalises a record: the lifecycle's one outcome rule (`outcomePatch`),
 * so a record finalised by webhook is indistinguishable from a polled or waited one. The
 * output goes through `summariseOutput`: the record keeps a bounded summary with references,
 * never inline data URIs or huge values. Undefined for `completed-without-payload`: that
 * delivery must not finalise the record.
 */
export function finalisePatch(
  delivery: WebhookDelivery,
  options: FinalisePatchOptions = {},
): PendingPatch | undefined {
  const { outcome } = delivery;
  if (outcome.state === 'completed-without-payload') return undefined;
  const { request, ...patchOptions } = options;
  if (outcome.state === 'failed' && request) {
    return outcomePatch(asResultFailure(outcome.error, request), patchOptions);
  }
  return outcomePatch(outcome, patchOptions);
}

/**
 * A delivery's failure as the result endpoint reports it: fal's webhook carries the status
 * (in `error`) and the result endpoint's body (`payload`: `detail`, `error_type`), which
 * `parseWebhookPayload` keeps in the error's details.
 */
function asResultFailure(
  error: FalaiError,
  request: { readonly requestId: string; readonly endpointId: string },
): RequestOutcome {
  const details = (error.details ?? {}) as {
    status?: unknown;
    detail?: unknown;
    errorType?: unknown;
  };
  const status = typeof details.status === 'number' ? details.status : 500;
  const errorType = typeof details.errorType === 'string' ? details.errorType : undefined;
  return outcomeFromResult(
    {
      status,
      statusText: '',
      headers: new Headers(errorType ? { 'x-fal-error-type': errorType } : {}),
      data: {
        ...(details.detail === undefined ? {} : { detail: details.detail }),
        ...(errorType ? { error_type: errorType } : {}),
      },
    },
    request,
  );
}

/**
 * A node:http listener that receives fal webhooks. Before reading a byte of the body it checks
 * the method, the signature headers (present, well formed, timestamp in the window: else 401),
 * the declared size (413 past `maxBodyBytes`) and its own load (503 with Retry-After past
 * `maxInFlight` deliveries or `maxBufferedBytes` held); each refusal closes the connection.
 * Then it reads the body as a stream, stopping at the limit (413), verifies the signature
 * (401 with `{ok:false, reason}`, 503 when the JWKS cannot be loaded so fal tries again),
 * normalises it and finalises the record with a conditional update (`queued`/`running` →
 * terminal), so a replay or a second receiver sharing the store changes nothing and gets
 * `{"ok":true,"duplicate":true}`. The record keeps a bounded summary of the output
 * (`summariseOutput`); inline data URIs are written to `inlineOutputDir` first when it is set.
 * An unknown request id is answered 404 for `unknownGraceMs` after its first delivery (the
 * webhook may beat the submitter's store write, and fal retries non-2xx), then 200
 * `{"ok":true,"unknown":true}` so fal stops retrying. A completed delivery without its output
 * (`payload_error`) does not finalise: the record stays active, tagged `webhookPayloadError`,
 * answered 200 `{"payloadPending":true}`, and polling fetches the result. The answer is sent
 * as soon as the store is updated; downloads run afterwards. No event and no answer carries a
 * FAL_KEY (see `secrets`).
 */
export function createWebhookHandler(options: WebhookHandlerOptions): WebhookHandler {
  const limit = options.maxBodyBytes ?? DEFAULT_WEBHOOK_MAX_BODY_BYTES;
  const maxInFlight = options.maxInFlight ?? DEFAULT_WEBHOOK_MAX_IN_FLIGHT;
  const maxBuffered = options.maxBufferedBytes ?? DEFAULT_WEBHOOK_MAX_BUFFERED_BYTES;
  const retryAfter = options.retryAfterSeconds ?? DEFAULT_WEBHOOK_RETRY_AFTER_SECONDS;
  const graceMs = options.unknownGraceMs ?? 600_000;
  const clock = options.now ?? Date.now;
  const counters = {
    rejectedBeforeBody: 0,
    tooLarge: 0,
    busy: 0,
    inFlight: 0,
    bufferedBytes: 0,
    peakBufferedBytes: 0,
    bodyBytesRead: 0,
  };
  /** Read at each use: a key resolved after start-up is still kept out. */
  const redactor = options.redactor ?? environmentRedactor();
  const secrets = (): string[] =>
    [...new Set([...(options.secrets ?? []), ...redactor.secrets()])]
      .filter((secret) => secret.length >= 8)
      .sort((a, b) => b.length - a.length);
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
      options.onDelivery?.(redactEvent(event, secrets()));
    } catch {
      // A failing observer must not break deliveries.
    }
  };
  const answer = (
    response: ServerResponse,
    status: number,
    body: Record<string, unknown>,
    extra?: Parameters<typeof send>[3],
  ): void => send(response, status, redactDeep(body, secrets()), extra);
  const rejectWith = (
    response: ServerResponse,
    status: number,
    reason: Extract<WebhookEvent, { kind: 'rejected' }>['reason'],
    message: string,
    extra?: Parameters<typeof send>[3],
  ): void => {
    answer(response, status, { ok: false, reason, message }, extra);
    emit({ kind: 'rejected', status, reason, message });
  };
  /** Refuses a request before its body is read, and drops the connection. */
  const refuseUnread = (
    response: ServerResponse,
    status: number,
    reason: Extract<WebhookEvent, { kind: 'rejected' }>['reason'],
    message: string,
    retry?: number,
  ): void => {
    counters.rejectedBeforeBody += 1;
    if (status === 413) counters.tooLarge += 1;
    if (reason === 'busy') counters.busy += 1;
    rejectWith(response, status, reason, message, { close: true, retryAfter: retry });
  };

  /**
   * Reads the body as a stream, counting every byte against the body limit and the shared
   * budget; stops at the first byte too many. The bytes stay counted in `bufferedBytes` until
   * `release` (after the delivery is handled), since they are still in memory until then.
   */
  const readBody = (request: IncomingMessage): { body: Promise<Buffer>; release(): void } => {
    let held = 0;
    const body = new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const stop = (error: BodyRefused | undefined, value?: Buffer) => {
        request.off('data', onData);
        request.off('end', onEnd);
        request.off('close', onClose);
        if (error) {
          request.pause();
          reject(error);
        } else resolve(value!);
      };
      const onData = (chunk: Buffer) => {
        if (held + chunk.length > limit) return stop(new BodyRefused('too-large'));
        if (counters.bufferedBytes + chunk.length > maxBuffered) {
          return stop(new BodyRefused('busy'));
        }
        held += chunk.length;
        counters.bufferedBytes += chunk.length;
        counters.bodyBytesRead += chunk.length;
        counters.peakBufferedBytes = Math.max(counters.peakBufferedBytes, counters.bufferedBytes);
        chunks.push(chunk);
      };
      const onEnd = () => stop(undefined, Buffer.concat(chunks, held));
      const onClose = () => {
        if (!request.complete) stop(new BodyRefused('aborted'));
      };
      request.on('data', onData);
      request.on('end', onEnd);
      request.on('close', onClose);
    });
    return {
      body,
      release() {
        counters.bufferedBytes -= held;
        held = 0;
      },
    };
  };

  const runDownload = (record: PendingRecord): void => {
    const download = options.download;
    if (!download) return;
    const task = (async () => {
      try {
        const outputs = await download(record);
        emit({ kind: 'downloaded', requestId: record.requestId, outputs });
      } catch (error) {
        const message = toFalaiError(error).message;
        emit({ kind: 'download-failed', requestId: record.requestId, message });
        try {
          const current = await options.store.get(record.requestId);
          await options.store.update(record.requestId, {
            tags: {
              ...(current?.tags ?? {}),
              downloadError: redactText(message, secrets()).slice(0, 500),
            },
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
   * The patch for a delivery about to finalise `record`: inline data URIs are written to
   * `inlineOutputDir` first (when set), so the summary can name their files. A failure to
   * write them does not hold up the record: it keeps digest, size and type, and the tag
   * `downloadError` says what went wrong.
   */
  const patchFor = async (
    delivery: WebhookDelivery,
    record: PendingRecord,
  ): Promise<PendingPatch> => {
    const summary = {
      ...options.outputSummary,
      request: { requestId: record.requestId, endpointId: record.endpointId },
    };
    const { outcome } = delivery;
    if (outcome.state !== 'completed' || options.inlineOutputDir === undefined) {
      return finalisePatch(delivery, summary) ?? {};
    }
    try {
      const saved = await saveInlineOutputs(outcome.output, {
        dir: options.inlineOutputDir,
        requestId: record.requestId,
      });
      const patch = finalisePatch(delivery, {
        ...summary,
        files: saved.files,
        outputs: saved.outputs,
      });
      return patch ?? {};
    } catch (error) {
      const message = `Could not save the inline outputs to ${options.inlineOutputDir}: ${toFalaiError(error).message}`;
      emit({ kind: 'download-failed', requestId: record.requestId, message });
      const patch = finalisePatch(delivery, summary) ?? {};
      const tags = {
        ...(record.tags ?? {}),
        downloadError: redactText(message, secrets()).slice(0, 500),
      };
      return { ...patch, tags };
    }
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
    const outcome = await options.store.update(id, { tags }, { status: ACTIVE_STATUSES });
    if (outcome.kind === 'missing') return false;
    firstSeenUnknown.delete(delivery.requestId);
    if (outcome.kind === 'conflict') {
      answer(response, 200, { ok: true, duplicate: true, requestId: id });
      emit({ kind: 'duplicate', delivery, record: outcome.current });
      return true;
    }
    const status = outcome.record.status;
    answer(response, 200, { ok: true, requestId: id, status, payloadPending: true });
    emit({
      kind: 'payload-pending',
      requestId: id,
      message: `fal completed the request but could not put its output in the webhook (${payloadError.slice(0, 500)}); falai poll fetches it from fal.`,
    });
    return true;
  };

  /** Everything after the body is read: verify, parse, finalise. */
  const deliver = async (
    request: IncomingMessage,
    response: ServerResponse,
    rawBody: Buffer,
  ): Promise<void> => {
    const verification = await options.verifier.verify({ headers: request.headers, rawBody });
    if (!verification.ok) {
      const status = verification.reason === 'jwks-unavailable' ? 503 : 401;
      rejectWith(response, status, verification.reason, verification.message);
      return;
    }
    let delivery: WebhookDelivery;
    try {
      // fal's text can quote anything, a key included: out before anything reads it.
      // Exact JSON: fal's 64-bit seeds keep their digits (fal-api-reference.md §14).
      const json = parseJsonExact(rawBody.toString('utf8'));
      delivery = parseWebhookPayload(redactDeep(json, secrets()));
    } catch (error) {
      const message = FalaiError.isInstance(error)
        ? error.message
        : 'Not a fal webhook body: invalid JSON.';
      rejectWith(response, 400, 'malformed-payload', message);
      return;
    }

    try {
      // fal may re-key a retried request: the record is under request_id, else the gateway id.
      const ids = [delivery.requestId, delivery.gatewayRequestId].filter(
        (id, index, all): id is string => id !== undefined && all.indexOf(id) === index,
      );
      let prepared: PendingPatch | undefined;
      for (const id of ids) {
        if (delivery.outcome.state === 'completed-without-payload') {
          const { payloadError } = delivery.outcome;
          const done = await notePayloadError(id, delivery, payloadError, response);
          if (done) return;
          continue;
        }
        const current = await options.store.get(id);
        if (!current) continue;
        // Files are written only for a request that is still waiting for its outcome.
        if (ACTIVE_STATUSES.includes(current.status))
          prepared ??= await patchFor(delivery, current);
        const outcome = await finaliseRecord(options.store, id, prepared ?? {});
        if (outcome.kind === 'updated') {
          firstSeenUnknown.delete(delivery.requestId);
          answer(response, 200, { ok: true, requestId: id, status: outcome.record.status });
          emit({ kind: 'finalised', delivery, record: outcome.record });
          if (outcome.record.status === 'completed') {
            runDownload(outcome.record);
          }
          return;
        }
        if (outcome.kind === 'conflict') {
          answer(response, 200, { ok: true, duplicate: true, requestId: id });
          emit({ kind: 'duplicate', delivery, record: outcome.current });
          return;
        }
      }
    } catch (error) {
      const message = toFalaiError(error).message;
      answer(response, 503, { ok: false, reason: 'store-error', message });
      emit({ kind: 'store-error', requestId: delivery.requestId, message });
      return;
    }
    if (stillInGrace(delivery.requestId)) {
      answer(response, 404, {
        ok: false,
        reason: 'unknown-request',
        message: `No pending request ${delivery.requestId} in the store yet; deliver again later.`,
      });
      emit({ kind: 'unknown', delivery, retrying: true });
      return;
    }
    answer(response, 200, { ok: true, unknown: true, requestId: delivery.requestId });
    emit({ kind: 'unknown', delivery, retrying: false });
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method === 'GET' || request.method === 'HEAD') {
      // A health check for proxies, tunnels and start-up scripts; not a delivery.
      send(response, 200, { ok: true, service: 'falai webhook receiver' });
      return;
    }
    if (request.method !== 'POST') {
      response.setHeader('allow', 'POST');
      refuseUnread(response, 405, 'method', 'Webhook deliveries are POST requests.');
      return;
    }
    // Everything that can be decided from the headers is decided before the body is read.
    const checked = options.verifier.checkHeaders(request.headers);
    if (!checked.ok) {
      refuseUnread(response, 401, checked.reason, checked.message);
      return;
    }
    const declaredText = request.headers['content-length'];
    const declared = declaredText === undefined ? undefined : Number(declaredText);
    if (declared !== undefined && declared > limit) {
      refuseUnread(response, 413, 'too-large', `The body exceeds ${limit} bytes.`);
      return;
    }
    if (
      counters.inFlight >= maxInFlight ||
      counters.bufferedBytes +
        (declared !== undefined && Number.isFinite(declared) ? declared : 0) >
        maxBuffered
    ) {
      refuseUnread(
        response,
        503,
        'busy',
        `The receiver is busy (${counters.inFlight} deliveries in flight); deliver again in ${retryAfter} s.`,
        retryAfter,
      );
      return;
    }
    counters.inFlight += 1;
    const reading = readBody(request);
    try {
      let rawBody: Buffer;
      try {
        rawBody = await reading.body;
      } catch (error) {
        if (!(error instanceof BodyRefused)) throw error;
        if (error.kind === 'too-large') {
          counters.tooLarge += 1;
          rejectWith(response, 413, 'too-large', `The body exceeds ${limit} bytes.`, {
            close: true,
          });
        } else if (error.kind === 'busy') {
          counters.busy += 1;
          rejectWith(
            response,
            503,
            'busy',
            `The receiver holds too many delivery bytes; deliver again in ${retryAfter} s.`,
            { close: true, retryAfter },
          );
        }
        return;
      }
      await deliver(request, response, rawBody);
    } finally {
      reading.release();
      counters.inFlight -= 1;
    }
  };

  const handler = ((request: IncomingMessage, response: ServerResponse) => {
    handle(request, response).catch((error: unknown) => {
      const message = toFalaiError(error).message;
      answer(response, 500, { ok: false, reason: 'internal', message });
    });
  }) as WebhookHandler;
  handler.idle = async () => {
    while (background.size > 0) await Promise.allSettled([...background]);
  };
  handler.stats = () => ({ ...counters });
  return handler;
}

/** The event with every secret taken out of the text a log line is made of. */
function redactEvent(event: WebhookEvent, secrets: readonly string[]): WebhookEvent {
  if (secrets.length === 0) return event;
  switch (event.kind) {
    case 'finalised':
    case 'duplicate':
      return {
        ...event,
        delivery: redactDelivery(event.delivery, secrets),
        record: redactDeep(event.record, secrets),
      };
    case 'unknown':
      return { ...event, delivery: redactDelivery(event.delivery, secrets) };
    case 'downloaded':
      return {
        ...event,
        requestId: redactText(event.requestId, secrets),
        outputs: redactDeep(event.outputs, secrets),
      };
    case 'rejected':
      return { ...event, message: redactText(event.message, secrets) };
    default:
      return {
        ...event,
        requestId: redactText(event.requestId, secrets),
        message: redactText(event.message, secrets),
      };
  }
}

/** The ids of a delivery without secrets; its outcome (fal's data) is passed on as it came. */
function redactDelivery(delivery: WebhookDelivery, secrets: readonly string[]): WebhookDelivery {
  return {
    ...delivery,
    requestId: redactText(delivery.requestId, secrets),
    ...(delivery.gatewayRequestId === undefined
      ? {}
      : { gatewayRequestId: redactText(delivery.gatewayRequestId, secrets) }),
  };
}
