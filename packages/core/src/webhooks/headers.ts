import type { WebhookHeaders } from './types.js';

/** The four signature headers fal sends with every delivery (fal API reference §7). */
export const WEBHOOK_HEADERS = {
  requestId: 'x-fal-webhook-request-id',
  userId: 'x-fal-webhook-user-id',
  timestamp: 'x-fal-webhook-timestamp',
  signature: 'x-fal-webhook-signature',
} as const;

/**
 * Reads one header from any of the accepted header shapes, case-insensitively. A repeated
 * header (an array) is ambiguous for a signature, so it reads as `null` too.
 */
export function readHeader(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const value = (headers as { get: (name: string) => string | null }).get(name);
    return value ?? undefined;
  }
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  let value = record[name];
  if (value === undefined) {
    const wanted = name.toLowerCase();
    for (const [key, candidate] of Object.entries(record)) {
      if (key.toLowerCase() === wanted) {
        value = candidate;
        break;
      }
    }
  }
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  return value.length === 1 ? value[0] : '';
}
