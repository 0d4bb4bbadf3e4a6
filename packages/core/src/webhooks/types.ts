import type { RequestOutcome } from '../queue/index.js';

/**
 * Shapes shared by the webhook verifier, payload parser and receiver. Kept in one
 * small file so the CLI and other packages can import types without pulling code.
 */

/** Why a delivery was rejected. Stable strings: receivers answer them in JSON and log them. */
export type WebhookRejectionReason =
  | 'missing-header'
  | 'malformed-header'
  | 'stale'
  | 'future'
  | 'bad-signature'
  | 'no-keys'
  | 'jwks-unavailable';

/**
 * The result of checking one delivery. A typed value rather than an exception, because a
 * rejected delivery is an expected event for a public endpoint, not a bug.
 */
export type WebhookVerification =
  | {
      readonly ok: true;
      /** From `X-Fal-Webhook-Request-Id` (signed). */
      readonly requestId: string;
      /** From `X-Fal-Webhook-User-Id` (signed). */
      readonly userId: string;
      /** From `X-Fal-Webhook-Timestamp`, Unix seconds (signed). */
      readonly timestamp: number;
      /** The `kid` of the JWKS key that verified the signature, when the JWKS names its keys. */
      readonly keyId?: string;
    }
  | {
      readonly ok: false;
      readonly reason: WebhookRejectionReason;
      /** One sentence for logs and the 401 body; never holds key material. */
      readonly message: string;
    };

/**
 * Request headers as node:http (`IncomingHttpHeaders`), a fetch `Headers`, or a plain
 * record. Lookup is case-insensitive in every form.
 */
export type WebhookHeaders =
  | { readonly get: (name: string) => string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/** What `verify` needs: the headers and the body bytes exactly as received. */
export interface WebhookVerifyInput {
  readonly headers: WebhookHeaders;
  /** The raw body. A string is taken as UTF-8; never pass re-serialised JSON. */
  readonly rawBody: Uint8Array | string;
  /** The current time for this check, in epoch milliseconds (or a Date). Defaults to the verifier's clock. */
  readonly now?: number | Date;
}

/** A minimal `fetch`, so tests and runtimes can inject their own. */
export type WebhookFetch = (
  url: string,
  init?: { readonly signal?: AbortSignal; readonly headers?: Record<string, string> },
) => Promise<Response>;

/** Drops `endpointId` from each member of a union. */
type WithoutEndpoint<T> = T extends unknown ? Omit<T, 'endpointId'> : never;

/**
 * A `status: "OK"` delivery whose output fal could not serialise into the webhook
 * (`payload: null` plus `payload_error`, fal-api-reference.md §7). The request completed and
 * its result endpoint still has the output, so this is not a terminal state for falai: the
 * record stays active and polling fetches the real result.
 */
export interface WebhookPayloadMissing {
  readonly state: 'completed-without-payload';
  readonly requestId: string;
  /** fal's `payload_error` text. */
  readonly payloadError: string;
}

/**
 * What a delivery reports: the queue client's terminal `RequestOutcome` without `endpointId`
 * (a delivery does not carry it; the stored record does), or {@link WebhookPayloadMissing}.
 * Failures are `FalaiError`s as `result()` raises them, so callers handle both paths alike;
 * see `toRequestOutcome` to get the full type back.
 */
export type WebhookOutcome = WithoutEndpoint<RequestOutcome> | WebhookPayloadMissing;

/** One delivery, normalised from fal's JSON body. */
export interface WebhookDelivery {
  readonly requestId: string;
  /** The id of the last attempt, when fal retried the request internally. */
  readonly gatewayRequestId?: string;
  readonly outcome: WebhookOutcome;
}
