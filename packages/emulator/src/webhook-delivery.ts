import type { Job } from './jobs.js';
import { pythonDumps } from './json.js';
import type { LoggedRequest } from './types.js';
import { isLoopbackUrl, type WebhookSigner } from './webhooks.js';

/** What a delivery needs from the emulator. */
export interface DeliveryContext {
  signer: WebhookSigner;
  /** Waits before each retry, in ms; its length is the number of retries. */
  retryDelays: readonly number[];
  /** Set when this delivery goes out without its payload (`payload_error`). */
  payloadError?: string | undefined;
  record(entry: LoggedRequest): void;
  signal: AbortSignal;
}

/** fal retries a failed delivery 10 times over 2 hours (reference §7). */
export const FAL_WEBHOOK_RETRIES = 10;
export const FAL_WEBHOOK_SPAN_MS = 2 * 60 * 60 * 1000;

/**
 * [?] fal documents the count and the span of its retries, not the waits between them: the
 * emulator doubles each wait, so that `retries` waits add up to `spanMs` (10 over 2 h:
 * 7.0 s, 14.1 s, … 60 min).
 */
export function retrySchedule(retries: number, spanMs: number): number[] {
  if (retries <= 0) return [];
  const first = spanMs / (2 ** retries - 1);
  return Array.from({ length: retries }, (_, index) => first * 2 ** index);
}

/** [?] fal's wording of `payload_error` is not documented; this text is a guess. */
export const DEFAULT_PAYLOAD_ERROR =
  'The output could not be included in the webhook payload; fetch it from the response_url.';

/**
 * The webhook body fal posts on completion (reference §7, §14). `error` is always present
 * (null on success), `gateway_request_id` equals `request_id`.
 */
export function webhookBody(job: Job, payloadError?: string): Record<string, unknown> {
  const result = job.result;
  const base = {
    request_id: job.info.requestId,
    gateway_request_id: job.info.requestId,
  };
  const ok = result !== undefined && result.status >= 200 && result.status < 300;
  const body: Record<string, unknown> = ok
    ? { ...base, status: 'OK', error: null, payload: result.body }
    : {
        ...base,
        status: 'ERROR',
        error: `Invalid status code: ${result?.status ?? 500}`,
        payload: result?.body ?? null,
      };
  if (payloadError !== undefined) {
    body.payload = null;
    body.payload_error = payloadError;
  }
  return body;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const handle = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(handle);
      resolve();
    });
  });

/**
 * Posts the signed webhook, retrying on non-2xx and connection errors. The body is serialised
 * as fal serialises it (Python `json.dumps`, keys sorted, exact 64-bit seeds) and signed over
 * those bytes. Only loopback URLs are contacted; any other URL is recorded as refused so tests
 * never reach the internet.
 */
export async function deliverWebhook(job: Job, context: DeliveryContext): Promise<void> {
  const url = job.info.webhookUrl;
  if (!url) return;
  const body = Buffer.from(pythonDumps(webhookBody(job, context.payloadError)), 'utf8');
  // The log keeps a plain parse: seeds above 2^53 are rounded there, never on the wire.
  const payload = JSON.parse(body.toString('utf8')) as unknown;
  const base = {
    method: 'POST',
    path: url,
    query: {},
    kind: 'webhook-delivery' as const,
    endpointId: job.info.endpointId,
    requestId: job.info.requestId,
    body: payload,
    rawBody: body.toString('utf8'),
  };
  if (!isLoopbackUrl(url)) {
    context.record({
      ...base,
      time: Date.now(),
      headers: {},
      status: 0,
      error: 'refused: the emulator only delivers webhooks to loopback URLs',
    });
    return;
  }
  const retries = context.retryDelays.length;
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (context.signal.aborted) return;
    const headers = {
      'content-type': 'application/json',
      ...context.signer.headers(job.info.requestId, job.info.userId, body),
    };
    const entry: LoggedRequest = { ...base, time: Date.now(), headers, status: 0 };
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: context.signal,
      });
      await response.arrayBuffer().catch(() => undefined);
      entry.status = response.status;
      context.record(entry);
      if (response.ok) return;
    } catch (error) {
      if (context.signal.aborted) return;
      entry.error = (error as Error).message;
      context.record(entry);
    }
    const wait = context.retryDelays[attempt];
    if (wait !== undefined) await sleep(wait, context.signal);
  }
}
