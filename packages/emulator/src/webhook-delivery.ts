import type { Job } from './jobs.js';
import type { LoggedRequest } from './types.js';
import { isLoopbackUrl, type WebhookSigner } from './webhooks.js';

/** What a delivery needs from the emulator. */
export interface DeliveryContext {
  signer: WebhookSigner;
  retries: number;
  retryDelayMs: number;
  record(entry: LoggedRequest): void;
  signal: AbortSignal;
}

/** The webhook body fal posts on completion (reference §7). */
export function webhookBody(job: Job): Record<string, unknown> {
  const result = job.result;
  const base = { request_id: job.info.requestId, gateway_request_id: job.info.requestId };
  if (result && result.status >= 200 && result.status < 300) {
    return { ...base, status: 'OK', payload: result.body };
  }
  return {
    ...base,
    status: 'ERROR',
    error: `Invalid status code: ${result?.status ?? 500}`,
    payload: result?.body ?? null,
  };
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
 * Posts the signed webhook, retrying on non-2xx and connection errors. Only loopback URLs are
 * contacted; any other URL is recorded as refused so tests never reach the internet.
 */
export async function deliverWebhook(job: Job, context: DeliveryContext): Promise<void> {
  const url = job.info.webhookUrl;
  if (!url) return;
  const body = Buffer.from(JSON.stringify(webhookBody(job)), 'utf8');
  const payload = JSON.parse(body.toString('utf8')) as unknown;
  const base = {
    method: 'POST',
    path: url,
    query: {},
    kind: 'webhook-delivery' as const,
    endpointId: job.info.endpointId,
    requestId: job.info.requestId,
    body: payload,
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
  for (let attempt = 0; attempt <= context.retries; attempt++) {
    if (context.signal.aborted) return;
    const headers = {
      'content-type': 'application/json',
      ...context.signer.headers(job.info.requestId, job.userId, body),
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
    if (attempt < context.retries) await sleep(context.retryDelayMs, context.signal);
  }
}
